"""``gw.ai.analytics``: usage, costs, performance, time series and per-provider statistics.

Method names, parameters and return fields follow the spec. Each call first writes the records
still queued by this store's writer, so an answer includes every request finished before it.
Argument errors are :class:`~strands_portkey.errors.InvalidRequestError` naming the argument.
"""

from __future__ import annotations

from typing import Any

from ..analytics import queries
from ..analytics.stats import CostBreakdown, PerformanceStats, ProviderStats, TimeSeriesData, UsageStats
from ..analytics.window import (
    GRANULARITIES,
    GROUPINGS,
    METRICS,
    DateLike,
    Window,
    check_choice,
    check_optional,
    parse_window,
)
from .plane import ControlPlane

__all__ = ["Analytics"]

_USAGE_COLUMNS = {
    "requests": "requests",
    "total_tokens": "tokens",
    "prompt_tokens": "prompt_tokens",
    "completion_tokens": "completion_tokens",
    "cost": "cost",
    "errors": "errors",
}


class Analytics:
    """Queries over the request records of one control plane's store."""

    def __init__(self, plane: ControlPlane) -> None:
        self._plane = plane

    def __repr__(self) -> str:
        return f"Analytics(store={self._plane.store!r})"

    def _read(self) -> Any:
        self._plane.records.flush()
        return self._plane.store.reading()

    def usage(
        self,
        *,
        start_date: DateLike = None,
        end_date: DateLike = None,
        model_id: str | None = None,
        provider: str | None = None,
        granularity: str | None = None,
    ) -> UsageStats:
        """Requests and tokens; ``breakdown`` per bucket of ``granularity`` (default daily)."""
        bucket = check_choice(granularity, "granularity", GRANULARITIES, "daily")
        window = parse_window(start_date, end_date, model_id, provider)
        with self._read() as session:
            total = queries.totals(session, window)
            rows = queries.series(session, window, bucket, _USAGE_COLUMNS)
        breakdown = _filled(
            window, bucket, [(when, _usage_entry(values)) for when, values in rows], _usage_entry({})
        )
        return UsageStats(
            total_requests=int(total["requests"]),
            total_tokens=int(total["total_tokens"]),
            prompt_tokens=int(total["prompt_tokens"]),
            completion_tokens=int(total["completion_tokens"]),
            period=window.period,
            start_date=window.start_label,
            end_date=window.end_label,
            model_id=model_id,
            provider=provider,
            granularity=bucket,
            breakdown=breakdown,
            cache_read_tokens=int(total["cache_read_tokens"]),
            cache_write_tokens=int(total["cache_write_tokens"]),
        )

    def costs(
        self,
        *,
        start_date: DateLike = None,
        end_date: DateLike = None,
        model_id: str | None = None,
        provider: str | None = None,
        group_by: str | None = None,
    ) -> CostBreakdown:
        """Total cost in USD (and credits); ``by_model`` / ``by_provider`` per ``group_by`` (both if None)."""
        grouping = check_optional(group_by, "group_by", GROUPINGS)
        window = parse_window(start_date, end_date, model_id, provider)
        with self._read() as session:
            total = queries.totals(session, window)
            by_model = queries.cost_groups(session, window, "model_id") if grouping != "provider" else []
            by_provider = queries.cost_groups(session, window, "provider") if grouping != "model" else []
        return CostBreakdown(
            total_cost=float(total["cost_usd"]),
            currency="USD",
            period=window.period,
            start_date=window.start_label,
            end_date=window.end_label,
            model_id=model_id,
            provider=provider,
            group_by=grouping,
            by_model=by_model,
            by_provider=by_provider,
            total_credits=float(total["cost_credits"]),
            unpriced_requests=int(total["requests"]) - int(total["priced"]),
        )

    def performance(
        self,
        *,
        start_date: DateLike = None,
        end_date: DateLike = None,
        model_id: str | None = None,
        provider: str | None = None,
    ) -> PerformanceStats:
        """Mean and p50/p95/p99 latency (nearest rank), error rate, throughput (requests per second)."""
        window = parse_window(start_date, end_date, model_id, provider)
        with self._read() as session:
            total = queries.totals(session, window)
            count = int(total["requests"])
            p50, p95, p99 = queries.percentiles(session, window, count, (0.5, 0.95, 0.99))
        return PerformanceStats(
            start_date=window.start_label,
            end_date=window.end_label,
            model_id=model_id,
            provider=provider,
            avg_latency_ms=float(total["avg_latency_ms"] or 0.0),
            p50_latency_ms=p50,
            p95_latency_ms=p95,
            p99_latency_ms=p99,
            error_rate=int(total["errors"]) / count if count else 0.0,
            throughput=count / _seconds(window, total) if count else 0.0,
            total_requests=count,
            avg_ttft_ms=None if total["avg_ttft_ms"] is None else float(total["avg_ttft_ms"]),
        )

    def time_series(
        self,
        *,
        start_date: DateLike = None,
        end_date: DateLike = None,
        model_id: str | None = None,
        metric: str | None = None,
        granularity: str | None = None,
        provider: str | None = None,
    ) -> TimeSeriesData:
        """``metric`` (default requests) per bucket of ``granularity`` (default daily)."""
        chosen = check_choice(metric, "metric", METRICS, "requests")
        bucket = check_choice(granularity, "granularity", GRANULARITIES, "daily")
        window = parse_window(start_date, end_date, model_id, provider)
        with self._read() as session:
            rows = queries.series(session, window, bucket, {"value": chosen})
        points = [(when, {"value": _number(values["value"])}) for when, values in rows]
        return TimeSeriesData(
            metric=chosen,
            granularity=bucket,
            start_date=window.start_label,
            end_date=window.end_label,
            model_id=model_id,
            provider=provider,
            data=_filled(window, bucket, points, {"value": 0}),
        )

    def providers(self, *, start_date: DateLike = None, end_date: DateLike = None) -> ProviderStats:
        """Per provider: requests, errors, error rate, mean latency, tokens and cost."""
        window = parse_window(start_date, end_date)
        with self._read() as session:
            groups = queries.provider_groups(session, window)
        return ProviderStats(
            start_date=window.start_label,
            end_date=window.end_label,
            period=window.period,
            providers=groups,
            total_requests=sum(int(group["requests"]) for group in groups),
        )


