"""The limits of a gateway API key, in Portkey's shapes, and what one request reserves against them.

- **Rate limits** ``[{"type": "requests" | "tokens", "unit": "rps" | "rpm" | "rph" | "rpd", "value": N}]``
  are token buckets: ``value`` units of capacity, refilled continuously at ``value`` per unit of
  time, so a key may burst up to ``value`` and then goes at the average rate (no doubled burst at a
  window edge, as fixed windows allow). A request is admitted while the bucket holds at least one
  unit; it takes one unit (``requests``) or its token estimate (``tokens``, which may leave the
  bucket in debt until it refills). Over a limit: :class:`RateLimitExceededError` with the wait.
- **Usage limits** ``{"credit_limit": X, "type": "cost" | "tokens", "alert_threshold": A,
  "periodic_reset": "daily" | "weekly" | "monthly" | None}`` are budgets per calendar period (UTC;
  weeks start on Monday; ``None``: never reset). A request is admitted while the period's usage,
  reservations included, is below ``credit_limit``; it reserves its estimate, and settling replaces
  the estimate by what it really used. So concurrent requests can pass the limit by at most one
  request's reservation. Spent: :class:`BudgetExceededError` naming the limit.

Everything here is pure (parsing, labels, periods); the engines keep the state.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeGuard

from ..errors import ConfigurationError

__all__ = [
    "PERIODS",
    "RATE_TYPES",
    "RATE_UNITS",
    "USAGE_TYPES",
    "LimitSubject",
    "Limits",
    "RateLimit",
    "Spend",
    "UsageLimit",
    "period_of",
]

RateType = Literal["requests", "tokens"]
RateUnit = Literal["rps", "rpm", "rph", "rpd"]
UsageType = Literal["cost", "tokens"]
Period = Literal["daily", "weekly", "monthly"]

RATE_TYPES: tuple[RateType, ...] = ("requests", "tokens")
RATE_UNITS: Mapping[str, float] = {"rps": 1.0, "rpm": 60.0, "rph": 3600.0, "rpd": 86400.0}
USAGE_TYPES: tuple[UsageType, ...] = ("cost", "tokens")
PERIODS: tuple[Period, ...] = ("daily", "weekly", "monthly")
_UNIT_WORDS = {"rps": "second", "rpm": "minute", "rph": "hour", "rpd": "day"}
_PERIOD_WORDS = {"daily": "per day", "weekly": "per week", "monthly": "per month", None: "in total"}


@dataclass(frozen=True, slots=True)
class Spend:
    """Tokens and cost (USD) of one request: estimated before the call, actual after it."""

    tokens: int = 0
    cost: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.tokens, bool) or not isinstance(self.tokens, int) or self.tokens < 0:
            raise ConfigurationError(f"expected a whole number >= 0, got {self.tokens!r}", path="tokens")
        if not _finite(self.cost) or self.cost < 0:
            raise ConfigurationError(f"expected a number >= 0, got {self.cost!r}", path="cost")

    def amount(self, measure: str) -> float:
        """The tokens or the cost, as a budget of type ``measure`` counts them."""
        return float(self.tokens) if measure == "tokens" else float(self.cost)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``value`` requests (or tokens) per ``unit`` (a token bucket of that size)."""

    type: RateType
    unit: RateUnit
    value: int

    @property
    def per_second(self) -> float:
        """The refill rate."""
        return self.value / RATE_UNITS[self.unit]

    def label(self, index: int) -> str:
        """``rate_limits[0] (60 requests per minute)``: how errors name this limit."""
        return f"rate_limits[{index}] ({self.value} {self.type} per {_UNIT_WORDS[self.unit]})"

    def to_dict(self) -> dict[str, Any]:
        """Portkey's shape."""
        return {"type": self.type, "unit": self.unit, "value": self.value}


@dataclass(frozen=True, slots=True)
class UsageLimit:
    """A budget: ``credit_limit`` USD (``cost``) or tokens per period; an alert at ``alert_threshold``."""

    credit_limit: float
    type: UsageType = "cost"
    alert_threshold: float | None = None
    periodic_reset: Period | None = None

    def label(self, index: int) -> str:
        """``usage_limits[0] (cost 10 per month)``: how errors name this limit."""
        return (
            f"usage_limits[{index}] ({self.type} {self.credit_limit:g} {_PERIOD_WORDS[self.periodic_reset]})"
        )

    def to_dict(self) -> dict[str, Any]:
        """Portkey's shape."""
        return {
            "credit_limit": self.credit_limit,
            "type": self.type,
            "alert_threshold": self.alert_threshold,
            "periodic_reset": self.periodic_reset,
        }


