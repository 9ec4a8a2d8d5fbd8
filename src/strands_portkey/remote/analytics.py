"""``client.ai.analytics``: analytics over HTTP (``/api/ai/analytics``), as ``gw.ai.analytics``.

Same methods, arguments and return types as
:class:`~strands_portkey.controlplane.analytics_api.Analytics` (``date`` / ``datetime``
arguments are sent as ISO 8601). A member's key sees the analytics of its own requests.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..analytics.stats import CostBreakdown, PerformanceStats, ProviderStats, TimeSeriesData, UsageStats
from ..analytics.window import DateLike
from .decode import decode
from .http import RemoteHTTP
from .portal import Portal

__all__ = ["Analytics", "AsyncAnalytics"]

_BASE = "/api/ai/analytics"


def _date(value: DateLike) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


class AsyncAnalytics:
    """The async face; every method mirrors :class:`~strands_portkey.controlplane.analytics_api.Analytics`."""

    def __init__(self, http: RemoteHTTP) -> None:
        self._http = http

    def __repr__(self) -> str:
        return f"AsyncAnalytics({self._http.base_url!r})"

    async def _get(self, name: str, **params: Any) -> Any:
        for key in ("start_date", "end_date"):
            if key in params:
                params[key] = _date(params[key])
        return await self._http.call("GET", f"{_BASE}/{name}", params=params)

    async def usage(
        self,
        *,
        start_date: DateLike = None,
        end_date: DateLike = None,
        model_id: str | None = None,
        provider: str | None = None,
        granularity: str | None = None,
    ) -> UsageStats:
        """Requests and tokens; ``breakdown`` per bucket of ``granularity`` (default daily)."""
        answer = await self._get(
            "usage",
            start_date=start_date,
            end_date=end_date,
            model_id=model_id,
            provider=provider,
            granularity=granularity,
        )
        return decode(UsageStats, answer)

    async def costs(
        self,
        *,
        start_date: DateLike = None,
        end_date: DateLike = None,
        model_id: str | None = None,
        provider: str | None = None,
        group_by: str | None = None,
    ) -> CostBreakdown:
        """Total cost; ``by_model`` / ``by_provider`` per ``group_by`` (both if None)."""
        answer = await self._get(
            "costs",
            start_date=start_date,
            end_date=end_date,
            model_id=model_id,
            provider=provider,
            group_by=group_by,
        )
        return decode(CostBreakdown, answer)

    async def performance(
        self,
        *,
        start_date: DateLike = None,
        end_date: DateLike = None,
        model_id: str | None = None,
        provider: str | None = None,
    ) -> PerformanceStats:
        """Mean and p50/p95/p99 latency, error rate, throughput."""
        answer = await self._get(
            "performance", start_date=start_date, end_date=end_date, model_id=model_id, provider=provider
        )
        return decode(PerformanceStats, answer)

    async def time_series(
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
        answer = await self._get(
            "time-series",
            start_date=start_date,
            end_date=end_date,
            model_id=model_id,
            metric=metric,
            granularity=granularity,
            provider=provider,
        )
        return decode(TimeSeriesData, answer)

    async def providers(self, *, start_date: DateLike = None, end_date: DateLike = None) -> ProviderStats:
        """Per provider: requests, errors, error rate, mean latency, tokens and cost."""
        return decode(ProviderStats, await self._get("providers", start_date=start_date, end_date=end_date))


class Analytics:
    """The blocking face: each method runs :class:`AsyncAnalytics`' on the client's portal."""

    def __init__(self, inner: AsyncAnalytics, portal: Portal) -> None:
        self._inner = inner
        self._portal = portal

    def __repr__(self) -> str:
        return repr(self._inner).removeprefix("Async")

    def usage(
        self,
        *,
        start_date: DateLike = None,
        end_date: DateLike = None,
        model_id: str | None = None,
        provider: str | None = None,
        granularity: str | None = None,
    ) -> UsageStats:
        """Requests and tokens; ``breakdown`` per bucket of ``granularity``."""
        return self._portal.run(
            self._inner.usage(
                start_date=start_date,
                end_date=end_date,
                model_id=model_id,
                provider=provider,
                granularity=granularity,
            )
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
        """Total cost; ``by_model`` / ``by_provider`` per ``group_by``."""
        return self._portal.run(
            self._inner.costs(
                start_date=start_date,
                end_date=end_date,
                model_id=model_id,
                provider=provider,
                group_by=group_by,
            )
        )

    def performance(
        self,
        *,
        start_date: DateLike = None,
        end_date: DateLike = None,
        model_id: str | None = None,
        provider: str | None = None,
    ) -> PerformanceStats:
        """Mean and p50/p95/p99 latency, error rate, throughput."""
        return self._portal.run(
            self._inner.performance(
                start_date=start_date, end_date=end_date, model_id=model_id, provider=provider
            )
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
        """``metric`` per bucket of ``granularity``."""
        return self._portal.run(
            self._inner.time_series(
                start_date=start_date,
                end_date=end_date,
                model_id=model_id,
                metric=metric,
                granularity=granularity,
                provider=provider,
            )
        )

    def providers(self, *, start_date: DateLike = None, end_date: DateLike = None) -> ProviderStats:
        """Per provider: requests, errors, error rate, mean latency, tokens and cost."""
        return self._portal.run(self._inner.providers(start_date=start_date, end_date=end_date))
