"""What a subject has used of its limits right now: read back from an engine, changing nothing.

:meth:`LimitsEngine.usage <strands_portkey.limits.LimitsEngine.usage>` returns one
:class:`LimitsUsage`: for each rate limit what its bucket holds now and when it is full again,
for each budget what the current period has used (reservations included) and when it resets.
The same numbers the next request is judged by, so an operator sees why a key was refused.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass
from typing import Any

from .model import Limits, period_of

__all__ = ["LimitsUsage", "RateLimitUsage", "UsageLimitUsage", "limits_usage"]


@dataclass(frozen=True, slots=True)
class RateLimitUsage:
    """One rate limit and its bucket now.

    ``remaining`` is what the bucket holds (below 0: in debt after a token estimate);
    ``resets_in`` the seconds until it is full again. Both None when nothing counts this key here.
    """

    type: str
    unit: str
    value: int
    remaining: float | None
    resets_in: float | None


@dataclass(frozen=True, slots=True)
class UsageLimitUsage:
    """One budget and its current period: ``used`` (reservations included) of ``credit_limit``.

    ``period`` is the period's first day (``2026-12-01``) or ``total``; ``resets_at`` when the
    next one starts (None: never). ``used`` / ``remaining`` are None when nothing counts this key
    here; ``alerting`` says whether ``used`` reached ``alert_threshold``.
    """

    type: str
    credit_limit: float
    alert_threshold: float | None
    periodic_reset: str | None
    period: str
    used: float | None
    remaining: float | None
    resets_at: str | None
    alerting: bool


@dataclass(frozen=True, slots=True)
class LimitsUsage:
    """Every limit of a subject with its current usage, in the order the limits are declared."""

    rate_limits: tuple[RateLimitUsage, ...] = ()
    usage_limits: tuple[UsageLimitUsage, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (lists for the tuples)."""
        return {
            "rate_limits": [asdict(item) for item in self.rate_limits],
            "usage_limits": [asdict(item) for item in self.usage_limits],
        }


def _iso(epoch: float) -> str | None:
    if math.isinf(epoch):
        return None
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def limits_usage(
    limits: Limits,
    levels: tuple[float, ...] | None,
    used: tuple[float, ...] | None,
    now: float,
) -> LimitsUsage:
    """The usage of ``limits`` from its buckets' ``levels`` and budgets' ``used`` (plan order).

    ``levels`` / ``used`` None: nothing counts these limits here (the numbers are left out).
    ``now`` (epoch seconds) places each budget in its calendar period.
    """
    rates = []
    for index, limit in enumerate(limits.rate_limits):
        level = None if levels is None else levels[index]
        wait = None if level is None else max(0.0, (limit.value - level) / limit.per_second)
        rates.append(RateLimitUsage(limit.type, limit.unit, limit.value, level, wait))
    budgets = []
    for index, budget in enumerate(limits.usage_limits):
        period = period_of(budget.periodic_reset, now)
        spent = None if used is None else used[index]
        budgets.append(
            UsageLimitUsage(
                type=budget.type,
                credit_limit=budget.credit_limit,
                alert_threshold=budget.alert_threshold,
                periodic_reset=budget.periodic_reset,
                period=period.id,
                used=spent,
                remaining=None if spent is None else max(0.0, budget.credit_limit - spent),
                resets_at=_iso(period.ends_at),
                alerting=spent is not None
                and budget.alert_threshold is not None
                and spent >= budget.alert_threshold,
            )
        )
    return LimitsUsage(tuple(rates), tuple(budgets))
