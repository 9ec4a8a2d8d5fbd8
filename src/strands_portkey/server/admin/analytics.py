"""``/api/ai/analytics``: seed 000's ``client.ai.analytics`` over ``gw.ai.analytics``.

=====================================  =================================================  ===================
route                                  query (all optional)                               returns
=====================================  =================================================  ===================
``GET /api/ai/analytics/usage``        start_date, end_date, model_id, provider,          ``UsageStats``
                                       granularity
``GET /api/ai/analytics/costs``        start_date, end_date, model_id, provider, group_by ``CostBreakdown``
``GET /api/ai/analytics/performance``  start_date, end_date, model_id, provider           ``PerformanceStats``
``GET /api/ai/analytics/time-series``  start_date, end_date, model_id, metric,            ``TimeSeriesData``
                                       granularity, provider
``GET /api/ai/analytics/providers``    start_date, end_date                               ``ProviderStats``
=====================================  =================================================  ===================

An admin sees every request; a member the requests made with its own keys (records carry the
user). Dates are ``YYYY-MM-DD`` or ISO 8601; a bad one answers 400 naming ``query.start_date``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ...analytics.stats import CostBreakdown, PerformanceStats, ProviderStats, TimeSeriesData, UsageStats
from .ai_common import AIDep, located

__all__ = ["router"]

Date = Annotated[str | None, Query(max_length=64, description="YYYY-MM-DD or an ISO 8601 time")]
Name = Annotated[str | None, Query(max_length=200)]
Choice = Annotated[str | None, Query(max_length=20)]


def router() -> APIRouter:
    """The routes of ``/api/ai/analytics``."""
    r = APIRouter(tags=["ai analytics"])

    @r.get("/api/ai/analytics/usage", summary="Requests and tokens, per bucket of granularity")
    def usage(
        *,
        ai: AIDep,
        start_date: Date = None,
        end_date: Date = None,
        model_id: Name = None,
        provider: Name = None,
        granularity: Choice = None,
    ) -> UsageStats:
        with located("query", path_params=()):
            return ai.analytics.usage(
                start_date=start_date,
                end_date=end_date,
                model_id=model_id,
                provider=provider,
                granularity=granularity,
            )

    @r.get("/api/ai/analytics/costs", summary="Cost in USD and credits, by model and/or provider")
    def costs(
        *,
        ai: AIDep,
        start_date: Date = None,
        end_date: Date = None,
        model_id: Name = None,
        provider: Name = None,
        group_by: Choice = None,
    ) -> CostBreakdown:
        with located("query", path_params=()):
            return ai.analytics.costs(
                start_date=start_date,
                end_date=end_date,
                model_id=model_id,
                provider=provider,
                group_by=group_by,
            )

    @r.get("/api/ai/analytics/performance", summary="Latency percentiles, error rate, throughput")
    def performance(
        *,
        ai: AIDep,
        start_date: Date = None,
        end_date: Date = None,
        model_id: Name = None,
        provider: Name = None,
    ) -> PerformanceStats:
        with located("query", path_params=()):
            return ai.analytics.performance(
                start_date=start_date, end_date=end_date, model_id=model_id, provider=provider
            )

    @r.get("/api/ai/analytics/time-series", summary="One metric per bucket of granularity")
    def time_series(
        *,
        ai: AIDep,
        start_date: Date = None,
        end_date: Date = None,
        model_id: Name = None,
        metric: Choice = None,
        granularity: Choice = None,
        provider: Name = None,
    ) -> TimeSeriesData:
        with located("query", path_params=()):
            return ai.analytics.time_series(
                start_date=start_date,
                end_date=end_date,
                model_id=model_id,
                metric=metric,
                granularity=granularity,
                provider=provider,
            )

    @r.get("/api/ai/analytics/providers", summary="Per-provider requests, errors, latency, tokens, cost")
    def providers(ai: AIDep, start_date: Date = None, end_date: Date = None) -> ProviderStats:
        with located("query", path_params=()):
            return ai.analytics.providers(start_date=start_date, end_date=end_date)

    return r
