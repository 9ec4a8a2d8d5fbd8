"""The analytics queries, computed in SQL (SQLite and PostgreSQL), one function per API method.

Two sources answer them. When a query's window falls on whole hours (every ``YYYY-MM-DD`` date
does, and no dates at all), sums come from ``request_rollups`` -- at most one row per hour, model
and provider -- so they stay fast at millions of records. Other windows, and one user's requests
(a member's view on the server; the rollups have no user), read ``request_records`` directly.
Both give the same numbers (the unit tests check each path against the same fixture).
Percentiles always read the records, through an index that carries ``latency_ms``.

Definitions:

- ``error_rate``: records with status ``error`` / all records (``cancelled`` is not an error).
- percentiles: nearest rank -- the smallest latency with at least p % of records at or below it
  (what PostgreSQL's ``percentile_disc`` gives), read by ``ORDER BY latency_ms .. OFFSET`` from the
  nearer end of a ``latency_ms`` index, so nothing is sorted.
- ``throughput``: requests / seconds of the window (``start_date``..``end_date``; without both,
  the span from the first to the last record, at least one second).
- buckets: hourly, daily, weekly (ISO weeks, from Monday) and monthly, in UTC. With both dates
  given, empty buckets are listed with zeros.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Float, Select, String, case, func, literal_column, select, text
from sqlalchemy.orm import Session

from ..store.tables import RequestRecordRow, RequestRollupRow, UTCDateTime
from .window import Window

__all__ = [
    "SUMS",
    "as_time",
    "bucket_starts",
    "groups",
    "label",
    "percentiles",
    "series",
    "span",
    "totals",
]

R = RequestRecordRow
U = RequestRollupRow
_S = TypeVar("_S", bound=Select[Any])
_SQLITE_BUCKETS = {
    "hourly": ("%Y-%m-%d %H:00:00",),
    "daily": ("%Y-%m-%d 00:00:00",),
    "weekly": ("%Y-%m-%d 00:00:00", "weekday 0", "-6 days"),
    "monthly": ("%Y-%m-01 00:00:00",),
}
_PG_BUCKETS = {"hourly": "hour", "daily": "day", "weekly": "week", "monthly": "month"}
_MAX_FILLED_BUCKETS = 10_000
_HOUR = dt.timedelta(hours=1)
SUMS = (
    "requests",
    "errors",
    "prompt_tokens",
    "completion_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "total_tokens",
    "cost_usd",
    "cost_credits",
    "priced",
    "latency_sum",
    "ttft_sum",
    "ttft_count",
)
_FLOATS = frozenset({"cost_usd", "cost_credits", "latency_sum", "ttft_sum"})


@dataclass(frozen=True)
class _Source:
    """One table the sums are read from: the records, or their hourly rollups."""

    time: Any
    model_id: Any
    provider: Any
    sums: dict[str, ColumnElement[Any]]
    user: Any = None  # the records' user column (the rollups have none: a user's window reads records)


def _records() -> _Source:
    sums: dict[str, ColumnElement[Any]] = {
        "requests": func.count(),
        "errors": func.coalesce(func.sum(case((R.status == "error", 1), else_=0)), 0),
        "priced": func.count(R.cost_usd),
        "latency_sum": func.coalesce(func.sum(R.latency_ms), 0.0),
        "ttft_sum": func.coalesce(func.sum(R.ttft_ms), 0.0),
        "ttft_count": func.count(R.ttft_ms),
    }
    for name in (
        "prompt_tokens",
        "completion_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "total_tokens",
    ):
        sums[name] = func.coalesce(func.sum(getattr(R, name)), 0)
    for name in ("cost_usd", "cost_credits"):
        sums[name] = func.coalesce(func.sum(getattr(R, name)), 0.0)
    return _Source(R.created_at, R.model_id, R.provider, sums, R.user)


def _rollups() -> _Source:
    sums: dict[str, ColumnElement[Any]] = {
        name: func.coalesce(func.sum(getattr(U, name)), 0.0 if name in _FLOATS else 0) for name in SUMS
    }
    return _Source(U.hour, U.model_id, U.provider, sums)


def _floor_hour(when: dt.datetime) -> dt.datetime:
    return when.replace(minute=0, second=0, microsecond=0)


def _ceil_hour(when: dt.datetime) -> dt.datetime:
    floor = _floor_hour(when)
    return floor if floor == when else floor + _HOUR


def _parts(window: Window, raw: bool) -> list[tuple[Window, _Source]]:
    """The window split into whole hours (read from rollups) and the partial hours at its edges."""
    if raw or window.user is not None:
        return [(window, _records())]
    inner_start = None if window.start is None else _ceil_hour(window.start)
    inner_end = None if window.end is None else _floor_hour(window.end)
    if inner_start is not None and inner_end is not None and inner_start >= inner_end:
        return [(window, _records())]  # less than two hours: the records are few
    parts = [(replace(window, start=inner_start, end=inner_end), _rollups())]
    if window.start is not None and inner_start != window.start:
        parts.append((replace(window, end=inner_start), _records()))
    if window.end is not None and inner_end != window.end:
        parts.append((replace(window, start=inner_end), _records()))
    return parts


def _where(statement: _S, window: Window, source: _Source) -> _S:
    if window.start is not None:
        statement = statement.where(source.time >= window.start)
    if window.end is not None:
        statement = statement.where(source.time < window.end)
    if window.model_id is not None:
        statement = statement.where(source.model_id == window.model_id)
    if window.provider is not None:
        statement = statement.where(source.provider == window.provider)
    if window.user is not None:
        statement = statement.where(source.user == window.user)
    return statement


def _typed(values: Any) -> dict[str, Any]:
    """Sums as Python numbers (PostgreSQL returns Decimal for sums of big integers)."""
    return {name: (float(values[name]) if name in _FLOATS else int(values[name])) for name in SUMS}


def _add(into: dict[str, Any], more: Mapping[str, Any]) -> None:
    for name in SUMS:
        into[name] += more[name]


def _labelled(source: _Source) -> list[ColumnElement[Any]]:
    return [column.label(name) for name, column in source.sums.items()]


def totals(session: Session, window: Window, *, raw: bool = False) -> dict[str, Any]:
    """The window's sums (see :data:`SUMS`), from rollups for whole hours, records for the rest."""
    out = dict.fromkeys(SUMS, 0)
    for part, src in _parts(window, raw):
        _add(out, _typed(session.execute(_where(select(*_labelled(src)), part, src)).one()._mapping))
    return out


