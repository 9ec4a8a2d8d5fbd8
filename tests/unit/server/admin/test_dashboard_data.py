"""The dashboard's data routes through the ASGI app: who sees what, bad input, the config tree."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from strands_portkey.analytics.rollups import store_rows
from strands_portkey.controlplane import ControlPlane
from tests.unit.analytics.test_queries import record_row

from .conftest import Keys, call


@pytest.fixture
def requests(plane: ControlPlane, keys: Keys) -> dict[str, str]:
    """Two requests of ana (acme, the member) and one of eve (globex, the outsider), just now."""
    now = dt.datetime.now(dt.timezone.utc)
    made = [("ana", "t-ana-1"), ("ana", "t-ana-2"), ("eve", "t-eve")]
    rows = [
        record_row(
            i,
            now - dt.timedelta(seconds=10 - i),
            "gpt-4o",
            "openai",
            "success",
            key_user=user,
            api_key_id=f"ak-{user}",
            trace_id=trace,
            latency_ms=50.0 * (i + 1),
            total_tokens=10,
        )
        for i, (user, trace) in enumerate(made)
    ]
    with plane.store.transaction() as session:
        store_rows(session, rows)
    return {trace: row["id"] for (_, trace), row in zip(made, rows, strict=True)}


async def test_a_member_sees_its_own_requests_and_an_admin_all(app: Any, keys: Keys, requests: dict) -> None:
    mine = (await call(app, "GET", "/api/requests", key=keys.member)).json()
    everyone = (await call(app, "GET", "/api/requests", key=keys.admin)).json()
    assert [r["trace_id"] for r in mine["data"]] == ["t-ana-2", "t-ana-1"]
    assert (everyone["total"], everyone["limit"], everyone["offset"]) == (3, 50, 0)
    own = await call(app, "GET", f"/api/requests/{requests['t-ana-1']}", key=keys.member)
    other = await call(app, "GET", f"/api/requests/{requests['t-eve']}", key=keys.member)
    assert (own.status_code, own.json()["trace_id"]) == (200, "t-ana-1")
    assert other.status_code == 404  # not 403: nothing about others' requests leaks
    assert (
        await call(app, "GET", f"/api/requests/{requests['t-eve']}", key=keys.outsider)
    ).status_code == 200


async def test_the_overview_counts_what_the_caller_may_see(app: Any, keys: Keys, requests: dict) -> None:
    member = await call(app, "GET", "/api/dashboard/overview?window=1h&split=provider", key=keys.member)
    admin = await call(app, "GET", "/api/dashboard/overview?window=24h", key=keys.admin)
    assert member.status_code == 200
    assert (member.json()["totals"]["requests"], member.json()["scope"]) == (
        2,
        "requests made with ana's keys",
    )
    assert [g["name"] for g in member.json()["groups"]] == ["openai"]
    assert (admin.json()["totals"]["requests"], admin.json()["scope"]) == (3, "all requests")


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("/api/requests?limit=0", "query.limit"),
        ("/api/requests?status=fine", "query.status"),
        ("/api/requests?cache=hit", "query.cache"),
        ("/api/requests?since=yesterday", "query.since"),
        ("/api/requests?since=2026-02-02&until=2026-02-01", "query.since"),
        ("/api/requests?model=", "query.model"),
        ("/api/requests?colour=red", "query.colour"),
        ("/api/dashboard/overview?window=2h", "query.window"),
        ("/api/dashboard/overview?split=user", "query.split"),
    ],
)
async def test_bad_queries_answer_400_naming_the_parameter(
    app: Any, keys: Keys, query: str, param: str
) -> None:
    response = await call(app, "GET", query, key=keys.member)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


async def test_the_log_filters_by_time(app: Any, keys: Keys, requests: dict) -> None:
    later = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (await call(app, "GET", f"/api/requests?since={later}", key=keys.admin)).json()["total"] == 0
    assert (await call(app, "GET", f"/api/requests?until={later}", key=keys.admin)).json()["total"] == 3


async def test_the_config_tree_shows_inheritance_and_errors_at_their_node(app: Any, keys: Keys) -> None:
    config = {
        "strategy": {"mode": "fallback", "on_status_codes": [503]},
        "retry": {"attempts": 2},
        "override_params": {"temperature": 0.2},
        "targets": [
            {"provider": "openai", "api_key": "sk-secret-in-config", "override_params": {"model": "gpt-4o"}},
            {
                "strategy": {"mode": "loadbalance"},
                "targets": [
                    {"provider": "anthropic", "weight": 3, "retry": {"attempts": 0}},
                    {"virtual_key": "vk-1", "weight": 1},
                ],
            },
        ],
    }
    answer = (
        await call(app, "POST", "/api/dashboard/config-tree", key=keys.member, json={"config": config})
    ).json()
    assert answer["valid"] is True
    root = answer["tree"]
    assert (root["kind"], root["mode"], root["on_status_codes"]) == ("strategy", "fallback", [503])
    first, balance = root["targets"]
    assert (first["model"], first["api_key"], first["inherited"]["override_params"]) == (
        "gpt-4o",
        "set",
        {"temperature": 0.2},
    )
    assert first["inherited"]["retry"]["attempts"] == 2
    anthropic, virtual = balance["targets"]
    assert (anthropic["weight"], "retry" in anthropic["inherited"]) == (3.0, False)  # its own retry: none
    assert (virtual["virtual_key"], virtual["inherited"]["retry"]["attempts"]) == ("vk-1", 2)
    assert "sk-secret-in-config" not in str(answer)
    bad = {
        "strategy": {"mode": "fallback"},
        "targets": [{"provider": "openai"}, {"provider": "openai", "weight": -1}],
    }
    refused = (
        await call(app, "POST", "/api/dashboard/config-tree", key=keys.member, json={"config": bad})
    ).json()
    assert refused["valid"] is False
    assert refused["error"]["path"].startswith("config.targets[1]")
