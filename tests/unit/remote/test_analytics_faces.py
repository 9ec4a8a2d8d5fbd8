"""``gw.ai.analytics`` and ``client.ai.analytics`` behave alike (both faces, one suite).

Records of two users are written straight into the store (with their rollups); both faces here
see everyone's requests (the client's key is an admin's; members' narrowing has its own tests).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from strands_portkey.analytics.stats import (
    CostBreakdown,
    PerformanceStats,
    ProviderStats,
    TimeSeriesData,
    UsageStats,
)
from strands_portkey.errors import InvalidRequestError
from tests.unit.remote.ai_fixtures import plane, seed_records

__all__ = ["plane"]


@pytest.fixture
def seeded(face: Any, plane: Any) -> Any:
    seed_records(plane)
    return face


def test_usage_with_a_window_and_granularity(seeded: Any) -> None:
    usage = seeded.ai.analytics.usage()
    assert isinstance(usage, UsageStats)
    assert (usage.total_requests, usage.total_tokens, usage.prompt_tokens, usage.completion_tokens) == (
        5,
        75,
        50,
        25,
    )
    january = seeded.ai.analytics.usage(start_date="2025-01-01", end_date="2025-01-31", granularity="weekly")
    assert (january.total_requests, january.period, january.granularity) == (
        4,
        "2025-01-01 to 2025-01-31",
        "weekly",
    )
    # ISO weeks from Monday: Dec 30, Jan 6 (the 10th and 12th), Jan 13, Jan 20 (the 20th), Jan 27
    assert [entry["requests"] for entry in january.breakdown] == [0, 3, 0, 1, 0]
    by_date = seeded.ai.analytics.usage(start_date=dt.date(2025, 1, 12), end_date=dt.date(2025, 1, 12))
    assert by_date.total_requests == 1
    assert seeded.ai.analytics.usage(model_id="gpt-4o").total_requests == 2


def test_costs_performance_series_and_providers(seeded: Any) -> None:
    costs = seeded.ai.analytics.costs(group_by="provider")
    assert isinstance(costs, CostBreakdown)
    assert (costs.currency, round(costs.total_cost, 6), costs.by_model) == ("USD", 0.05, [])
    assert [(e["provider"], e["requests"]) for e in costs.by_provider] == [("anthropic", 3), ("openai", 2)]
    assert [e["model_id"] for e in seeded.ai.analytics.costs(group_by="model").by_model] == [
        "claude",
        "gpt-4o",
    ]
    perf = seeded.ai.analytics.performance()
    assert isinstance(perf, PerformanceStats)
    assert (perf.avg_latency_ms, perf.p50_latency_ms, perf.p95_latency_ms, perf.error_rate) == (
        300.0,
        300.0,
        500.0,
        0.2,
    )
    assert seeded.ai.analytics.performance(provider="openai").p99_latency_ms == 300.0
    series = seeded.ai.analytics.time_series(
        metric="latency", granularity="hourly", start_date="2025-01-10", end_date="2025-01-10"
    )
    assert isinstance(series, TimeSeriesData)
    assert [(p["timestamp"], p["value"]) for p in series.data if p["value"]] == [
        ("2025-01-10T10:00:00Z", 100.0),
        ("2025-01-10T11:00:00Z", 300.0),
    ]
    stats = seeded.ai.analytics.providers(start_date="2025-01-01", end_date="2025-01-31")
    assert isinstance(stats, ProviderStats)
    assert [(p["provider"], p["requests"], p["errors"]) for p in stats.providers] == [
        ("anthropic", 2, 0),
        ("openai", 2, 1),
    ]


def test_bad_arguments_name_the_argument(seeded: Any) -> None:
    with pytest.raises(InvalidRequestError, match="start_date"):
        seeded.ai.analytics.usage(start_date="31/01/2025")
    with pytest.raises(InvalidRequestError, match="start_date"):
        seeded.ai.analytics.performance(start_date="2025-02-01", end_date="2025-01-01")
    with pytest.raises(InvalidRequestError, match="granularity"):
        seeded.ai.analytics.usage(granularity="fortnightly")
    with pytest.raises(InvalidRequestError, match="group_by"):
        seeded.ai.analytics.costs(group_by="colour")
    with pytest.raises(InvalidRequestError, match="metric"):
        seeded.ai.analytics.time_series(metric="vibes")
