"""``/api/ai/analytics`` over HTTP: an admin sees every request, a member only its own.

Behaviour shared with ``gw.ai.analytics`` is in tests/unit/remote/test_analytics_faces.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from strands_portkey.controlplane import ControlPlane
from tests.unit.remote.ai_fixtures import seed_records
from tests.unit.server.admin.conftest import Keys, call

BASE = "/api/ai/analytics"


@pytest.fixture
def seeded(plane: ControlPlane) -> ControlPlane:
    seed_records(plane)  # ana (the member): 3 requests, 1 an error; bob: 2
    return plane


async def test_a_member_sees_the_analytics_of_its_own_requests_only(
    app: Any, keys: Keys, seeded: Any
) -> None:
    def get(name: str, key: str, **params: Any) -> Any:
        return call(app, "GET", f"{BASE}/{name}", key=key, params=params)

    assert (await get("usage", keys.admin)).json()["total_requests"] == 5
    assert (await get("usage", keys.member)).json()["total_requests"] == 3
    assert (await get("usage", keys.outsider)).json()["total_requests"] == 0
    january = (await get("usage", keys.member, start_date="2025-01-01", end_date="2025-01-31")).json()
    assert (january["total_requests"], january["total_tokens"]) == (2, 30)
    perf = (await get("performance", keys.member)).json()
    assert (perf["p50_latency_ms"], perf["p99_latency_ms"], perf["error_rate"]) == (300.0, 500.0, 1 / 3)
    assert (await get("performance", keys.admin)).json()["p50_latency_ms"] == 300.0
    costs = (await get("costs", keys.member, group_by="model")).json()
    assert [(e["model_id"], e["requests"]) for e in costs["by_model"]] == [("gpt-4o", 2), ("claude", 1)]
    series = (
        await get(
            "time-series", keys.member, metric="requests", start_date="2025-02-02", end_date="2025-02-02"
        )
    ).json()
    assert [p["value"] for p in series["data"]] == [1]
    providers = (await get("providers", keys.member)).json()
    assert [(p["provider"], p["requests"]) for p in providers["providers"]] == [
        ("openai", 2),
        ("anthropic", 1),
    ]
    admin_providers = (await get("providers", keys.admin)).json()
    assert admin_providers["total_requests"] == 5


@pytest.mark.parametrize(
    ("name", "params", "param"),
    [
        ("usage", {"start_date": "31/01/2025"}, "query.start_date"),
        ("usage", {"end_date": "2025-13-01"}, "query.end_date"),
        ("costs", {"start_date": "2025-02-01", "end_date": "2025-01-01"}, "query.start_date"),
        ("usage", {"granularity": "fortnightly"}, "query.granularity"),
        ("costs", {"group_by": "colour"}, "query.group_by"),
        ("time-series", {"metric": "vibes"}, "query.metric"),
        ("performance", {"model_id": ""}, "query.model_id"),
        ("providers", {"start_date": "x" * 65}, "query.start_date"),
    ],
)
async def test_bad_queries_are_400_naming_the_query_field(
    app: Any, keys: Keys, name: str, params: dict[str, Any], param: str
) -> None:
    answer = await call(app, "GET", f"{BASE}/{name}", key=keys.member, params=params)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["param"] == param
