"""A config as the Configs page draws it: the plan's tree, and what each node inherits.

Built by the gateway's own resolver (:func:`~strands_portkey.config.resolve.build_plan`), so the
page shows exactly what a request would run: each strategy node's mode, weights, conditions and
status codes; each leaf's provider and model, and which settings it takes from its ancestors
(``override_params`` keys, ``retry``, ``cache``, ``request_timeout``, ``custom_host``,
``forward_headers``, hooks -- with the path where each hook was written). A config that does not
validate answers its error with the JSON path of the node at fault, for the page to mark it.
Never a secret: an inline ``api_key`` shows as ``set``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ....config.hooks import HookConfig
from ....config.plan import LeafPlan, PlanNode
from ....config.resolve import build_plan
from ....errors import GatewayError

__all__ = ["config_tree"]

_HOOK_FIELDS = {"before": ("before_request_hooks", "input_guardrails", "input_mutators"),
                "after": ("after_request_hooks", "output_guardrails", "output_mutators")}  # fmt: skip


def _hooks(hooks: tuple[HookConfig, ...]) -> list[dict[str, Any]]:
    return [{"id": hook.id, "written_at": hook.path, "deny": hook.deny} for hook in hooks]


def _inherited(leaf: LeafPlan, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The settings ``leaf`` runs with that its own node does not set."""
    out: dict[str, Any] = {}
    own_params = raw.get("override_params") or {}
    params = {k: v for k, v in leaf.override_params.items() if k not in own_params}
    if params:
        out["override_params"] = params
    if leaf.retry is not None and "retry" not in raw:
        out["retry"] = {
            "attempts": leaf.retry.attempts,
            "on_status_codes": sorted(leaf.retry.on_status_codes),
        }
    if leaf.cache is not None and "cache" not in raw:
        out["cache"] = {"mode": leaf.cache.mode, "max_age": leaf.cache.max_age_s}
    if leaf.request_timeout_ms is not None and "request_timeout" not in raw:
        out["request_timeout"] = leaf.request_timeout_ms
    if leaf.custom_host and "custom_host" not in raw:
        out["custom_host"] = leaf.custom_host
    if leaf.forward_headers and "forward_headers" not in raw:
        out["forward_headers"] = list(leaf.forward_headers)
    for kind, hooks in (("before", leaf.before_hooks), ("after", leaf.after_hooks)):
        if hooks and not any(raw.get(name) for name in _HOOK_FIELDS[kind]):
            out[f"{kind}_hooks"] = _hooks(hooks)
    return out


def _tree(node: PlanNode, raw: Mapping[str, Any]) -> dict[str, Any]:
    common = {"path": node.path, "name": node.name, "weight": node.weight}
    if isinstance(node, LeafPlan):
        params = node.override_params
        return common | {
            "kind": "leaf",
            "provider": node.provider or ("virtual key" if node.virtual_key else None),
            "virtual_key": node.virtual_key,
            "api_key": "set" if node.api_key is not None else None,
            "model": params.get("model"),
            "prompt_id": node.prompt_id,
            "retry": {"attempts": node.retry.attempts} if node.retry else None,
            "cache": node.cache.mode if node.cache else None,
            "inherited": _inherited(node, raw),
        }
    children = raw.get("targets") or []
    return common | {
        "kind": "strategy",
        "mode": node.mode,
        "on_status_codes": sorted(node.on_status_codes) if node.on_status_codes else None,
        "conditions": [{"target": c.target} for c in node.conditions],
        "default": node.default,
        "targets": [
            _tree(child, children[i] if i < len(children) and isinstance(children[i], Mapping) else {})
            for i, child in enumerate(node.targets)
        ],
    }


def config_tree(config: Mapping[str, Any]) -> dict[str, Any]:
    """``{"valid": True, "tree": ...}``, or ``{"valid": False, "error": {"message", "path"}}``."""
    try:
        plan = build_plan(config)
    except GatewayError as error:
        path = getattr(error, "path", None)
        return {"valid": False, "tree": None, "error": {"message": error.message, "path": path or "config"}}
    return {"valid": True, "tree": _tree(plan, config), "error": None}
