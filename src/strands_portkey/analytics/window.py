"""Arguments of the analytics queries, checked once: dates, granularity, metric, grouping.

Dates are ``YYYY-MM-DD`` (a whole day: an ``end_date`` day is included up to its midnight) or
ISO-8601 times (``2025-01-15T10:30:00Z``; naive times are UTC), or ``date`` / ``datetime`` objects.
Every bad value raises :class:`~strands_portkey.errors.InvalidRequestError` naming the argument.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..errors import InvalidRequestError

__all__ = [
    "GRANULARITIES",
    "GROUPINGS",
    "METRICS",
    "DateLike",
    "Window",
    "check_choice",
    "check_optional",
    "parse_window",
]

GRANULARITIES = ("hourly", "daily", "weekly", "monthly")
METRICS = ("requests", "tokens", "cost", "latency", "errors")
GROUPINGS = ("model", "provider")
DateLike = str | dt.date | dt.datetime | None
_UTC = dt.timezone.utc


@dataclass(frozen=True, slots=True)
class Window:
    """Which records a query reads: ``start <= created_at < end`` (either open) and the filters."""

    start: dt.datetime | None
    end: dt.datetime | None
    start_label: str | None
    end_label: str | None
    model_id: str | None = None
    provider: str | None = None
    user: str | None = None
    """Only this user's requests (a member's view on the server); ``None``: everyone's."""

    @property
    def period(self) -> str:
        """``2025-01-01 to 2025-01-31``, ``since ...``, ``until ...`` or ``all time``."""
        if self.start_label and self.end_label:
            return f"{self.start_label} to {self.end_label}"
        if self.start_label:
            return f"since {self.start_label}"
        if self.end_label:
            return f"until {self.end_label}"
        return "all time"


def _parse(value: DateLike, name: str, *, end: bool) -> tuple[dt.datetime | None, str | None]:
    """The bound and its label; an end date (a whole day) becomes the next midnight, exclusive."""
    if value is None:
        return None, None
    if isinstance(value, dt.datetime):
        when = (value if value.tzinfo else value.replace(tzinfo=_UTC)).astimezone(_UTC)
        return (when + dt.timedelta(microseconds=1) if end else when), value.isoformat()
    if isinstance(value, dt.date):
        day = dt.datetime(value.year, value.month, value.day, tzinfo=_UTC)
        return (day + dt.timedelta(days=1) if end else day), value.isoformat()
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError(
            f"expected a date like '2025-01-31' or an ISO-8601 time, got {value!r}", path=name
        )
    text = value.strip()
    try:
        if len(text) == 10:
            return _parse(dt.date.fromisoformat(text), name, end=end)[0], text
        return _parse(dt.datetime.fromisoformat(text.replace("Z", "+00:00")), name, end=end)[0], text
    except ValueError:
        raise InvalidRequestError(
            f"{value!r} is not a date; use 'YYYY-MM-DD' (e.g. '2025-01-31') or an ISO-8601 time "
            "such as '2025-01-31T10:00:00Z'",
            path=name,
        ) from None


def _filter(value: str | None, name: str) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise InvalidRequestError(f"expected a non-empty string, got {value!r}", path=name)
    return value


def parse_window(
    start_date: DateLike, end_date: DateLike, model_id: str | None = None, provider: str | None = None
) -> Window:
    """Check the dates and filters of a query (start must not be after end)."""
    start, start_label = _parse(start_date, "start_date", end=False)
    end, end_label = _parse(end_date, "end_date", end=True)
    if start is not None and end is not None and start >= end:
        raise InvalidRequestError(
            f"{start_label!r} is after end_date {end_label!r}; swap them", path="start_date"
        )
    return Window(
        start, end, start_label, end_label, _filter(model_id, "model_id"), _filter(provider, "provider")
    )


def check_choice(value: str | None, name: str, choices: tuple[str, ...], default: str) -> str:
    """``value`` if it is one of ``choices`` (``default`` when None); else a clear error."""
    checked = check_optional(value, name, choices)
    return default if checked is None else checked


def check_optional(value: str | None, name: str, choices: tuple[str, ...]) -> str | None:
    """``value`` (may be None) if it is one of ``choices``; else a clear error."""
    if value is not None and value not in choices:
        raise InvalidRequestError(f"unknown value {value!r}; expected one of {', '.join(choices)}", path=name)
    return value
