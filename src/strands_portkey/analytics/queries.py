"""The analytics queries, computed in SQL (SQLite and PostgreSQL), one function per API method.

Every query filters ``request_records`` on ``created_at`` (and ``model_id`` / ``provider`` when
given), which the table's indexes serve. Definitions:

- ``error_rate``: records with status ``error`` / all records (``cancelled`` is not an error).
- percentiles: nearest rank -- the smallest latency with at least p % of records at or below it
  (PostgreSQL's ``percentile_disc``; on SQLite the same row read by ``ORDER BY .. OFFSET``, which
  walks the ``(latency_ms, created_at)`` index).
- ``throughput``: requests / seconds of the window (``start_date``..``end_date``; without both,
  the span from the first to the last record, at least one second).
- buckets: hourly, daily, weekly (ISO weeks, from Monday) and monthly, in UTC. With both dates
  given, empty buckets are listed with zeros.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, case, func, literal_column, select
from sqlalchemy.orm import Session

from ..store.tables import RequestRecordRow
from .window import Window

__all__ = [
    "as_time",
    "bucket_starts",
    "cost_groups",
    "label",
    "percentiles",
    "provider_groups",
    "series",
    "totals",
]

R = RequestRecordRow
_S = TypeVar("_S", bound=Select[Any])
_SQLITE_BUCKETS = {
    "hourly": ("%Y-%m-%d %H:00:00",),
    "daily": ("%Y-%m-%d 00:00:00",),
    "weekly": ("%Y-%m-%d 00:00:00", "weekday 0", "-6 days"),
    "monthly": ("%Y-%m-01 00:00:00",),
}
_PG_BUCKETS = {"hourly": "hour", "daily": "day", "weekly": "week", "monthly": "month"}
_MAX_FILLED_BUCKETS = 10_000


def _where(statement: _S, window: Window) -> _S:
    if window.start is not None:
        statement = statement.where(R.created_at >= window.start)
    if window.end is not None:
        statement = statement.where(R.created_at < window.end)
    if window.model_id is not None:
        statement = statement.where(R.model_id == window.model_id)
    if window.provider is not None:
        statement = statement.where(R.provider == window.provider)
    return statement


def _errors() -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((R.status == "error", 1), else_=0)), 0)


def totals(session: Session, window: Window) -> dict[str, Any]:
    """Counts, token sums, cost sums, latency mean and the time span of the window's records."""
    statement = _where(
        select(
            func.count().label("requests"),
            _errors().label("errors"),
            func.coalesce(func.sum(R.prompt_tokens), 0).label("prompt_tokens"),
            func.coalesce(func.sum(R.completion_tokens), 0).label("completion_tokens"),
            func.coalesce(func.sum(R.total_tokens), 0).label("total_tokens"),
            func.coalesce(func.sum(R.cache_read_tokens), 0).label("cache_read_tokens"),
            func.coalesce(func.sum(R.cache_write_tokens), 0).label("cache_write_tokens"),
            func.coalesce(func.sum(R.cost_usd), 0.0).label("cost_usd"),
            func.coalesce(func.sum(R.cost_credits), 0.0).label("cost_credits"),
            func.count(R.cost_usd).label("priced"),
            func.avg(R.latency_ms).label("avg_latency_ms"),
            func.avg(R.ttft_ms).label("avg_ttft_ms"),
            func.min(R.created_at).label("first"),
            func.max(R.created_at).label("last"),
        ),
        window,
    )
    return dict(session.execute(statement).one()._mapping)


def percentiles(session: Session, window: Window, count: int, points: tuple[float, ...]) -> list[float]:
    """Nearest-rank latency percentiles (``points`` in 0..1) of the window's ``count`` records."""
    if count == 0:
        return [0.0 for _ in points]
    if session.get_bind().dialect.name == "postgresql":
        columns = [func.percentile_disc(p).within_group(R.latency_ms) for p in points]
        return [float(value) for value in session.execute(_where(select(*columns), window)).one()]
    values = []
    for point in points:
        rank = max(math.ceil(point * count), 1)
        statement = _where(select(R.latency_ms), window).order_by(R.latency_ms).offset(rank - 1).limit(1)
        values.append(float(session.execute(statement).scalar_one()))
    return values


