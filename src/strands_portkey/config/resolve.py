"""Portkey config -> frozen plan, validated once, errors naming the JSON path.

This is the foundation's resolver: it executes leaf configs and ``strategy.mode = "single"``
trees, with Portkey's inheritance rules for ``override_params`` (shallow merge, child wins),
``request_timeout`` and ``custom_host`` (inherited unless the child sets its own). Fallback,
load balancing, conditional routing, retry and cache belong to the routing layer; a config that
asks for them is rejected here with a message saying so rather than silently ignored.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigurationError
from ..wire import Secret
from .plan import LeafPlan, PlanNode, StrategyPlan

__all__ = ["PROVIDER_FIELDS", "SECRET_PROVIDER_FIELDS", "build_plan", "parse_config"]

_LEAF_KEYS = frozenset(
    {
        "provider",
        "api_key",
        "virtual_key",
        "custom_host",
        "override_params",
        "request_timeout",
        "name",
        "weight",
    }
)
# Provider-specific fields a leaf may carry; adapters read them from ``Target.options``.
PROVIDER_FIELDS = frozenset(
    {
        "openai_organization",
        "openai_project",
        "aws_access_key_id",
        "aws_region",
        "aws_bedrock_model",
        "azure_resource_name",
        "azure_deployment_id",
        "azure_api_version",
        "azure_endpoint_name",
        "azure_model_name",
        "azure_auth_mode",
        "vertex_project_id",
        "vertex_region",
        "anthropic_version",
        "anthropic_beta",
    }
)
# Provider fields that are credentials: kept as Secret (never shown, scrubbed from errors).
SECRET_PROVIDER_FIELDS = frozenset({"aws_secret_access_key", "aws_session_token", "azure_ad_token"})
_EXTRA_KEYS = PROVIDER_FIELDS | SECRET_PROVIDER_FIELDS | {"forward_headers", "on_status_codes"}
_NOT_YET = (
    "retry",
    "cache",
    "before_request_hooks",
    "after_request_hooks",
    "input_guardrails",
    "output_guardrails",
)


def parse_config(config: Mapping[str, Any] | str, *, path: str = "config") -> Mapping[str, Any]:
    """A config given as a dict or a JSON string, as a dict."""
    if isinstance(config, str):
        try:
            parsed = json.loads(config)
        except json.JSONDecodeError as error:
            raise ConfigurationError(
                f"not valid JSON ({error.msg} at line {error.lineno} column {error.colno})", path=path
            ) from None
        config = parsed
    if not isinstance(config, Mapping):
        raise ConfigurationError(f"expected an object, got {type(config).__name__}", path=path)
    return config


def build_plan(config: Mapping[str, Any] | str) -> PlanNode:
    """Validate ``config`` and resolve inheritance into a frozen plan."""
    return _node(parse_config(config), "config", {}, None, None)


def _node(
    node: Mapping[str, Any],
    path: str,
    inherited_params: Mapping[str, Any],
    inherited_timeout: float | None,
    inherited_host: str | None,
) -> PlanNode:
    for key in _NOT_YET:
        if key in node:
            raise ConfigurationError(
                f"'{key}' is not supported by this version of the gateway yet; remove it or route "
                "through Portkey's gateway",
                path=f"{path}.{key}",
            )
    params = {**inherited_params, **_mapping(node, "override_params", path)}
    timeout = _number(node, "request_timeout", path, inherited_timeout)
    host = _string(node, "custom_host", path) or inherited_host
    if "strategy" in node or "targets" in node:
        return _strategy(node, path, params, timeout, host)
    _warn_unknown(node, path)
    api_key = _string(node, "api_key", path)
    return LeafPlan(
        path=path,
        provider=_string(node, "provider", path),
        api_key=Secret(api_key) if api_key else None,
        virtual_key=_string(node, "virtual_key", path),
        custom_host=host,
        override_params=params,
        request_timeout_ms=timeout,
        extras=_provider_fields(node, path),
    )


def _strategy(
    node: Mapping[str, Any], path: str, params: Mapping[str, Any], timeout: float | None, host: str | None
) -> StrategyPlan:
    strategy = node.get("strategy", {"mode": "single"})
    if not isinstance(strategy, Mapping) or not isinstance(strategy.get("mode"), str):
        raise ConfigurationError("expected an object like {'mode': 'fallback'}", path=f"{path}.strategy")
    mode = strategy["mode"]
    if mode not in ("single", "fallback", "loadbalance", "conditional"):
        raise ConfigurationError(
            f"unknown mode {mode!r}; expected single, fallback, loadbalance or conditional",
            path=f"{path}.strategy.mode",
        )
    if mode != "single":
        raise ConfigurationError(
            f"mode {mode!r} is not supported by this version of the gateway yet (only 'single')",
            path=f"{path}.strategy.mode",
        )
    targets = node.get("targets")
    if not isinstance(targets, list) or not targets:
        raise ConfigurationError("expected a non-empty list of targets", path=f"{path}.targets")
    children = []
    for index, child in enumerate(targets):
        child_path = f"{path}.targets[{index}]"
        if not isinstance(child, Mapping):
            raise ConfigurationError(f"expected an object, got {type(child).__name__}", path=child_path)
        children.append(_node(child, child_path, params, timeout, host))
    return StrategyPlan(path=path, mode="single", targets=tuple(children))


def _provider_fields(node: Mapping[str, Any], path: str) -> dict[str, Any]:
    fields: dict[str, Any] = {key: node[key] for key in PROVIDER_FIELDS | {"forward_headers"} if key in node}
    for key in SECRET_PROVIDER_FIELDS:
        value = _string(node, key, path)
        if value:
            fields[key] = Secret(value)
    return fields


def _warn_unknown(node: Mapping[str, Any], path: str) -> None:
    unknown = sorted(set(node) - _LEAF_KEYS - _EXTRA_KEYS)
    if unknown:
        warnings.warn(f"{path}: unknown config keys {unknown} are ignored", UserWarning, stacklevel=4)


def _mapping(node: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
    value = node.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"expected an object, got {type(value).__name__}", path=f"{path}.{key}")
    return value


def _string(node: Mapping[str, Any], key: str, path: str) -> str | None:
    value = node.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigurationError(f"expected a string, got {type(value).__name__}", path=f"{path}.{key}")
    return value


def _number(node: Mapping[str, Any], key: str, path: str, default: float | None) -> float | None:
    value = node.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigurationError(f"expected a positive number, got {value!r}", path=f"{path}.{key}")
    return float(value)
