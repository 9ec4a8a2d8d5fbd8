"""``gw.ai.analytics``: usage, costs, performance, time series and per-provider statistics.

Method names, parameters and return fields follow the spec. Each call first writes the records
still queued by this store's writer, so an answer includes every request finished before it.
Argument errors are :class:`~strands_portkey.errors.InvalidRequestError` naming the argument.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from ..analytics import queries
from ..analytics.prompt_queries import prompt_versions
from ..analytics.stats import (
    CostBreakdown,
    PerformanceStats,
    PromptStats,
    ProviderStats,
    TimeSeriesData,
    UsageStats,
)
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
from ..errors import InvalidRequestError, ResourceNotFoundError
from .plane import ControlPlane

__all__ = ["Analytics"]

_METRICS: dict[str, Callable[[dict[str, Any]], int | float]] = {
    "requests": lambda sums: int(sums["requests"]),
    "tokens": lambda sums: int(sums["total_tokens"]),
    "cost": lambda sums: float(sums["cost_usd"]),
    "latency": lambda sums: _mean(sums["latency_sum"], sums["requests"]) or 0.0,
    "errors": lambda sums: int(sums["errors"]),
}


class Analytics:
    """Queries over the request records of one control plane's store.

    With ``user`` set, every answer covers only that user's requests (a member's view on the
    server); by default, everyone's.
    """

    def __init__(self, plane: ControlPlane, *, user: str | None = None) -> None:
        self._plane = plane
        self._user = user

    def __repr__(self) -> str:
        scope = "" if self._user is None else f", user={self._user!r}"
        return f"Analytics(store={self._plane.store!r}{scope})"

    def _window(
        self,
        start_date: DateLike,
        end_date: DateLike,
        model_id: str | None = None,
        provider: str | None = None,
    ) -> Window:
        window = parse_window(start_date, end_date, model_id, provider)
        return window if self._user is None else replace(window, user=self._user)

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
        window = self._window(start_date, end_date, model_id, provider)
        with self._read() as session:
            total = queries.totals(session, window)
            rows = queries.series(session, window, bucket)
        empty = _usage_entry(dict.fromkeys(queries.SUMS, 0))
        breakdown = _filled(window, bucket, [(when, _usage_entry(sums)) for when, sums in rows], empty)
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
        window = self._window(start_date, end_date, model_id, provider)
        with self._read() as session:
            total = queries.totals(session, window)
            by_model = _costs(session, window, "model_id") if grouping != "provider" else []
            by_provider = _costs(session, window, "provider") if grouping != "model" else []
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
        window = self._window(start_date, end_date, model_id, provider)
        with self._read() as session:
            total = queries.totals(session, window)
            total["first"], total["last"] = queries.span(session, window)
            count = int(total["requests"])
            p50, p95, p99 = queries.percentiles(session, window, count, (0.5, 0.95, 0.99))
        return PerformanceStats(
            start_date=window.start_label,
            end_date=window.end_label,
            model_id=model_id,
            provider=provider,
            avg_latency_ms=_mean(total["latency_sum"], count) or 0.0,
            p50_latency_ms=p50,
            p95_latency_ms=p95,
            p99_latency_ms=p99,
            error_rate=int(total["errors"]) / count if count else 0.0,
            throughput=count / _seconds(window, total) if count else 0.0,
            total_requests=count,
            avg_ttft_ms=_mean(total["ttft_sum"], total["ttft_count"]),
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
        window = self._window(start_date, end_date, model_id, provider)
        with self._read() as session:
            rows = queries.series(session, window, bucket)
        value = _METRICS[chosen]
        points = [(when, {"value": value(sums)}) for when, sums in rows]
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
        window = self._window(start_date, end_date)
        with self._read() as session:
            groups = sorted(
                (_provider_entry(sums) for sums in queries.groups(session, window, "provider")),
                key=lambda entry: (-entry["requests"], entry["provider"]),
            )
        return ProviderStats(
            start_date=window.start_label,
            end_date=window.end_label,
            period=window.period,
            providers=groups,
            total_requests=sum(int(group["requests"]) for group in groups),
        )

    def prompts(
        self, *, prompt_id: str | None = None, start_date: DateLike = None, end_date: DateLike = None
    ) -> PromptStats:
        """Requests made through prompts, per version (``prompt_id``: a ``pp-...`` id or a name).

        Two versions side by side: requests, errors, ``error_rate``, ``avg_latency_ms``,
        ``p50_latency_ms``, ``total_tokens`` and ``cost`` of each.
        """
        window = self._window(start_date, end_date)
        with self._read() as session:
            found = None if prompt_id is None else _prompt_id(session, prompt_id)
            versions = prompt_versions(session, window, found)
        return PromptStats(
            start_date=window.start_label,
            end_date=window.end_label,
            period=window.period,
            prompt_id=found,
            versions=versions,
            total_requests=sum(int(entry["requests"]) for entry in versions),
        )


def _prompt_id(session: Session, ref: str) -> str:
    """A prompt's id from its id or name (a deleted prompt's id is still accepted)."""
    from sqlalchemy import or_, select

    from ..store.prompt_tables import PromptRow

    if not isinstance(ref, str) or not ref:
        raise InvalidRequestError(f"expected a prompt id or name, got {ref!r}", path="prompt_id")
    found = session.scalars(
        select(PromptRow.id).where(or_(PromptRow.id == ref, PromptRow.name == ref))
    ).first()
    if found is None and not ref.startswith("pp-"):
        raise ResourceNotFoundError(f"no prompt with id or name {ref!r}")
    return found or ref


def _mean(total: float, count: int) -> float | None:
    return total / count if count else None


def _usage_entry(sums: dict[str, Any]) -> dict[str, Any]:
    return {
        "requests": sums["requests"],
        "total_tokens": sums["total_tokens"],
        "prompt_tokens": sums["prompt_tokens"],
        "completion_tokens": sums["completion_tokens"],
        "cost": sums["cost_usd"],
        "errors": sums["errors"],
    }


def _costs(session: Session, window: Window, key: str) -> list[dict[str, Any]]:
    """Cost, credits, requests and tokens per ``key``, costliest first."""
    entries = [
        {
            key: sums[key],
            "cost": sums["cost_usd"],
            "credits": sums["cost_credits"],
            "requests": sums["requests"],
            "tokens": sums["total_tokens"],
        }
        for sums in queries.groups(session, window, key)
    ]
    return sorted(entries, key=lambda entry: (-entry["cost"], entry[key]))


def _provider_entry(sums: dict[str, Any]) -> dict[str, Any]:
    return {
        "provider": sums["provider"],
        "requests": sums["requests"],
        "errors": sums["errors"],
        "error_rate": sums["errors"] / sums["requests"] if sums["requests"] else 0.0,
        "avg_latency_ms": _mean(sums["latency_sum"], sums["requests"]) or 0.0,
        "total_tokens": sums["total_tokens"],
        "cost": sums["cost_usd"],
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
    start, end = window.start or first, window.end or last
    if start is None or end is None:
        return 1.0
    return max((end - start).total_seconds(), 1.0)
