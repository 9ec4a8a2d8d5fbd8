"""Frozen plan nodes: a Portkey config after validation and inheritance, built once per config.

The executor walks these; nothing re-reads the raw config at request time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..wire import Secret

__all__ = ["LeafPlan", "PlanNode", "StrategyPlan", "iter_leaves"]


@dataclass(frozen=True, slots=True)
class LeafPlan:
    """One target that names a provider (or a virtual key to resolve into one).

    Attributes:
        path: The option index Portkey reports for this leaf (``config.targets[1]``).
        provider: Provider id, or None when only a virtual key says where to go.
        api_key: The provider credential written in the config, if any.
        virtual_key: A key name to resolve in the vault (or through Portkey's gateway).
        custom_host: Base URL replacing the provider's default.
        override_params: Body fields merged over every request at this leaf (inherited).
        request_timeout_ms: Per-attempt timeout in milliseconds (inherited).
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
    extras: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class StrategyPlan:
    """A node with a strategy over nested targets."""

    path: str
    mode: Literal["single"]
    targets: tuple[PlanNode, ...]


PlanNode = LeafPlan | StrategyPlan


def iter_leaves(node: PlanNode) -> Iterator[LeafPlan]:
    """Every leaf under ``node``, in config order."""
    if isinstance(node, LeafPlan):
        yield node
    else:
        for child in node.targets:
            yield from iter_leaves(child)
