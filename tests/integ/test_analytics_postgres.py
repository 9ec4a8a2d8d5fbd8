"""The analytics suite (hand-computed fixtures) and request recording on a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from strands_portkey import Gateway
from strands_portkey.controlplane import ControlPlane

from ..unit.analytics.test_queries import (  # noqa: F401  (fixtures and tests run again here)
    analytics,
    test_a_window_off_the_hour_joins_rollups_and_edge_records,
    test_an_empty_range_answers_zeros,
    test_bad_input_names_the_argument,
    test_costs_by_model_and_provider,
    test_end_date_is_a_whole_day_and_filters_apply,
    test_performance_percentiles_error_rate_throughput,
    test_providers,
    test_rollups_and_records_give_the_same_answers,
    test_rollups_hold_one_row_per_hour_model_and_provider,
    test_time_series_buckets,
    test_time_series_of_latency_tokens_errors_cost,
    test_usage_totals_and_daily_buckets_across_the_month_edge,
)
from .test_store_postgres import MASTER, server, url  # noqa: F401

pytestmark = pytest.mark.integ


@pytest.fixture
def plane(url: str) -> Iterator[ControlPlane]:  # noqa: F811
    cp = ControlPlane(url, master_key=MASTER, validate_credentials=False)
    yield cp
    cp.close()


async def test_gateway_requests_are_recorded_in_postgres(plane: ControlPlane) -> None:
    def ok(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "id": "r",
                "model": "gpt-4o",
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
            },
        )

    gw = Gateway(
        {"provider": "openai", "api_key": "sk-pg"}, control_plane=plane, transport=httpx.MockTransport(ok)
    )
    for _ in range(3):
        await gw.chat({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    await gw.aclose()
    usage = gw.ai.analytics.usage()
    assert (usage.total_requests, usage.total_tokens) == (3, 30)
    assert gw.ai.analytics.providers().providers[0]["provider"] == "openai"