def span(session: Session, window: Window) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The first and last record time in the window (index lookups, no scan)."""
    src = _records()
    first = session.execute(_where(select(func.min(R.created_at)), window, src)).scalar()
    last = session.execute(_where(select(func.max(R.created_at)), window, src)).scalar()
    return (None if first is None else as_time(first)), (None if last is None else as_time(last))


def percentiles(session: Session, window: Window, count: int, points: tuple[float, ...]) -> list[float]:
    """Nearest-rank latency percentiles (``points`` in 0..1) of the window's ``count`` records."""
    if count == 0:
        return [0.0 for _ in points]
    # walk the latency order of the narrowest index (no sort); SQLite is told which index to use
    index = "ix_request_records_latency"
    if window.user is not None:
        index = "ix_request_records_user_latency"
    elif window.provider is not None:
        index = "ix_request_records_provider_latency"
    elif window.model_id is not None:
        index = "ix_request_records_model_latency"
    hinted = _Source(
        literal_column("created_at", UTCDateTime()),
        literal_column("model_id", String()),
        literal_column("provider", String()),
        {},
        literal_column('"user"', String()),
    )
    latency = literal_column("latency_ms", Float())
    values = []
    for point in points:
        rank = max(math.ceil(point * count), 1)
        statement = _where(select(latency).select_from(text(_hinted_table(session, index))), window, hinted)
        if rank <= count // 2:
            statement = statement.order_by(latency).offset(rank - 1)
        else:  # walk from the top: p95 / p99 step over a few percent of the index, not all of it
            statement = statement.order_by(latency.desc()).offset(count - rank)
        values.append(float(session.execute(statement.limit(1)).scalar_one()))
    return values


