"""Gateway keys' rate limits and budgets on the server: the :class:`Limiter` over the limits engine.

One atomic step per request (:class:`~strands_portkey.limits.MemoryLimits` on one worker,
:class:`~strands_portkey.limits.redis.RedisLimits` across workers): before the call, the request
is counted against the key's rate limits and its estimated tokens and cost are reserved on its
budgets; after it, the reservation is settled with what the call really used. So concurrent
requests overshoot a budget by at most one request's reservation.

The estimate: ``body bytes / 4`` prompt tokens plus the request's ``max_tokens`` (or
``max_completion_tokens``; :data:`DEFAULT_OUTPUT_TOKENS` when it gives none), costed at the
model's rate when the provider is known before routing (an ``@provider/model`` slug or a
registered model). A key without limits costs nothing here.

Response headers (OpenAI's names): ``x-ratelimit-limit-requests`` /
``x-ratelimit-remaining-requests`` / ``x-ratelimit-reset-requests`` and the same for ``-tokens``
(the tightest limit of each kind; *reset* is the time until the bucket is full again), and for
budgets ``x-portkey-budget-remaining`` (of the tightest budget) and ``x-portkey-budget-alert``
(the budgets past their ``alert_threshold``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal

from ..limits import LimitsEngine, Spend
from ..limits import Reservation as Held
from ..types import Usage
from .auth import Principal
from .limits import LimitRequest, Outcome, Reservation

__all__ = ["DEFAULT_OUTPUT_TOKENS", "KeyLimiter", "ratelimit_headers"]

DEFAULT_OUTPUT_TOKENS = 1024
CostEstimate = Callable[[str, Usage], "Decimal | None"]
"""(model as requested, estimated usage) -> USD, or None when the rate is not known before routing."""


def _seconds(value: float) -> str:
    return f"{max(0.0, value):.3f}s"


def ratelimit_headers(held: Held) -> dict[str, str]:
    """``x-ratelimit-*`` for the tightest rate limit of each kind, and the budgets' state."""
    headers: dict[str, str] = {}
    for kind in ("requests", "tokens"):
        tightest = None
        for bucket, level in zip(held.plan.buckets, held.levels, strict=False):
            if bucket.counts_tokens == (kind == "tokens") and (tightest is None or level < tightest[1]):
                tightest = (bucket, level)
        if tightest is not None:
            bucket, level = tightest
            headers[f"x-ratelimit-limit-{kind}"] = str(int(bucket.capacity))
            headers[f"x-ratelimit-remaining-{kind}"] = str(max(0, math.floor(level)))
            headers[f"x-ratelimit-reset-{kind}"] = _seconds((bucket.capacity - level) / bucket.rate)
    if held.used:
        left = min(budget.limit - used for budget, used in zip(held.plan.budgets, held.used, strict=False))
        headers["x-portkey-budget-remaining"] = f"{max(0.0, left):g}"
    if held.alerts:
        headers["x-portkey-budget-alert"] = "; ".join(held.alerts)
    return headers


class KeyLimiter:
    """The server's limiter: each gateway key's limits, reserved and settled through ``engine``.

    Args:
        engine: Memory (one worker) or Redis (every worker).
        cost_estimate: Prices the estimate before routing (None: budgets of cost reserve 0 and
            count the real cost when settled).
    """

    def __init__(self, engine: LimitsEngine, cost_estimate: CostEstimate | None = None) -> None:
        self.engine = engine
        self._cost_estimate = cost_estimate

    def __repr__(self) -> str:
        return f"KeyLimiter({self.engine!r})"

    def _estimate(self, request: LimitRequest) -> Spend:
        prompt = math.ceil(request.body_bytes / 4)
        output = request.max_tokens if request.max_tokens is not None else DEFAULT_OUTPUT_TOKENS
        cost = None
        if self._cost_estimate is not None:
            cost = self._cost_estimate(request.model, Usage(prompt, output, prompt + output))
        return Spend(prompt + output, float(cost) if cost is not None else 0.0)

    async def reserve(self, principal: Principal, request: LimitRequest) -> Reservation:
        """Count the request and hold its estimate; raise 429 (rate) / 412 (budget) / 503 (no Redis)."""
        key = principal.key
        if key is None or not key.limits:
            return Reservation(principal, request)
        held = await self.engine.reserve(key, self._estimate(request))
        return Reservation(principal, request, ratelimit_headers(held), held)

    async def settle(self, reservation: Reservation, outcome: Outcome) -> None:
        """Replace the estimate by the real usage (a success without usage keeps the estimate)."""
        held = reservation.token
        if not isinstance(held, Held):
            return
        if outcome.usage is None:
            actual = held.estimate if outcome.status < 400 else Spend()
        else:
            cost = float(outcome.cost_usd) if outcome.cost_usd is not None else 0.0
            actual = Spend(max(0, outcome.usage.total_tokens), max(0.0, cost))
        await self.engine.settle(held, actual)

    async def aclose(self) -> None:
        """Close the engine's connections."""
        await self.engine.aclose()
