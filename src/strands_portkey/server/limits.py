"""The limits seam: :class:`Limiter` ``reserve`` before a data-plane request, ``settle`` after it.

Gateway keys' budgets and rate limits (memory and Redis, one atomic step each) are
:class:`~strands_portkey.server.key_limits.KeyLimiter`; the default, :class:`NoLimits`, reserves
nothing. A limiter refuses a request by raising
:class:`~strands_portkey.errors.LimitExceededError` (429 with ``Retry-After``) from ``reserve``;
the headers of a :class:`Reservation` (``x-ratelimit-*``) are added to the response. ``settle`` is
called exactly once per reservation, when the answer (or the stream) has ended, with what it cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from ..types import Usage
from .auth import Principal

__all__ = ["LimitRequest", "Limiter", "NoLimits", "Outcome", "Reservation"]


@dataclass(frozen=True, slots=True)
class LimitRequest:
    """What a limiter may weigh before the call: endpoint, model, body size, ``max_tokens`` (or None)."""

    endpoint: str
    model: str
    body_bytes: int
    max_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class Reservation:
    """A limiter's hold on a request; ``headers`` (``x-ratelimit-*``) go on the response."""

    principal: Principal
    request: LimitRequest
    headers: Mapping[str, str] = field(default_factory=dict)
    token: object = None  # the limiter's own handle (a Redis key, an amount held)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a reserved request ended: its status, token usage and cost (None when unknown)."""

    status: int
    usage: Usage | None = None
    cost_usd: Decimal | None = None


class Limiter(Protocol):
    """Budgets and rate limits around each data-plane request."""

    async def reserve(self, principal: Principal, request: LimitRequest) -> Reservation:
        """Hold capacity for ``request`` or raise ``LimitExceededError`` (429, ``retry_after``)."""
        ...

    async def settle(self, reservation: Reservation, outcome: Outcome) -> None:
        """Record what the request really used; called once per reservation."""
        ...


class NoLimits:
    """No budgets, no rate limits: every request is reserved with no headers."""

    async def reserve(self, principal: Principal, request: LimitRequest) -> Reservation:
        """Reserve nothing."""
        return Reservation(principal, request)

    async def settle(self, reservation: Reservation, outcome: Outcome) -> None:
        """Nothing to record."""
        return