def _bucket(dialect: str, granularity: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return func.date_trunc(_PG_BUCKETS[granularity], R.created_at)
    fmt, *modifiers = _SQLITE_BUCKETS[granularity]
    return func.strftime(fmt, R.created_at, *[literal_column(f"'{m}'") for m in modifiers])


def as_time(value: Any) -> dt.datetime:
    """A bucket or timestamp as the database returns it, as an aware UTC datetime."""
    when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return when.replace(tzinfo=dt.timezone.utc) if when.tzinfo is None else when.astimezone(dt.timezone.utc)


def label(when: dt.datetime) -> str:
    """``2025-01-31T00:00:00Z``."""
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _metric_columns(metric: str) -> ColumnElement[Any]:
    columns: dict[str, ColumnElement[Any]] = {
        "requests": func.count(),
        "tokens": func.coalesce(func.sum(R.total_tokens), 0),
        "prompt_tokens": func.coalesce(func.sum(R.prompt_tokens), 0),
        "completion_tokens": func.coalesce(func.sum(R.completion_tokens), 0),
        "cost": func.coalesce(func.sum(R.cost_usd), 0.0),
        "latency": func.coalesce(func.avg(R.latency_ms), 0.0),
        "errors": _errors(),
    }
    return columns[metric]


def series(
    session: Session, window: Window, granularity: str, columns: dict[str, str]
) -> list[tuple[dt.datetime, dict[str, Any]]]:
    """Per bucket (start time, {name: value}) for ``columns`` = {name: metric}, in time order."""
    bucket = _bucket(session.get_bind().dialect.name, granularity).label("bucket")
    values = [_metric_columns(metric).label(name) for name, metric in columns.items()]
    statement = _where(select(bucket, *values), window).group_by(bucket).order_by(bucket)
    out = []
    for row in session.execute(statement):
        mapping = dict(row._mapping)
        out.append((as_time(mapping.pop("bucket")), mapping))
    return out


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


def cost_groups(session: Session, window: Window, column: str) -> list[dict[str, Any]]:
    """Cost, credits, requests and tokens per ``model_id`` or ``provider``, costliest first."""
    key = R.model_id if column == "model_id" else R.provider
    cost = func.coalesce(func.sum(R.cost_usd), 0.0).label("cost")
    columns: list[ColumnElement[Any]] = [
        key.label(column),
        cost,
        func.coalesce(func.sum(R.cost_credits), 0.0).label("credits"),
        func.count().label("requests"),
        func.coalesce(func.sum(R.total_tokens), 0).label("tokens"),
    ]
    statement = _where(select(*columns), window).group_by(key)
    rows = [dict(row._mapping) for row in session.execute(statement.order_by(cost.desc(), key))]
    for row in rows:
        row["cost"], row["credits"] = float(row["cost"]), float(row["credits"])
    return rows


def provider_groups(session: Session, window: Window) -> list[dict[str, Any]]:
    """Per provider: requests, errors, error rate, mean latency, tokens, cost; busiest first."""
    requests = func.count().label("requests")
    statement = _where(
        select(
            R.provider.label("provider"),
            requests,
            _errors().label("errors"),
            func.avg(R.latency_ms).label("avg_latency_ms"),
            func.coalesce(func.sum(R.total_tokens), 0).label("total_tokens"),
            func.coalesce(func.sum(R.cost_usd), 0.0).label("cost"),
        ),
        window,
    ).group_by(R.provider)
    out = []
    for row in session.execute(statement.order_by(requests.desc(), R.provider)):
        entry = dict(row._mapping)
        entry["errors"] = int(entry["errors"])
        entry["error_rate"] = entry["errors"] / entry["requests"]
        entry["avg_latency_ms"] = float(entry["avg_latency_ms"] or 0.0)
        entry["cost"] = float(entry["cost"])
        out.append(entry)
    return out