def _number(value: Any) -> int | float:
    return value if isinstance(value, int) else float(value)


def _usage_entry(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "requests": int(values.get("requests", 0)),
        "total_tokens": int(values.get("total_tokens", 0)),
        "prompt_tokens": int(values.get("prompt_tokens", 0)),
        "completion_tokens": int(values.get("completion_tokens", 0)),
        "cost": float(values.get("cost", 0.0)),
        "errors": int(values.get("errors", 0)),
    }


def _filled(
    window: Window, granularity: str, points: list[tuple[Any, dict[str, Any]]], empty: dict[str, Any]
) -> list[dict[str, Any]]:
    """``[{"timestamp", ...values}]`` per bucket; every bucket of a closed window, zeros where empty."""
    found = {when: values for when, values in points}
    starts = queries.bucket_starts(window, granularity) or [when for when, _ in points]
    return [{"timestamp": queries.label(when), **found.get(when, empty)} for when in starts]


def _seconds(window: Window, total: dict[str, Any]) -> float:
    if window.start is not None and window.end is not None:
        return max((window.end - window.start).total_seconds(), 1.0)
    first, last = total["first"], total["last"]
    start = window.start or (queries.as_time(first) if first is not None else None)
    end = window.end or (queries.as_time(last) if last is not None else None)
    if start is None or end is None:
        return 1.0
    return max((end - start).total_seconds(), 1.0)
