"""What a Portkey config does, for people: its plan tree, and a sample request's way through it.

The CLI's ``configs explain`` draws these; pure, no I/O, no terminal library.

:func:`plan_tree` gives the plan as JSON: strategies with their targets, and for each leaf the
settings it runs with (``retry``, ``cache``, ``request_timeout``, ``custom_host``,
``forward_headers``, ``override_params``, hooks) and where each comes from: ``own``, or the path
of the parent it inherits it from (``override_params`` merge: every contributor is named).
:func:`walk_sample` says, one line per step, where a request with a body and metadata would go.
A credential written in the config is never part of either.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .plan import LeafPlan, PlanNode

__all__ = ["plan_tree", "setting_text", "walk_sample"]

_INDEX = re.compile(r"\.targets\[(\d+)\]")
# Settings a target inherits from its parents, and the config keys that set each.
_INHERITED: dict[str, tuple[str, ...]] = {
    "retry": ("retry",),
    "cache": ("cache",),
    "request_timeout": ("request_timeout",),
    "custom_host": ("custom_host",),
    "forward_headers": ("forward_headers",),
    "override_params": ("override_params",),
    "before_hooks": ("before_request_hooks", "input_guardrails", "input_mutators"),
    "after_hooks": ("after_request_hooks", "output_guardrails", "output_mutators"),
}


def _chain(raw: Mapping[str, Any], path: str) -> list[tuple[str, Mapping[str, Any]]]:
    """The raw nodes from the root to ``path`` (``config.targets[1].targets[0]``), with their paths."""
    nodes: list[tuple[str, Mapping[str, Any]]] = [("config", raw)]
    here, node = "config", raw
    for index in _INDEX.findall(path):
        here, node = f"{here}.targets[{index}]", node["targets"][int(index)]
        nodes.append((here, node))
    return nodes


def _shown(name: str, leaf: LeafPlan) -> Any:
    """A leaf's resolved setting as plain JSON (None when it has none)."""
    if name == "retry" and leaf.retry is not None:
        return {"attempts": leaf.retry.attempts, "on_status_codes": sorted(leaf.retry.on_status_codes)}
    if name == "cache" and leaf.cache is not None:
        return {"mode": leaf.cache.mode, "max_age": leaf.cache.max_age_s}
    if name in ("before_hooks", "after_hooks"):
        return [hook.id for hook in getattr(leaf, name)] or None
    value = {"request_timeout": leaf.request_timeout_ms}.get(name, getattr(leaf, name, None))
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, Mapping):
        value = dict(value)
    return value or None


def _settings(raw: Mapping[str, Any], leaf: LeafPlan) -> dict[str, dict[str, Any]]:
    """Each setting the leaf runs with: its value and ``from`` (``own`` or the parent's path)."""
    chain = _chain(raw, leaf.path)
    out: dict[str, dict[str, Any]] = {}
    for name, keys in _INHERITED.items():
        setters = [path for path, node in chain if any(node.get(key) is not None for key in keys)]
        value = _shown(name, leaf)
        if value is None and not setters:
            continue
        if value is None:
            value = "off"  # e.g. retry.attempts 0: set, to nothing
        if name != "override_params":
            setters = setters[-1:]
        out[name] = {"value": value, "from": ["own" if path == leaf.path else path for path in setters]}
    return out


def plan_tree(raw: Mapping[str, Any], node: PlanNode) -> dict[str, Any]:
    """The plan as JSON: strategies with their targets, leaves with their settings."""
    if isinstance(node, LeafPlan):
        where = {"provider": node.provider, "virtual_key": node.virtual_key, "prompt_id": node.prompt_id}
        return {
            "path": node.path,
            "name": node.name,
            "weight": node.weight,
            **{key: value for key, value in where.items() if value},
            "api_key_in_config": node.api_key is not None,
            "settings": _settings(raw, node),
        }
    entry: dict[str, Any] = {"path": node.path, "name": node.name, "weight": node.weight, "mode": node.mode}
    if node.on_status_codes:
        entry["on_status_codes"] = sorted(node.on_status_codes)
    if node.mode == "conditional":
        entry["conditions"] = [{"then": c.target} for c in node.conditions]
        entry["default"] = node.default
    entry["targets"] = [plan_tree(raw, child) for child in node.targets]
    return entry


def setting_text(name: str, value: Any) -> str:
    """A setting for people: ``2 retries on 429, 500``, ``5000 ms``, JSON for the rest."""
    if name == "retry" and isinstance(value, dict):
        return f"{value['attempts']} retries on {', '.join(map(str, value['on_status_codes']))}"
    if name == "cache" and isinstance(value, dict):
        return str(value["mode"]) + (f", max age {value['max_age']:g} s" if value.get("max_age") else "")
    if name == "request_timeout" and isinstance(value, (int, float)):
        return f"{value:g} ms"
    return value if isinstance(value, str) else json.dumps(value)


def _walk(node: PlanNode, context: dict[str, Any], steps: list[str], depth: int = 0, lead: str = "") -> None:
    """Append what a request with ``context`` would do at ``node`` (one line per step)."""
    pad = "  " * depth + lead
    if isinstance(node, LeafPlan):
        body = {**context["params"], **node.override_params}
        retry = f", up to {node.retry.attempts} retries" if node.retry else ""
        steps.append(
            f"{pad}{node.path}: sent to {node.provider or 'the virtual key ' + repr(node.virtual_key)} "
            f"as model {body.get('model')!r}{retry}"
        )
        return
    if node.mode == "conditional":
        chosen = next((c for c in node.conditions if c.matches(context)), None)
        index = chosen.target if chosen is not None else node.default
        if index is None:
            steps.append(f"{pad}{node.path}: no condition matches and there is no default: refused (400)")
            return
        why = (
            f"conditions[{node.conditions.index(chosen)}] matches"
            if chosen
            else "no condition matches: default"
        )
        steps.append(f"{pad}{node.path}: {why} -> targets[{index}]")
        _walk(node.targets[index], context, steps, depth + 1)
    elif node.mode == "loadbalance":
        total = sum(child.weight for child in node.targets) or 1.0
        shares = ", ".join(f"targets[{i}] {100 * c.weight / total:.0f}%" for i, c in enumerate(node.targets))
        steps.append(f"{pad}{node.path}: one target drawn by weight ({shares}); a failure goes to the parent")
        for child in node.targets:
            _walk(child, context, steps, depth + 1, "if drawn, ")
    else:
        also = " then the next on failure" if node.mode == "fallback" and len(node.targets) > 1 else ""
        steps.append(f"{pad}{node.path}: {node.mode}: targets[0] first{also}")
        if node.mode != "fallback":
            _walk(node.targets[0], context, steps, depth + 1)
            return
        for index, child in enumerate(node.targets):
            _walk(child, context, steps, depth + 1, "first, " if index == 0 else "on failure, ")


def walk_sample(plan: PlanNode, body: Mapping[str, Any], metadata: Mapping[str, Any]) -> list[str]:
    """What a chat request with ``body`` and ``metadata`` would do at each step of ``plan``."""
    steps: list[str] = []
    context = {"metadata": dict(metadata), "params": dict(body), "url": {"pathname": "/v1/chat/completions"}}
    _walk(plan, context, steps)
    return steps