@dataclass(frozen=True, slots=True)
class Limits:
    """Every limit of one key. Empty: nothing is counted (reserving costs nothing)."""

    rate_limits: tuple[RateLimit, ...] = ()
    usage_limits: tuple[UsageLimit, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.rate_limits or self.usage_limits)

    @classmethod
    def parse(cls, rate_limits: Any = None, usage_limits: Any = None, *, path: str = "") -> Limits:
        """Validate Portkey's shapes; errors name the field (``rate_limits[1].unit``).

        ``usage_limits`` may be one object (Portkey's API) or a list of them.
        """
        prefix = f"{path}." if path else ""
        return cls(
            _parse_rate_limits(rate_limits, f"{prefix}rate_limits"),
            _parse_usage_limits(usage_limits, f"{prefix}usage_limits"),
        )

    def to_dict(self) -> dict[str, Any]:
        """``{"rate_limits": [...], "usage_limits": [...]}`` in Portkey's shapes."""
        return {
            "rate_limits": [limit.to_dict() for limit in self.rate_limits],
            "usage_limits": [limit.to_dict() for limit in self.usage_limits],
        }


class LimitSubject(Protocol):
    """Whatever limits apply to (a gateway API key's principal): a stable id and its limits."""

    @property
    def id(self) -> str:
        """Stable across rotations of the key's secret (the counters are kept per id)."""
        ...

    @property
    def limits(self) -> Limits:
        """The limits in force."""
        ...


@dataclass(frozen=True, slots=True)
class BudgetPeriod:
    """One calendar period of a budget: its id (part of the counter's key) and when it ends."""

    id: str
    ends_at: float = field(default=math.inf)


def period_of(reset: Period | None, now: float) -> BudgetPeriod:
    """The UTC calendar period containing ``now`` (epoch seconds); ``None``: one endless period."""
    if reset is None:
        return BudgetPeriod("total")
    day = dt.datetime.fromtimestamp(now, dt.timezone.utc).date()
    if reset == "daily":
        start, end = day, day + dt.timedelta(days=1)
    elif reset == "weekly":
        start = day - dt.timedelta(days=day.weekday())
        end = start + dt.timedelta(days=7)
    else:
        start = day.replace(day=1)
        end = start + dt.timedelta(days=calendar.monthrange(start.year, start.month)[1])
    ends = dt.datetime(end.year, end.month, end.day, tzinfo=dt.timezone.utc).timestamp()
    return BudgetPeriod(start.isoformat(), ends)


# --------------------------------------------------------------------------- parsing


def _finite(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _choice(raw: Mapping[str, Any], key: str, choices: Sequence[Any], path: str, default: Any = ...) -> Any:
    if key not in raw or raw[key] is None:
        if default is ...:
            raise ConfigurationError(f"required; one of {', '.join(map(str, choices))}", path=f"{path}.{key}")
        return default
    value = raw[key]
    if value not in choices:
        raise ConfigurationError(
            f"expected one of {', '.join(map(str, choices))}, got {value!r}", path=f"{path}.{key}"
        )
    return value


def _objects(raw: Any, path: str, *, single_ok: bool) -> list[Mapping[str, Any]]:
    if raw is None:
        return []
    if single_ok and isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list | tuple):
        raise ConfigurationError(f"expected a list of objects, got {type(raw).__name__}", path=path)
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise ConfigurationError(
                f"expected an object, got {type(item).__name__}", path=f"{path}[{index}]"
            )
    return list(raw)


def _unknown(raw: Mapping[str, Any], known: set[str], path: str) -> None:
    extra = sorted(str(key) for key in raw if key not in known)
    if extra:
        raise ConfigurationError(f"unknown field(s) {extra}; known: {sorted(known)}", path=path)


def _parse_rate_limits(raw: Any, path: str) -> tuple[RateLimit, ...]:
    out = []
    for index, item in enumerate(_objects(raw, path, single_ok=False)):
        where = f"{path}[{index}]"
        _unknown(item, {"type", "unit", "value"}, where)
        kind = _choice(item, "type", RATE_TYPES, where)
        unit = _choice(item, "unit", tuple(RATE_UNITS), where)
        value = item.get("value")
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ConfigurationError(f"expected a whole number > 0, got {value!r}", path=f"{where}.value")
        out.append(RateLimit(kind, unit, value))
    return tuple(out)


def _parse_usage_limits(raw: Any, path: str) -> tuple[UsageLimit, ...]:
    items = _objects(raw, path, single_ok=True)
    single = isinstance(raw, Mapping)
    out = []
    for index, item in enumerate(items):
        where = path if single else f"{path}[{index}]"
        _unknown(item, {"credit_limit", "type", "alert_threshold", "periodic_reset"}, where)
        limit = item.get("credit_limit")
        if not _finite(limit) or limit <= 0:
            raise ConfigurationError(f"expected a number > 0, got {limit!r}", path=f"{where}.credit_limit")
        kind = _choice(item, "type", USAGE_TYPES, where, "cost")
        alert = item.get("alert_threshold")
        if alert is not None and (not _finite(alert) or not 0 < alert <= limit):
            raise ConfigurationError(
                f"expected a number > 0 and <= credit_limit ({limit}), got {alert!r}",
                path=f"{where}.alert_threshold",
            )
        reset = _choice(item, "periodic_reset", PERIODS, where, None)
        out.append(UsageLimit(float(limit), kind, None if alert is None else float(alert), reset))
    return tuple(out)
