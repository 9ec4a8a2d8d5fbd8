"""The limits engine: ``reserve`` before a call, ``settle`` after it, each ONE atomic step.

:class:`LimitsEngine` holds what both implementations share: turning a subject's limits into the
buckets and budget counters one request touches (:class:`Plan`), and turning a refusal into the
right error. :class:`MemoryLimits` keeps the state of one process under a lock;
:class:`~strands_portkey.limits.redis.RedisLimits` keeps it in Redis, one Lua script per step, so
every worker sharing that Redis counts against the same limits.

Never read-then-write: a step checks every limit and, only if all admit the request, takes from
all of them, under one lock (or inside one script). A refused request takes nothing.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import BudgetExceededError, RateLimitExceededError
from .model import LimitSubject, Spend, period_of
from .usage import LimitsUsage, limits_usage

__all__ = ["Bucket", "Budget", "LimitsEngine", "MemoryLimits", "Plan", "Refusal", "Reservation"]

MIN_RETRY_AFTER = 0.001


@dataclass(frozen=True, slots=True)
class Bucket:
    """One rate limit's token bucket as a request touches it."""

    key: str
    capacity: float
    rate: float
    take: float  # 1 for a request limit; the token estimate for a token limit
    counts_tokens: bool
    label: str


@dataclass(frozen=True, slots=True)
class Budget:
    """One usage limit's counter for the current period, and what the request reserves on it."""

    key: str  # without the period
    period: str
    limit: float
    amount: float
    measure: str  # "cost" or "tokens"
    ttl: float  # seconds until the period's counter may be dropped (inf: never)
    alert_threshold: float | None
    label: str


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything one request touches: its buckets, then its budgets."""

    buckets: tuple[Bucket, ...]
    budgets: tuple[Budget, ...]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a step refused: the index into the plan's buckets or budgets, and the wait or the usage."""

    budget: bool
    index: int
    value: float  # seconds to wait (rate limit) or usage so far (budget)


@dataclass(slots=True)
class Reservation:
    """What one admitted request holds; pass it to :meth:`LimitsEngine.settle` once the call ends.

    ``used`` is each budget's usage right after this reservation (reservations included), in plan
    order; ``levels`` each rate limit's bucket level right after it (what is left: the server's
    ``x-ratelimit-remaining-*``); ``alerts`` names the budgets at or past their
    ``alert_threshold``. ``enforced`` is False when the limits' store was unreachable and the
    engine is configured to fail open.
    """

    subject_id: str
    estimate: Spend
    plan: Plan = field(default_factory=lambda: Plan((), ()))
    used: tuple[float, ...] = ()
    levels: tuple[float, ...] = ()
    enforced: bool = True
    settled: bool = False

    @property
    def alerts(self) -> tuple[str, ...]:
        """Labels of the budgets whose usage reached their ``alert_threshold``."""
        return tuple(
            budget.label
            for budget, used in zip(self.plan.budgets, self.used, strict=False)
            if budget.alert_threshold is not None and used >= budget.alert_threshold
        )


