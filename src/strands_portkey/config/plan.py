"""Frozen plan nodes: a Portkey config after validation and inheritance, built once per config.

The router walks these; nothing re-reads the raw config at request time. Every inherited
setting is already resolved onto each leaf (see :mod:`strands_portkey.config.resolve`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..wire import Secret
from .hooks import HookConfig
from .query import Predicate

__all__ = [
    "DEFAULT_RETRY_STATUS_CODES",
    "CachePlan",
    "ConditionPlan",
    "LeafPlan",
    "PlanNode",
    "RetryPlan",
    "StrategyMode",
    "StrategyPlan",
    "iter_leaves",
]

DEFAULT_RETRY_STATUS_CODES = frozenset({429, 500, 502, 503, 504, 529})
"""Retried when ``retry.on_status_codes`` is not given: Portkey's list plus 529 (overloaded),
which Portkey's newer hosted docs add and Anthropic uses for overload."""

StrategyMode = Literal["single", "fallback", "loadbalance", "conditional"]


@dataclass(frozen=True, slots=True)
class RetryPlan:
    """``retry`` of a leaf: ``attempts`` re-tries on ``on_status_codes``.

    ``use_retry_after`` honours a 429's ``retry-after-ms`` / ``x-ms-retry-after-ms`` /
    ``retry-after`` headers (either spelling of Portkey's flag turns it on).
    """

    attempts: int
    on_status_codes: frozenset[int] = DEFAULT_RETRY_STATUS_CODES
    use_retry_after: bool = False


@dataclass(frozen=True, slots=True)
class CachePlan:
    """``cache`` of a leaf: ``simple`` or ``semantic``, ``max_age`` in seconds (None = default)."""

    mode: Literal["simple", "semantic"]
    max_age_s: float | None = None


@dataclass(frozen=True, slots=True)
class LeafPlan:
    """One target that names a provider (or a virtual key to resolve into one).

    Attributes:
        path: The option index Portkey reports for this leaf (``config.targets[1]``).
        provider: Provider id, or None when only a virtual key says where to go.
        api_key: The provider credential written in the config, if any.
        virtual_key: A key name to resolve in the vault (or through Portkey's gateway).
        custom_host: Base URL replacing the provider's default (inherited).
        override_params: Body fields merged over every request at this leaf (inherited, merged).
        request_timeout_ms: Per-attempt timeout in milliseconds (inherited).
        retry: Retry policy (inherited whole unless the leaf has its own), None for no retries.
        cache: Cache policy (inherited whole unless the leaf has its own), None for no caching.
        forward_headers: Request headers to forward upstream (inherited).
        trace_propagation: Send the W3C ``traceparent`` to this target when tracing (inherited).
        before_hooks / after_hooks: Hook definitions (inherited unless the leaf has its own).
        name / weight: How a conditional / loadbalance parent refers to this target.
        prompt_id: A stored prompt reference (``support-bot@staging``): the request is rendered
            from it at this leaf (its model, messages and parameters; the request's follow).
        extras: Provider-specific fields (``aws_region``, ``azure_api_version``...); credentials
            among them (``aws_secret_access_key``) are :class:`~strands_portkey.wire.Secret`.
    """

    path: str
    provider: str | None = None
    api_key: Secret | None = None
    virtual_key: str | None = None
    custom_host: str | None = None
    override_params: Mapping[str, Any] = field(default_factory=dict)
    request_timeout_ms: float | None = None
    retry: RetryPlan | None = None
    cache: CachePlan | None = None
    forward_headers: tuple[str, ...] = ()
    trace_propagation: bool = True
    before_hooks: tuple[HookConfig, ...] = field(default=(), repr=False)
    after_hooks: tuple[HookConfig, ...] = field(default=(), repr=False)
    name: str | None = None
    weight: float = 1.0
    extras: Mapping[str, Any] = field(default_factory=dict, repr=False)
    prompt_id: str | None = None


@dataclass(frozen=True, slots=True)
class ConditionPlan:
    """A compiled ``strategy.conditions`` entry: when ``matches``, route to ``targets[target]``."""

    matches: Predicate = field(repr=False)
    target: int


@dataclass(frozen=True, slots=True)
class StrategyPlan:
    """A node with a strategy over nested targets.

    Attributes:
        on_status_codes: Fallback only: move on only for these statuses (None = any failure).
        conditions / default: Conditional only: rules in order, and the fallback target index.
    """

    path: str
    mode: StrategyMode
    targets: tuple[PlanNode, ...]
    on_status_codes: frozenset[int] | None = None
    conditions: tuple[ConditionPlan, ...] = ()
    default: int | None = None
    name: str | None = None
    weight: float = 1.0


PlanNode = LeafPlan | StrategyPlan


def iter_leaves(node: PlanNode) -> Iterator[LeafPlan]:
    """Every leaf under ``node``, in config order."""
    if isinstance(node, LeafPlan):
        yield node
    else:
        for child in node.targets:
            yield from iter_leaves(child)