def _hinted_table(session: Session, index: str) -> str:
    """``request_records``, with SQLite's ``INDEXED BY`` (PostgreSQL picks the index itself)."""
    return "request_records" + (f" INDEXED BY {index}" if session.get_bind().dialect.name == "sqlite" else "")


def _bucket(dialect: str, granularity: str, time: Any) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return func.date_trunc(_PG_BUCKETS[granularity], time)
    fmt, *modifiers = _SQLITE_BUCKETS[granularity]
    return func.strftime(fmt, time, *[literal_column(f"'{m}'") for m in modifiers])


def as_time(value: Any) -> dt.datetime:
    """A bucket or timestamp as the database returns it, as an aware UTC datetime."""
    when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return when.replace(tzinfo=dt.timezone.utc) if when.tzinfo is None else when.astimezone(dt.timezone.utc)


def label(when: dt.datetime) -> str:
    """``2025-01-31T00:00:00Z``."""
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def series(
    session: Session, window: Window, granularity: str, *, raw: bool = False
) -> list[tuple[dt.datetime, dict[str, Any]]]:
    """The sums per bucket of ``granularity`` (start time, sums), in time order."""
    merged: dict[dt.datetime, dict[str, Any]] = {}
    dialect = session.get_bind().dialect.name
    for part, src in _parts(window, raw):
        bucket = _bucket(dialect, granularity, src.time).label("bucket")
        statement = _where(select(bucket, *_labelled(src)), part, src).group_by(bucket)
        for row in session.execute(statement):
            when, sums = as_time(row.bucket), _typed(row._mapping)
            if when in merged:
                _add(merged[when], sums)
            else:
                merged[when] = sums
    return sorted(merged.items())


def _start_of(when: dt.datetime, granularity: str) -> dt.datetime:
    if granularity == "hourly":
        return when.replace(minute=0, second=0, microsecond=0)
    day = when.replace(hour=0, minute=0, second=0, microsecond=0)
    if granularity == "daily":
        return day
    if granularity == "weekly":
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def _next(when: dt.datetime, granularity: str) -> dt.datetime:
    if granularity == "hourly":
        return when + dt.timedelta(hours=1)
    if granularity == "daily":
        return when + dt.timedelta(days=1)
    if granularity == "weekly":
        return when + dt.timedelta(weeks=1)
    return (when.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def bucket_starts(window: Window, granularity: str) -> list[dt.datetime] | None:
    """Every bucket of a window with both ends (``None`` if open or over 10,000 buckets)."""
    if window.start is None or window.end is None:
        return None
    starts, when = [], _start_of(window.start.astimezone(dt.timezone.utc), granularity)
    while when < window.end:
        starts.append(when)
        if len(starts) > _MAX_FILLED_BUCKETS:
            return None
        when = _next(when, granularity)
    return starts


def groups(session: Session, window: Window, key: str, *, raw: bool = False) -> list[dict[str, Any]]:
    """The sums per ``model_id`` or ``provider`` (each dict also holds the key), unordered."""
    merged: dict[str, dict[str, Any]] = {}
    for part, src in _parts(window, raw):
        column = src.model_id if key == "model_id" else src.provider
        statement = _where(select(column.label("key"), *_labelled(src)), part, src).group_by(column)
        for row in session.execute(statement):
            sums = _typed(row._mapping)
            if row.key in merged:
                _add(merged[row.key], sums)
            else:
                merged[row.key] = {key: row.key, **sums}
    return list(merged.values())