class LimitsEngine(ABC):
    """``reserve`` / ``settle`` over some state store (memory or Redis).

    Args:
        prefix: Prepended to every counter's key (several gateways may share one Redis).
        wall_clock: Epoch seconds: which calendar period a budget is in (injected in tests).
    """

    counted_in: str = "memory"
    """Where the counts live: ``memory`` (this process only) or ``redis`` (every worker sharing it)."""

    def __init__(self, *, prefix: str, wall_clock: Callable[[], float]) -> None:
        self.prefix = prefix
        self._wall_clock = wall_clock

    def plan(self, subject: LimitSubject, estimate: Spend) -> Plan:
        """The buckets and budget counters ``subject``'s request touches."""
        limits = subject.limits
        base = f"{self.prefix}{subject.id}:"
        buckets = tuple(
            Bucket(
                key=f"{base}rate:{limit.type}:{limit.unit}",
                capacity=float(limit.value),
                rate=limit.per_second,
                take=1.0 if limit.type == "requests" else float(estimate.tokens),
                counts_tokens=limit.type == "tokens",
                label=limit.label(index),
            )
            for index, limit in enumerate(limits.rate_limits)
        )
        now = self._wall_clock() if limits.usage_limits else 0.0
        budgets = []
        for index, limit in enumerate(limits.usage_limits):
            period = period_of(limit.periodic_reset, now)
            budgets.append(
                Budget(
                    key=f"{base}usage:{limit.type}:{limit.periodic_reset or 'total'}",
                    period=period.id,
                    limit=limit.credit_limit,
                    amount=estimate.amount(limit.type),
                    measure=limit.type,
                    ttl=period.ends_at - now + 86400.0,
                    alert_threshold=limit.alert_threshold,
                    label=limit.label(index),
                )
            )
        return Plan(buckets, tuple(budgets))

    async def reserve(self, subject: LimitSubject, estimate: Spend | None = None) -> Reservation:
        """Admit one request of ``subject`` and hold its ``estimate``, or raise.

        Raises:
            BudgetExceededError: a usage limit is spent (checked before the rate limits: waiting
                does not help). Names the limit.
            RateLimitExceededError: a rate limit has no room; ``retry_after`` is the wait in
                seconds until it has (the longest, when several are over).
            LimitsUnavailableError: the state store is unreachable and the engine fails closed.
        """
        estimate = estimate or Spend()
        if not subject.limits:
            return Reservation(subject.id, estimate)
        plan = self.plan(subject, estimate)
        outcome = await self._reserve(plan)
        if isinstance(outcome, Refusal):
            raise _refused(subject.id, plan, outcome)
        if outcome is None:  # the store is down and we fail open
            return Reservation(subject.id, estimate, plan, enforced=False)
        budgets = len(plan.budgets)
        return Reservation(subject.id, estimate, plan, outcome[:budgets], outcome[budgets:])

    async def settle(self, reservation: Reservation, actual: Spend | None = None) -> None:
        """Replace the reservation's estimate by what the request really used (once; again: no-op).

        Pass ``Spend()`` (the default) for a call that failed before using anything: its
        reserved tokens and cost go back; the request itself still counts against request limits.
        Never raises for an unreachable store (the answer has been given): it logs instead.
        """
        if reservation.settled:
            return
        reservation.settled = True
        if not reservation.enforced:
            return
        actual = actual or Spend()
        estimate = reservation.estimate
        buckets = tuple(
            (bucket, float(actual.tokens - estimate.tokens))
            for bucket in reservation.plan.buckets
            if bucket.counts_tokens and actual.tokens != estimate.tokens
        )
        budgets = tuple(
            (budget, actual.amount(budget.measure) - budget.amount)
            for budget in reservation.plan.budgets
            if actual.amount(budget.measure) != budget.amount
        )
        if buckets or budgets:
            await self._settle(buckets, budgets)

    def usage(self, subject: LimitSubject) -> LimitsUsage:
        """What ``subject`` has used of its limits now, read in one step, changing nothing.

        Synchronous on purpose: the control plane reads it (``gw.api_keys.usage``) from plain
        code or a server thread, never on the request path. Buckets show their level refilled up
        to now; budgets their current period (a period that has ended reads 0).

        Raises:
            LimitsUnavailableError: the state store is unreachable.
        """
        if not subject.limits:
            return LimitsUsage()
        plan = self.plan(subject, Spend())
        levels, used = self._read(plan)
        return limits_usage(subject.limits, levels, used, self._wall_clock())

    @abstractmethod
    def _read(self, plan: Plan) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """One consistent read: each bucket's level now, then each budget's usage this period."""

    @abstractmethod
    async def _reserve(self, plan: Plan) -> tuple[float, ...] | Refusal | None:
        """One atomic step: check all, then take from all; the budgets' usage, then the buckets' levels."""

    @abstractmethod
    async def _settle(
        self, buckets: tuple[tuple[Bucket, float], ...], budgets: tuple[tuple[Budget, float], ...]
    ) -> None:
        """One atomic step: add each delta (actual - estimate) to its bucket's debt and budget's usage."""

    async def aclose(self) -> None:  # noqa: B027 (optional hook: nothing to release in memory)
        """Release connections (nothing to do in memory)."""


