"""``gw.ai.analytics`` answers checked against hand-computed fixtures (also run on PostgreSQL).

Five records straddling a day and a month edge (2025-01-31 Fri .. 2025-02-03 Mon):

====================  ======  =========  ======  =====  ======  ====
created_at (UTC)      model   provider   status  ms     tokens  USD
====================  ======  =========  ======  =====  ======  ====
2025-01-31 23:30:00   gpt-4o  openai     ok      100    10+5    0.01
2025-01-31 23:59:59   gpt-4o  openai     error   300    0       --
2025-02-01 00:00:00   claude  anthropic  ok      200    20+10   0.05
2025-02-01 10:15:00   claude  anthropic  ok      400    30+15   0.07
2025-02-03 08:00:00   gpt-4o  openai     ok      500    40+20   0.02
====================  ======  =========  ======  =====  ======  ====
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from strands_portkey.analytics import queries
from strands_portkey.analytics.rollups import store_rows
from strands_portkey.analytics.window import parse_window
from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.analytics_api import Analytics
from strands_portkey.errors import InvalidRequestError
from strands_portkey.store.tables import RequestRollupRow

FIXTURE = [
    ("2025-01-31 23:30:00", "gpt-4o", "openai", "success", 100.0, 10, 5, 0.01),
    ("2025-01-31 23:59:59", "gpt-4o", "openai", "error", 300.0, 0, 0, None),
    ("2025-02-01 00:00:00", "claude", "anthropic", "success", 200.0, 20, 10, 0.05),
    ("2025-02-01 10:15:00", "claude", "anthropic", "success", 400.0, 30, 15, 0.07),
    ("2025-02-03 08:00:00", "gpt-4o", "openai", "success", 500.0, 40, 20, 0.02),
]


def record_row(
    index: int, when: dt.datetime, model: str, provider: str, status: str, **extra: Any
) -> dict[str, Any]:
    """A complete ``request_records`` row (defaults for what a test does not care about)."""
    row: dict[str, Any] = {
        "id": f"r{index:08d}",
        "created_at": when,
        "trace_id": f"t{index}",
        "request_metadata": None,
        "user": None,
        "model_id": model,
        "requested_model": model,
        "served_model": model,
        "provider": provider,
        "credential_id": None,
        "option_path": "config",
        "status": status,
        "status_code": 200 if status == "success" else 500,
        "error_type": None if status == "success" else "ServerError",
        "retries": 0,
        "latency_ms": 1.0,
        "ttft_ms": None,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "total_tokens": 0,
        "cost_usd": None,
        "cost_credits": None,
        "cache_status": "DISABLED",
        "streamed": False,
    }
    row.update(extra)
    return row


@pytest.fixture
def analytics(plane: ControlPlane) -> Analytics:
    rows = []
    for index, (when, model, provider, status, ms, prompt, completion, usd) in enumerate(FIXTURE):
        rows.append(
            record_row(
                index,
                dt.datetime.fromisoformat(when).replace(tzinfo=dt.timezone.utc),
                model,
                provider,
                status,
                latency_ms=ms,
                prompt_tokens=prompt,
                completion_tokens=completion,
                total_tokens=prompt + completion,
                cost_usd=usd,
                cost_credits=None if usd is None else usd * 1000,
            )
        )
    with plane.store.transaction() as session:
        store_rows(session, rows[:2])
    with plane.store.transaction() as session:
        store_rows(session, rows[2:])  # a second batch adds to the same hourly sums
    return Analytics(plane)


def test_usage_totals_and_daily_buckets_across_the_month_edge(analytics: Analytics) -> None:
    usage = analytics.usage(start_date="2025-01-31", end_date="2025-02-03", granularity="daily")
    assert (usage.total_requests, usage.total_tokens, usage.prompt_tokens, usage.completion_tokens) == (
        5,
        150,
        100,
        50,
    )
    assert usage.period == "2025-01-31 to 2025-02-03"
    assert [(e["timestamp"], e["requests"], e["total_tokens"]) for e in usage.breakdown] == [
        ("2025-01-31T00:00:00Z", 2, 15),
        ("2025-02-01T00:00:00Z", 2, 75),
        ("2025-02-02T00:00:00Z", 0, 0),
        ("2025-02-03T00:00:00Z", 1, 60),
    ]


def test_end_date_is_a_whole_day_and_filters_apply(analytics: Analytics) -> None:
    assert analytics.usage(end_date="2025-01-31").total_requests == 2
    assert analytics.usage(start_date="2025-02-01", end_date="2025-02-01").total_requests == 2
    anthropic = analytics.usage(provider="anthropic")
    assert (anthropic.total_requests, anthropic.total_tokens, anthropic.provider) == (2, 75, "anthropic")
    assert analytics.usage(model_id="gpt-4o").total_requests == 3


@pytest.mark.parametrize(
    ("granularity", "start", "end", "expected"),
    [
        ("monthly", "2025-01-01", "2025-02-28", [("2025-01-01T00:00:00Z", 2), ("2025-02-01T00:00:00Z", 3)]),
        ("weekly", "2025-01-27", "2025-02-09", [("2025-01-27T00:00:00Z", 4), ("2025-02-03T00:00:00Z", 1)]),
        (
            "hourly",
            "2025-01-31T23:00:00Z",
            "2025-02-01T00:59:59Z",
            [("2025-01-31T23:00:00Z", 2), ("2025-02-01T00:00:00Z", 1)],
        ),
    ],
)
def test_time_series_buckets(
    analytics: Analytics, granularity: str, start: str, end: str, expected: list[tuple[str, int]]
) -> None:
    series = analytics.time_series(metric="requests", granularity=granularity, start_date=start, end_date=end)
    assert [(p["timestamp"], p["value"]) for p in series.data] == expected


def test_time_series_of_latency_tokens_errors_cost(analytics: Analytics) -> None:
    window = {"start_date": "2025-01-31", "end_date": "2025-02-01", "granularity": "daily"}
    values = {
        metric: [p["value"] for p in analytics.time_series(metric=metric, **window).data]
        for metric in ("latency", "tokens", "errors", "cost")
    }
    assert values["latency"] == [pytest.approx(200.0), pytest.approx(300.0)]
    assert values["tokens"] == [15, 75]
    assert values["errors"] == [1, 0]
    assert values["cost"] == [pytest.approx(0.01), pytest.approx(0.12)]


def test_costs_by_model_and_provider(analytics: Analytics) -> None:
    costs = analytics.costs()
    assert (costs.currency, costs.total_cost, costs.unpriced_requests) == ("USD", pytest.approx(0.15), 1)
    assert costs.total_credits == pytest.approx(150.0)
    by_provider = analytics.costs(group_by="provider")
    assert [(e["provider"], round(e["cost"], 6), e["requests"]) for e in by_provider.by_provider] == [
        ("anthropic", 0.12, 2),
        ("openai", 0.03, 3),
    ]
    assert by_provider.by_model == []
    by_model = analytics.costs(group_by="model")
    assert [(e["model_id"], round(e["cost"], 6)) for e in by_model.by_model] == [
        ("claude", 0.12),
        ("gpt-4o", 0.03),
    ]
    assert analytics.costs(provider="openai", start_date="2025-02-01").total_cost == pytest.approx(0.02)


def test_performance_percentiles_error_rate_throughput(analytics: Analytics) -> None:
    perf = analytics.performance(start_date="2025-01-31", end_date="2025-02-03")
    assert (perf.avg_latency_ms, perf.p50_latency_ms, perf.p95_latency_ms, perf.p99_latency_ms) == (
        pytest.approx(300.0),
        300.0,
        500.0,
        500.0,
    )
    assert perf.error_rate == pytest.approx(0.2)
    assert perf.throughput == pytest.approx(5 / (4 * 86400))
    gpt = analytics.performance(model_id="gpt-4o")
    assert (gpt.p50_latency_ms, gpt.error_rate, gpt.total_requests) == (300.0, pytest.approx(1 / 3), 3)


def test_providers(analytics: Analytics) -> None:
    stats = analytics.providers()
    assert stats.total_requests == 5
    assert [
        (p["provider"], p["requests"], p["errors"], round(p["error_rate"], 4)) for p in stats.providers
    ] == [
        ("openai", 3, 1, 0.3333),
        ("anthropic", 2, 0, 0.0),
    ]
    assert [p["avg_latency_ms"] for p in stats.providers] == [pytest.approx(300.0), pytest.approx(300.0)]


def test_an_empty_range_answers_zeros(analytics: Analytics) -> None:
    usage = analytics.usage(start_date="2024-01-01", end_date="2024-01-02")
    assert (usage.total_requests, usage.total_tokens) == (0, 0)
    assert [e["requests"] for e in usage.breakdown] == [0, 0]
    perf = analytics.performance(start_date="2024-01-01", end_date="2024-01-02")
    assert (perf.p50_latency_ms, perf.error_rate, perf.throughput) == (0.0, 0.0, 0.0)
    assert analytics.costs(start_date="2024-01-01", end_date="2024-01-02").total_cost == 0.0
    assert analytics.providers(start_date="2024-01-01", end_date="2024-01-02").providers == []


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda a: a.time_series(metric="bogus"), "metric"),
        (lambda a: a.time_series(granularity="yearly"), "granularity"),
        (lambda a: a.usage(granularity="minutely"), "granularity"),
        (lambda a: a.costs(group_by="user"), "group_by"),
        (lambda a: a.usage(start_date="2025-02-01", end_date="2025-01-01"), "start_date"),
        (lambda a: a.performance(start_date="31/01/2025"), "start_date"),
        (lambda a: a.providers(end_date="2025-13-01"), "end_date"),
        (lambda a: a.usage(model_id=""), "model_id"),
    ],
)
def test_bad_input_names_the_argument(analytics: Analytics, call: Any, argument: str) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        call(analytics)
    assert raised.value.path == argument
    assert argument in str(raised.value)


@pytest.mark.parametrize(
    "window",
    [
        (None, None, None, None),
        ("2025-01-31", "2025-02-01", None, None),
        (None, None, "gpt-4o", "openai"),
        ("2025-01-31T23:45:00Z", "2025-02-03T08:30:00Z", None, None),
        ("2025-01-31T23:45:00Z", None, None, None),
    ],
)
def test_rollups_and_records_give_the_same_answers(
    analytics: Analytics, plane: ControlPlane, window: tuple[str | None, ...]
) -> None:
    checked = parse_window(*window)

    def answers(session: Any, raw: bool) -> list[Any]:
        return [
            queries.totals(session, checked, raw=raw),
            queries.series(session, checked, "daily", raw=raw),
            queries.series(session, checked, "hourly", raw=raw),
            sorted(queries.groups(session, checked, "provider", raw=raw), key=str),
            sorted(queries.groups(session, checked, "model_id", raw=raw), key=str),
        ]

    with plane.store.reading() as session:
        from_rollups, from_records = answers(session, raw=False), answers(session, raw=True)
    assert from_rollups[0]["requests"] > 0
    assert _rounded(from_rollups) == _rounded(from_records)


def test_a_window_off_the_hour_joins_rollups_and_edge_records(analytics: Analytics) -> None:
    usage = analytics.usage(start_date="2025-01-31T23:45:00Z", end_date="2025-02-03T07:59:59Z")
    assert (usage.total_requests, usage.total_tokens) == (3, 75)
    perf = analytics.performance(start_date="2025-01-31T23:45:00Z", end_date="2025-02-03T07:59:59Z")
    assert (perf.error_rate, perf.p50_latency_ms, perf.avg_latency_ms) == (pytest.approx(1 / 3), 300.0, 300.0)


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    return value


def test_rollups_hold_one_row_per_hour_model_and_provider(analytics: Analytics, plane: ControlPlane) -> None:
    with plane.store.reading() as session:
        found = session.execute(
            select(
                RequestRollupRow.hour,
                RequestRollupRow.model_id,
                RequestRollupRow.requests,
                RequestRollupRow.errors,
            ).order_by(RequestRollupRow.hour)
        ).all()
    assert [(h.strftime("%m-%d %H"), m, r, e) for h, m, r, e in found] == [
        ("01-31 23", "gpt-4o", 2, 1),
        ("02-01 00", "claude", 1, 0),
        ("02-01 10", "claude", 1, 0),
        ("02-03 08", "gpt-4o", 1, 0),
    ]
