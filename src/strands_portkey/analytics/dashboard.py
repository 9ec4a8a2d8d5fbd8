"""The dashboard's Overview: every headline number of a window, and each as a series over time.

One call (:func:`overview`) answers the whole page with a handful of grouped reads, never a scan of
the records: windows of a day or more read the hourly ``dashboard_rollups`` and
``dashboard_latency`` (hourly buckets, daily for 30 days); the last hour reads the records of that
hour (minute buckets) through the ``created_at`` index, or ``(key_user, created_at)`` for a member.
``owner`` narrows everything to the requests made with keys of that user (a member's view).

Latency percentiles come from the latency histograms (24 bins a decade, so within about 5 %), the
same way for the window's numbers and for each bucket. Time to first token is the mean over
streamed requests; the cache hit rate counts lookups only (requests with the cache off are left
out); "saved" is what the hits would have cost at the provider's rate.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, false, func, literal_column, select
from sqlalchemy.orm import Session

from ..errors import InvalidRequestError
from ..store.dashboard_tables import (
    LATENCY_BOUNDS,
    DashboardLatencyRow,
    DashboardRollupRow,
    latency_of_bin,
)
from ..store.tables import RequestRecordRow
from .dashboard_rollups import DASHBOARD_SUMS, EVERYONE
from .queries import as_time, label

__all__ = ["SPLITS", "WINDOWS", "Span", "overview", "span_of"]

R, D, L = RequestRecordRow, DashboardRollupRow, DashboardLatencyRow
SPLITS = ("model", "provider")
WINDOWS = {"1h": (dt.timedelta(hours=1), "minute"), "24h": (dt.timedelta(days=1), "hour"),
           "7d": (dt.timedelta(days=7), "hour"), "30d": (dt.timedelta(days=30), "day")}  # fmt: skip
_STEP = {"minute": dt.timedelta(minutes=1), "hour": dt.timedelta(hours=1), "day": dt.timedelta(days=1)}
_TOP = 6  # series split by model or provider: the biggest few, the rest summed as "other"
_SPLIT_METRICS = ("requests", "total_tokens", "cost_usd", "errors")
_FLOATS = frozenset({"cost_usd", "cost_credits", "latency_sum", "ttft_sum", "saved_usd"})
_POINTS = {"p50": 0.50, "p95": 0.95, "p99": 0.99}


@dataclass(frozen=True, slots=True)
class Span:
    """A window: ``start <= t < end``, bucketed by ``step`` (``minute``, ``hour`` or ``day``)."""

    name: str
    start: dt.datetime
    end: dt.datetime
    step: str

    def buckets(self) -> list[dt.datetime]:
        """Every bucket start of the window, oldest first."""
        out, when = [], self.start
        while when < self.end:
            out.append(when)
            when += _STEP[self.step]
        return out

    def bucket_of(self, when: dt.datetime) -> dt.datetime:
        """The bucket ``when`` falls in."""
        if self.step == "minute":
            return when.replace(second=0, microsecond=0)
        hour = when.replace(minute=0, second=0, microsecond=0)
        return hour if self.step == "hour" else hour.replace(hour=0)


def span_of(window: str, now: dt.datetime) -> Span:
    """The named window ending now (``1h``, ``24h``, ``7d``, ``30d``), aligned to whole buckets."""
    if window not in WINDOWS:
        raise InvalidRequestError(
            f"unknown window {window!r}; expected one of {', '.join(WINDOWS)}", path="window"
        )
    length, step = WINDOWS[window]
    now = now.astimezone(dt.timezone.utc)
    if step == "minute":
        end = now.replace(second=0, microsecond=0) + _STEP[step]
    elif step == "hour":
        end = now.replace(minute=0, second=0, microsecond=0) + _STEP[step]
    else:
        end = now.replace(hour=0, minute=0, second=0, microsecond=0) + _STEP[step]
    return Span(window, end - length, end, step)


# ------------------------------------------------------------------ reading the sums


def _record_sums() -> dict[str, ColumnElement[Any]]:
    hits = case((R.cache_status.in_(("HIT", "SEMANTIC HIT")), 1), else_=0)
    return {
        "requests": func.count(),
        "errors": func.sum(case((R.status == "error", 1), else_=0)),
        "total_tokens": func.sum(R.total_tokens),
        "cost_usd": func.sum(R.cost_usd),
        "cost_credits": func.sum(R.cost_credits),
        "latency_sum": func.sum(R.latency_ms),
        "ttft_sum": func.sum(R.ttft_ms),
        "ttft_count": func.count(R.ttft_ms),
        "cache_hits": func.sum(hits),
        "cache_lookups": func.sum(case((R.cache_status == "DISABLED", 0), else_=1)),
        "saved_usd": func.sum(R.saved_usd),
        "rescued": func.sum(case((R.rescued.is_(True), 1), else_=0)),
        "guard_passed": func.sum(case((R.guard_verdict == "passed", 1), else_=0)),
        "guard_failed": func.sum(case((R.guard_verdict == "failed", 1), else_=0)),
        "guard_denied": func.sum(case((R.guard_verdict == "denied", 1), else_=0)),
    }


def _truncated(session: Session, column: Any, step: str) -> ColumnElement[Any]:
    """``column`` cut to the start of its minute or day (hours are the rollups' own buckets)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date_trunc(step, column)
    return func.strftime("%Y-%m-%d %H:%M:00" if step == "minute" else "%Y-%m-%d 00:00:00", column)


def _bin(column: Any) -> ColumnElement[Any]:
    whens = ((column < bound, index) for index, bound in enumerate(LATENCY_BOUNDS))
    return case(*whens, else_=len(LATENCY_BOUNDS))


def _number(name: str, value: Any) -> float | int:
    if value is None:
        return 0.0 if name in _FLOATS else 0
    return float(value) if name in _FLOATS else int(value)


def _mine(column: Any, owner: str | None) -> ColumnElement[bool]:
    """A member's rows: its key user's (an empty user owns nothing: ``""`` is everyone's sums)."""
    return column == owner if owner else false()


def _bucket(session: Session, span: Span, column: Any) -> Any:
    return column if span.step == "hour" else _truncated(session, column, span.step)


def _sums_rows(
    session: Session, span: Span, split: str, owner: str | None
) -> list[tuple[dt.datetime, str, dict[str, Any]]]:
    """(bucket start, split key, sums) of the window, from the records (1h) or the rollups."""
    if span.step == "minute":
        key = R.model_id if split == "model" else R.provider
        sums = [c.label(n) for n, c in _record_sums().items()]
        statement = select(
            _truncated(session, R.created_at, "minute").label("bucket"), key.label("key"), *sums
        )
        statement = statement.where(R.created_at >= span.start, R.created_at < span.end)
        if owner is not None:
            statement = statement.where(_mine(R.key_user, owner))
    else:
        key = D.model_id if split == "model" else D.provider
        summed = [func.sum(getattr(D, name)).label(name) for name in DASHBOARD_SUMS]
        statement = select(_bucket(session, span, D.hour).label("bucket"), key.label("key"), *summed)
        statement = statement.where(D.hour >= span.start, D.hour < span.end)
        statement = statement.where(_mine(D.key_user, owner) if owner is not None else D.key_user == EVERYONE)
    statement = statement.group_by(literal_column("bucket"), literal_column("key"))
    out = []
    for row in session.execute(statement):
        values = tuple(row)
        sums_of = {name: _number(name, values[2 + i]) for i, name in enumerate(DASHBOARD_SUMS)}
        out.append((span.bucket_of(as_time(values[0])), str(values[1]), sums_of))
    return out


def _latency_rows(session: Session, span: Span, owner: str | None) -> list[tuple[dt.datetime, int, int]]:
    """(bucket start, latency bin, count) of the window."""
    if span.step == "minute":
        bucket, binned = _truncated(session, R.created_at, "minute"), _bin(R.latency_ms)
        statement = select(bucket.label("bucket"), binned.label("bin"), func.count().label("n"))
        statement = statement.where(R.created_at >= span.start, R.created_at < span.end)
        if owner is not None:
            statement = statement.where(_mine(R.key_user, owner))
    else:
        bucket = _bucket(session, span, L.hour)
        statement = select(bucket.label("bucket"), L.bin.label("bin"), func.sum(L.count).label("n"))
        statement = statement.where(L.hour >= span.start, L.hour < span.end)
        statement = statement.where(_mine(L.key_user, owner) if owner is not None else L.key_user == EVERYONE)
    statement = statement.group_by(literal_column("bucket"), literal_column("bin"))
    return [(span.bucket_of(as_time(b)), int(i), int(n)) for b, i, n in session.execute(statement)]


# ------------------------------------------------------------------ shaping the answer


def percentile(histogram: dict[int, int], point: float) -> float | None:
    """The nearest-rank percentile of a latency histogram (bin -> count), None when empty."""
    count = sum(histogram.values())
    if count == 0:
        return None
    rank, seen = max(math.ceil(point * count), 1), 0
    for index in sorted(histogram):
        seen += histogram[index]
        if seen >= rank:
            return round(latency_of_bin(index), 1)
    return None  # pragma: no cover - the loop always reaches rank


def _derived(sums: dict[str, Any]) -> dict[str, Any]:
    """Rates and means from sums (None where nothing was counted)."""
    requests = sums["requests"]
    return {
        **sums,
        "error_rate": sums["errors"] / requests if requests else None,
        "latency_avg": sums["latency_sum"] / requests if requests else None,
        "ttft_avg": sums["ttft_sum"] / sums["ttft_count"] if sums["ttft_count"] else None,
        "cache_hit_rate": sums["cache_hits"] / sums["cache_lookups"] if sums["cache_lookups"] else None,
    }


def _empty() -> dict[str, Any]:
    return dict.fromkeys(DASHBOARD_SUMS, 0)


def _folded(
    rows: list[tuple[dt.datetime, str, dict[str, Any]]], buckets: list[dt.datetime]
) -> tuple[dict[dt.datetime, dict[str, Any]], dict[str, dict[dt.datetime, dict[str, Any]]]]:
    per_bucket = {when: _empty() for when in buckets}
    per_key: dict[str, dict[dt.datetime, dict[str, Any]]] = {}
    for when, key, sums in rows:
        for target in (
            per_bucket.setdefault(when, _empty()),
            per_key.setdefault(key, {}).setdefault(when, _empty()),
        ):
            for name in DASHBOARD_SUMS:
                target[name] += sums[name]
    return per_bucket, per_key


def _split_series(
    per_key: dict[str, dict[dt.datetime, dict[str, Any]]], buckets: list[dt.datetime]
) -> list[dict[str, Any]]:
    """The biggest keys by requests, each with its series; the rest folded into ``other``."""
    ranked = sorted(per_key, key=lambda k: -sum(s["requests"] for s in per_key[k].values()))
    shown, rest = ranked[:_TOP], ranked[_TOP:]
    groups: list[tuple[str, list[str]]] = [(name, [name]) for name in shown]
    if rest:
        groups.append((f"other ({len(rest)})", rest))
    out = []
    for name, members in groups:
        series: dict[str, list[float | int]] = {metric: [] for metric in _SPLIT_METRICS}
        totals = dict.fromkeys(_SPLIT_METRICS, 0)
        for when in buckets:
            for metric in _SPLIT_METRICS:
                value = sum(per_key[m].get(when, {}).get(metric, 0) for m in members)
                series[metric].append(value)
                totals[metric] += value
        out.append({"name": name, "totals": totals, "series": series})
    return out


def _series(
    per_bucket: dict[dt.datetime, dict[str, Any]],
    hist: dict[dt.datetime, dict[int, int]],
    buckets: list[dt.datetime],
) -> dict[str, list[Any]]:
    derived = [_derived(per_bucket[when]) for when in buckets]
    out: dict[str, list[Any]] = {
        name: [d[name] for d in derived]
        for name in (*DASHBOARD_SUMS, "error_rate", "latency_avg", "ttft_avg", "cache_hit_rate")
    }
    for name, point in _POINTS.items():
        out[name] = [percentile(hist.get(when, {}), point) for when in buckets]
    return out


def overview(
    session: Session, span: Span, split: str, owner: str | None, now: Callable[[], dt.datetime] | None = None
) -> dict[str, Any]:
    """The Overview page's data for ``span``, split by ``model`` or ``provider``, narrowed to ``owner``."""
    if split not in SPLITS:
        raise InvalidRequestError(
            f"unknown split {split!r}; expected one of {', '.join(SPLITS)}", path="split"
        )
    buckets = span.buckets()
    per_bucket, per_key = _folded(_sums_rows(session, span, split, owner), buckets)
    hist: dict[dt.datetime, dict[int, int]] = {}
    total_hist: dict[int, int] = {}
    for when, index, count in _latency_rows(session, span, owner):
        bucket = hist.setdefault(when, {})
        bucket[index] = bucket.get(index, 0) + count
        total_hist[index] = total_hist.get(index, 0) + count
    totals = _empty()
    for sums in per_bucket.values():
        for name in DASHBOARD_SUMS:
            totals[name] += sums[name]
    headline = _derived(totals) | {name: percentile(total_hist, p) for name, p in _POINTS.items()}
    return {
        "window": {"name": span.name, "start": label(span.start), "end": label(span.end), "step": span.step},
        "split": split,
        "totals": headline,
        "buckets": [label(when) for when in buckets],
        "series": _series(per_bucket, hist, buckets),
        "groups": _split_series(per_key, buckets),
    }