def _refused(subject_id: str, plan: Plan, refusal: Refusal) -> Exception:
    if refusal.budget:
        budget = plan.budgets[refusal.index]
        return BudgetExceededError(
            f"gateway API key {subject_id}: {budget.label} is spent ({refusal.value:g} of "
            f"{budget.limit:g} used); it resets with its period, or raise the limit",
            limit=budget.label,
        )
    bucket = plan.buckets[refusal.index]
    wait = max(refusal.value, MIN_RETRY_AFTER)
    return RateLimitExceededError(
        f"gateway API key {subject_id} is over {bucket.label}; retry in {wait:.3f} s",
        retry_after=wait,
        limit=bucket.label,
    )


class MemoryLimits(LimitsEngine):
    """The limits of one process (one server worker), under one lock.

    Args:
        clock: Monotonic seconds for the buckets (injected in tests).
        wall_clock: Epoch seconds for the budgets' calendar periods (injected in tests).
        prefix: Key prefix (only matters when comparing with Redis keys).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        prefix: str = "",
    ) -> None:
        super().__init__(prefix=prefix, wall_clock=wall_clock)
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (level, at)
        self._usage: dict[str, tuple[str, float]] = {}  # key -> (period, used)

    def __repr__(self) -> str:
        return f"MemoryLimits(buckets={len(self._buckets)}, budgets={len(self._usage)})"

    def _level(self, bucket: Bucket, now: float) -> float:
        level, at = self._buckets.get(bucket.key, (bucket.capacity, now))
        return min(bucket.capacity, level + max(0.0, now - at) * bucket.rate)

    def _used(self, budget: Budget) -> float:
        period, used = self._usage.get(budget.key, (budget.period, 0.0))
        return used if period == budget.period else 0.0

    async def _reserve(self, plan: Plan) -> tuple[float, ...] | Refusal:
        return self.reserve_now(plan)

    def reserve_now(self, plan: Plan) -> tuple[float, ...] | Refusal:
        """The atomic step itself (synchronous: callable from a thread or a benchmark)."""
        with self._lock:
            for index, budget in enumerate(plan.budgets):
                used = self._used(budget)
                if used >= budget.limit:
                    return Refusal(True, index, used)
            now = self._clock()
            levels = [self._level(bucket, now) for bucket in plan.buckets]
            waits = [(1.0 - level) / bucket.rate for bucket, level in zip(plan.buckets, levels, strict=True)]
            worst = max(range(len(waits)), key=waits.__getitem__, default=None)
            if worst is not None and levels[worst] < 1.0:
                return Refusal(False, worst, waits[worst])
            for bucket, level in zip(plan.buckets, levels, strict=True):
                self._buckets[bucket.key] = (level - bucket.take, now)
            used_after = []
            for budget in plan.budgets:
                used = self._used(budget) + budget.amount
                self._usage[budget.key] = (budget.period, used)
                used_after.append(used)
            return (
                *used_after,
                *(level - bucket.take for bucket, level in zip(plan.buckets, levels, strict=True)),
            )

    def _read(self, plan: Plan) -> tuple[tuple[float, ...], tuple[float, ...]]:
        with self._lock:
            now = self._clock()
            levels = tuple(self._level(bucket, now) for bucket in plan.buckets)
            return levels, tuple(self._used(budget) for budget in plan.budgets)

    async def _settle(
        self, buckets: tuple[tuple[Bucket, float], ...], budgets: tuple[tuple[Budget, float], ...]
    ) -> None:
        with self._lock:
            now = self._clock()
            for bucket, delta in buckets:
                self._buckets[bucket.key] = (min(bucket.capacity, self._level(bucket, now) - delta), now)
            for budget, delta in budgets:
                period, used = self._usage.get(budget.key, ("", 0.0))
                if period == budget.period:  # a period that has reset since keeps its fresh count
                    self._usage[budget.key] = (period, max(0.0, used + delta))
