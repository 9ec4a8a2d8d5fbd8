"""Portkey config -> frozen plan: validation, then parent-to-child inheritance, as pure functions.

Inheritance follows Portkey's gateway. At each node the inherited settings are merged with the
node's own, and the node wins:

=================================================  ============================================
field                                              rule
=================================================  ============================================
``override_params``                                shallow merge: parent keys, then the child's
``retry``, ``cache``                               replaced whole when the child has its own
``request_timeout``, ``custom_host``,              inherited unless the child sets its own
``forward_headers``
hooks (``before_request_hooks`` and                inherited only if the child defines none of
``input_guardrails``; after-hooks likewise)        that kind; a child's list replaces the parent's
``provider``, ``api_key``, ``weight``, ``name``,   never inherited
provider credentials
=================================================  ============================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..wire import Secret
from .hooks import HookConfig, hooks_of
from .plan import (
    DEFAULT_RETRY_STATUS_CODES,
    CachePlan,
    ConditionPlan,
    LeafPlan,
    PlanNode,
    RetryPlan,
    StrategyPlan,
)
from .query import compile_query
from .schema import CacheConfig, RetryConfig, TargetConfig, parse_config, validate_config

__all__ = ["PROVIDER_FIELDS", "SECRET_PROVIDER_FIELDS", "build_plan", "parse_config"]

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
        "vertex_service_account_json",
        "anthropic_version",
        "anthropic_beta",
    }
)
# Provider fields that are credentials: kept as Secret (never shown, scrubbed from errors).
SECRET_PROVIDER_FIELDS = frozenset({"aws_secret_access_key", "aws_session_token", "azure_ad_token"})


@dataclass(frozen=True, slots=True)
class _Inherited:
    """Settings flowing from a node to its children."""

    override_params: Mapping[str, Any] = field(default_factory=dict)
    retry: RetryPlan | None = None
    cache: CachePlan | None = None
    request_timeout_ms: float | None = None
    custom_host: str | None = None
    forward_headers: tuple[str, ...] = ()
    trace_propagation: bool = True
    before_hooks: tuple[HookConfig, ...] = ()
    after_hooks: tuple[HookConfig, ...] = ()


def build_plan(config: Mapping[str, Any] | str, *, request_timeout_ms: float | None = None) -> PlanNode:
    """Validate ``config`` and resolve inheritance into a frozen plan.

    ``request_timeout_ms`` plays the part of Portkey's ``x-portkey-request-timeout`` header: when
    given it wins over every ``request_timeout`` in the config.
    """
    root = validate_config(config)
    plan = _node(root, "config", _Inherited())
    if request_timeout_ms is not None:
        plan = _with_timeout(plan, request_timeout_ms)
    return plan


def _with_timeout(node: PlanNode, timeout_ms: float) -> PlanNode:
    if isinstance(node, LeafPlan):
        return replace(node, request_timeout_ms=timeout_ms)
    return replace(node, targets=tuple(_with_timeout(child, timeout_ms) for child in node.targets))


def _node(node: TargetConfig, path: str, parent: _Inherited) -> PlanNode:
    inherited = _inherit(node, parent, path)
    if node.strategy is None:
        return _leaf(node, path, inherited)
    strategy = node.strategy
    assert node.targets is not None  # validate_config guarantees targets next to a strategy
    children = tuple(
        _node(child, f"{path}.targets[{index}]", inherited) for index, child in enumerate(node.targets)
    )
    names = {child.name: index for index, child in enumerate(node.targets) if child.name is not None}
    conditions = tuple(
        ConditionPlan(
            matches=compile_query(rule.query, f"{path}.strategy.conditions[{index}].query"),
            target=names[rule.then],
        )
        for index, rule in enumerate(strategy.conditions or ())
    )
    return StrategyPlan(
        path=path,
        mode=strategy.mode,
        targets=children,
        on_status_codes=frozenset(strategy.on_status_codes) if strategy.on_status_codes else None,
        conditions=conditions,
        default=names[strategy.default] if strategy.default is not None else None,
        name=node.name,
        weight=1.0 if node.weight is None else node.weight,
    )


def _inherit(node: TargetConfig, parent: _Inherited, path: str) -> _Inherited:
    before, after = hooks_of(node, "before", path), hooks_of(node, "after", path)
    return _Inherited(
        before_hooks=before or parent.before_hooks,
        after_hooks=after or parent.after_hooks,
        override_params={**parent.override_params, **(node.override_params or {})},
        retry=_retry(node.retry) if node.retry is not None else parent.retry,
        cache=_cache(node.cache) if node.cache is not None else parent.cache,
        request_timeout_ms=node.request_timeout or parent.request_timeout_ms,
        custom_host=node.custom_host or parent.custom_host,
        forward_headers=(
            tuple(node.forward_headers) if node.forward_headers is not None else parent.forward_headers
        ),
        trace_propagation=(
            node.trace_propagation if node.trace_propagation is not None else parent.trace_propagation
        ),
    )


def _retry(retry: RetryConfig) -> RetryPlan | None:
    if retry.attempts == 0:
        return None
    codes = frozenset(retry.on_status_codes) if retry.on_status_codes else DEFAULT_RETRY_STATUS_CODES
    return RetryPlan(
        attempts=retry.attempts,
        on_status_codes=codes,
        use_retry_after=bool(retry.use_retry_after_header or retry.use_retry_after_headers),
    )


def _cache(cache: CacheConfig) -> CachePlan:
    return CachePlan(mode=cache.mode, max_age_s=cache.max_age)


def _leaf(node: TargetConfig, path: str, inherited: _Inherited) -> LeafPlan:
    return LeafPlan(
        path=path,
        provider=node.provider,
        api_key=Secret(node.api_key) if node.api_key else None,
        virtual_key=node.virtual_key,
        prompt_id=node.prompt_id,
        custom_host=inherited.custom_host,
        override_params=inherited.override_params,
        request_timeout_ms=inherited.request_timeout_ms,
        retry=inherited.retry,
        cache=inherited.cache,
        forward_headers=inherited.forward_headers,
        trace_propagation=inherited.trace_propagation,
        before_hooks=inherited.before_hooks,
        after_hooks=inherited.after_hooks,
        name=node.name,
        weight=1.0 if node.weight is None else node.weight,
        extras=_provider_fields(node),
    )


def _provider_fields(node: TargetConfig) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key in PROVIDER_FIELDS:
        value = getattr(node, key)
        if value is not None:
            fields[key] = value
    for key in SECRET_PROVIDER_FIELDS:
        value = getattr(node, key)
        if value:
            fields[key] = Secret(value)
    return fields
