"""The dashboard's analytics: what a record keeps of its route, the rollups per key user, the
Overview's numbers and series, and the request log -- checked against hand-computed fixtures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from strands_portkey.analytics import request_log
from strands_portkey.analytics.dashboard import overview, percentile, span_of
from strands_portkey.analytics.record import outcome_record
from strands_portkey.analytics.request_log import LogFilters, find_request, list_requests
from strands_portkey.analytics.rollups import store_rows
from strands_portkey.analytics.sinks import to_row
from strands_portkey.catalog.billing import PriceBook
from strands_portkey.catalog.rates import RateRecord
from strands_portkey.controlplane import ControlPlane
from strands_portkey.errors import InvalidRequestError
from strands_portkey.hook_results import CheckResult, HookResult, HookResults
from strands_portkey.store import db as store_db
from strands_portkey.store.dashboard_tables import DashboardLatencyRow, latency_bin, latency_of_bin
from strands_portkey.store.db import VERSION_TABLE, Store
from strands_portkey.store.tables import RequestRecordRow
from strands_portkey.types import Attempt, ChatRequest, RouteInfo, Usage
from tests.unit.analytics.test_queries import record_row

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 3, 10, 12, 30, tzinfo=UTC)
ANA = {"_api_key_id": "ak-ana", "_user": "ana", "_organization_id": "acme"}


def _route(**extra: Any) -> RouteInfo:
    return RouteInfo(trace_id="t1", provider="openai", model="gpt-4o", **extra)


def _rate() -> RateRecord:
    when = dt.datetime(2026, 1, 1, tzinfo=UTC)
    return RateRecord(
        id="r1",
        provider_id="p1",
        provider="openai",
        model="gpt-4o",
        type="chatCompletion",
        input_rate=Decimal(1),
        output_rate=Decimal(2),
        cache_read_rate=None,
        cache_write_rate=None,
        unit_costs={"input": Decimal("0.001"), "output": Decimal("0.002")},
        model_metadata={},
        description=None,
        created_at=when,
        updated_at=when,
    )


def _record(route: RouteInfo, *, status_error: BaseException | None = None, metadata: Any = None) -> Any:
    request = ChatRequest(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    return outcome_record(
        request,
        route,
        metadata or ANA,
        started_at=NOW.timestamp(),
        latency_ms=120.0,
        usage=Usage(prompt_tokens=10, completion_tokens=5, total_tokens=15),
        error=status_error,
        streamed=False,
    )


def test_a_row_keeps_the_key_identity_the_attempts_and_the_guardrail_verdict() -> None:
    hooks = HookResults(
        before_request_hooks=[
            HookResult(
                "g1",
                "guardrail",
                "beforeRequestHook",
                verdict=False,
                deny=False,
                checks=(CheckResult("default.contains", verdict=False, data={"text": "secret words"}),),
            ),
        ]
    )
    route = _route(
        last_used_option_index="config.targets[1]",
        attempts=[
            Attempt("config.targets[0]", "openai", 503, 30.0, "ServerError"),
            Attempt("config.targets[1]", "openai", 200, 80.0),
        ],
        hook_results=hooks,
    )
    row = to_row(_record(route), PriceBook())
    assert (row["api_key_id"], row["key_user"], row["organization_id"]) == ("ak-ana", "ana", "acme")
    assert (row["rescued"], row["guard_verdict"], row["saved_usd"]) == (True, "failed", None)
    assert row["route_detail"]["attempts"][0] == {
        "path": "config.targets[0]",
        "provider": "openai",
        "status": 503,
        "latency_ms": 30.0,
        "error": "ServerError",
    }
    assert row["route_detail"]["hooks"] == [
        {
            "id": "g1",
            "event": "beforeRequestHook",
            "verdict": False,
            "deny": False,
            "checks": [{"id": "default.contains", "verdict": False}],
        }
    ]
    assert "secret words" not in repr(row)  # a check's data may quote the request: never stored


def test_no_key_no_identity_and_a_failed_fallback_is_no_rescue() -> None:
    route = _route(attempts=[Attempt("config.targets[0]", "openai", 503, 30.0, "ServerError")])
    caller_claims = {"_user": "mallory"}  # a caller's own metadata without a server-stamped key id
    row = to_row(_record(route, status_error=RuntimeError("x"), metadata=caller_claims), PriceBook())
    assert (row["api_key_id"], row["key_user"], row["rescued"], row["guard_verdict"]) == (
        None,
        None,
        False,
        "none",
    )


def test_a_cache_hit_costs_nothing_and_records_what_it_saved() -> None:
    hit = to_row(_record(_route(cache_status="HIT")), PriceBook([_rate()]))
    miss = to_row(_record(_route(cache_status="MISS")), PriceBook([_rate()]))
    assert (hit["cost_usd"], hit["saved_usd"]) == (0.0, pytest.approx(10 * 0.001 + 5 * 0.002))
    assert (miss["cost_usd"], miss["saved_usd"]) == (pytest.approx(0.02), None)


def test_latency_bins_are_within_five_percent() -> None:
    for ms in (0.7, 1.0, 3.3, 87.0, 950.0, 12_345.0):
        assert abs(latency_of_bin(latency_bin(ms)) - ms) / ms < 0.05 or ms < 1
    assert percentile({}, 0.5) is None
    assert percentile({latency_bin(10.0): 9, latency_bin(1000.0): 1}, 0.9) == pytest.approx(10.0, rel=0.05)
    assert percentile({latency_bin(10.0): 9, latency_bin(1000.0): 1}, 0.99) == pytest.approx(1000.0, rel=0.05)


# ---------------------------------------------------------------------------- the Overview

# (minutes before NOW, model, provider, key user, status, ms, tokens, usd, cache, rescued, verdict)
FIXTURE = [
    (5, "gpt-4o", "openai", "ana", "success", 100.0, 15, 0.01, "MISS", False, "passed"),
    (10, "gpt-4o", "openai", "ana", "error", 300.0, 0, None, "MISS", False, "denied"),
    (20, "claude", "anthropic", "eve", "success", 200.0, 30, 0.05, "HIT", True, "none"),
    (65, "claude", "anthropic", "ana", "success", 400.0, 45, 0.07, "DISABLED", False, "failed"),
    (60 * 30, "gpt-4o", "openai", "eve", "success", 500.0, 60, 0.02, "DISABLED", True, "none"),
]


@pytest.fixture
def stored(plane: ControlPlane) -> ControlPlane:
    rows = []
    for i, (ago, model, provider, user, status, ms, tokens, usd, cache, rescued, verdict) in enumerate(
        FIXTURE
    ):
        rows.append(
            record_row(
                i,
                NOW - dt.timedelta(minutes=ago),
                model,
                provider,
                status,
                latency_ms=ms,
                total_tokens=tokens,
                cost_usd=usd,
                cost_credits=None if usd is None else usd * 1000,
                cache_status=cache,
                key_user=user,
                api_key_id=f"ak-{user}",
                rescued=rescued,
                guard_verdict=verdict,
                saved_usd=0.04 if cache == "HIT" else None,
                trace_id=f"trace-{i}",
                user=f"end-{user}",
            )
        )
    with plane.store.transaction() as session:
        store_rows(session, rows[:3])
    with plane.store.transaction() as session:
        store_rows(session, rows[3:])  # a second batch adds to the same hourly sums
    return plane


def _overview(
    plane: ControlPlane, window: str, split: str = "model", owner: str | None = None
) -> dict[str, Any]:
    with plane.store.reading() as session:
        return overview(session, span_of(window, NOW), split, owner)


def test_the_last_day_from_the_rollups(stored: ControlPlane) -> None:
    data = _overview(stored, "24h")
    t = data["totals"]
    assert (t["requests"], t["errors"], t["total_tokens"], t["rescued"]) == (4, 1, 90, 1)
    assert (t["guard_passed"], t["guard_failed"], t["guard_denied"]) == (1, 1, 1)
    assert t["cost_usd"] == pytest.approx(0.13)
    assert t["error_rate"] == pytest.approx(0.25)
    assert t["cache_hit_rate"] == pytest.approx(1 / 3)  # DISABLED is no lookup
    assert t["saved_usd"] == pytest.approx(0.04)
    assert (t["p50"], t["p99"]) == (pytest.approx(200.0, rel=0.05), pytest.approx(400.0, rel=0.05))
    assert data["window"] == {
        "name": "24h",
        "start": "2026-03-09T13:00:00Z",
        "end": "2026-03-10T13:00:00Z",
        "step": "hour",
    }
    assert len(data["buckets"]) == 24
    assert data["series"]["requests"][-2:] == [1, 3]  # 11:00 (65 min ago) and 12:00
    by_model = {g["name"]: g["totals"]["requests"] for g in data["groups"]}
    assert by_model == {"gpt-4o": 2, "claude": 2}


def test_the_last_hour_from_the_records_by_minute(stored: ControlPlane) -> None:
    data = _overview(stored, "1h", split="provider")
    assert data["window"]["step"] == "minute"
    assert len(data["buckets"]) == 60
    t = data["totals"]
    assert (t["requests"], t["errors"], t["rescued"], t["guard_denied"], t["cache_hits"]) == (3, 1, 1, 1, 1)
    assert sum(data["series"]["requests"]) == 3
    assert {g["name"] for g in data["groups"]} == {"openai", "anthropic"}
    assert data["series"]["p50"][data["buckets"].index("2026-03-10T12:25:00Z")] == pytest.approx(
        100.0, rel=0.05
    )


def test_a_member_sees_only_requests_made_with_its_keys(stored: ControlPlane) -> None:
    for window in ("1h", "24h", "30d"):
        ana = _overview(stored, window, owner="ana")["totals"]
        eve = _overview(stored, window, owner="eve")["totals"]
        everyone = _overview(stored, window)["totals"]
        assert ana["requests"] + eve["requests"] == everyone["requests"]
    assert _overview(stored, "30d", owner="eve")["totals"]["requests"] == 2
    for window in ("1h", "30d"):  # "" is everyone's sums: a key user can never be empty
        assert _overview(stored, window, owner="")["totals"]["requests"] == 0
    assert _log(stored, owner="")["total"] == 0
    assert _overview(stored, "30d", owner="nobody")["totals"]["p50"] is None


def test_bad_windows_and_splits_name_their_parameter(stored: ControlPlane) -> None:
    with pytest.raises(InvalidRequestError) as error:
        span_of("2h", NOW)
    assert error.value.path == "window"
    with pytest.raises(InvalidRequestError) as error:
        _overview(stored, "24h", split="user")
    assert error.value.path == "split"


def test_the_migration_fills_the_rollups_from_older_records(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    store = Store(f"sqlite:///{tmp_path / 'old.db'}", migrate=False)
    config = Config()
    config.set_main_option("script_location", str(Path(store_db.__file__).with_name("migrations")))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        config.attributes["version_table"] = VERSION_TABLE
        command.upgrade(config, "0010")
    old = [
        record_row(i, NOW - dt.timedelta(minutes=m), "gpt-4o", "openai", s, latency_ms=ms, total_tokens=7)
        for i, (m, s, ms) in enumerate([(5, "success", 100.0), (6, "error", 0.5), (70, "success", 2000.0)])
    ]
    with store.engine.begin() as connection:
        connection.execute(insert(RequestRecordRow.__table__), old)
    store.migrate()
    with store.reading() as session:
        data = overview(session, span_of("24h", NOW), "model", None)
        bins = sorted(
            (row.hour.hour, row.bin, row.count) for row in session.scalars(select(DashboardLatencyRow))
        )
    assert (data["totals"]["requests"], data["totals"]["errors"], data["totals"]["total_tokens"]) == (
        3,
        1,
        21,
    )
    assert data["series"]["requests"][-2:] == [1, 2]
    assert bins == [(11, latency_bin(2000.0), 1), (12, 0, 1), (12, latency_bin(100.0), 1)]
    store.close()


# ---------------------------------------------------------------------------- the request log


def _log(plane: ControlPlane, owner: str | None = None, limit: int = 50, **fields: str) -> dict[str, Any]:
    with plane.store.reading() as session:
        return list_requests(session, LogFilters(fields), owner, limit, 0)


def test_the_log_is_newest_first_and_filtered(stored: ControlPlane) -> None:
    page = _log(stored)
    assert [r["trace_id"] for r in page["data"]] == ["trace-0", "trace-1", "trace-2", "trace-3", "trace-4"]
    assert (page["total"], page["total_capped"]) == (5, False)
    assert [r["trace_id"] for r in _log(stored, status="error")["data"]] == ["trace-1"]
    assert [r["trace_id"] for r in _log(stored, cache="HIT", provider="anthropic")["data"]] == ["trace-2"]
    assert _log(stored, key="ak-eve", model="gpt-4o")["total"] == 1
    assert _log(stored, user="end-ana")["total"] == 3
    assert _log(stored, limit=2)["data"][1]["trace_id"] == "trace-1"


def test_a_member_lists_and_opens_only_its_own_requests(stored: ControlPlane) -> None:
    assert {r["key"] for r in _log(stored, owner="ana")["data"]} == {"ak-ana"}
    assert _log(stored, owner="ana", trace_id="trace-2")["total"] == 0
    with stored.store.reading() as session:
        assert find_request(session, "r00000002", "ana") is None
        assert find_request(session, "r00000002", "eve")["trace_id"] == "trace-2"
        assert find_request(session, "r00000002", None)["cache_status"] == "HIT"
        assert find_request(session, "missing", None) is None


def test_the_total_is_capped(stored: ControlPlane, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(request_log, "COUNT_CAP", 3)
    page = _log(stored)
    assert (page["total"], page["total_capped"], len(page["data"])) == (3, True, 5)
