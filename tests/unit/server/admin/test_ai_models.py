"""``/api/ai/models`` over HTTP: the seed 000 fields, the envelope, roles and bad input.

Behaviour shared with ``gw.ai.models`` is in tests/unit/remote/test_ai_models_faces.py; here is
what only the REST face has: who sees what by gateway key (member, another organization's
member, admin), 404 (not 403) for objects a caller may not see and the log of the probe, the
field paths of refusals, and that a refused request writes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import select

from strands_portkey.controlplane import ControlPlane
from strands_portkey.server.admin.body_limit import ADMIN_MAX_BODY_BYTES
from strands_portkey.store.tables import AIModelRow
from tests.unit.remote.ai_fixtures import CLAUDE, GPT, LOCAL, ScriptedDeployer
from tests.unit.server.admin.conftest import Keys, call

BASE = "/api/ai/models"


def stored(plane: ControlPlane) -> list[tuple[Any, ...]]:
    """Every model row, as plain values (to assert a refused request changed nothing)."""
    with plane.store.reading() as session:
        rows = session.scalars(select(AIModelRow).order_by(AIModelRow.id)).all()
        return [
            (r.id, r.name, r.description, r.max_tokens, r.is_shared, list(r.shared_with), r.status)
            for r in rows
        ]


async def create(app: Any, key: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = await call(app, "POST", BASE, key=key, json=body)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


async def test_the_seed_fields_and_the_listing_envelope(app: Any, keys: Keys) -> None:
    model = await create(app, keys.member, GPT)
    assert set(model) == {
        "id", "name", "type", "provider", "vendor_model_id", "model_type", "status", "description",
        "capabilities", "max_tokens", "context_window", "owner", "organization_id", "is_shared",
        "shared_with", "config", "created_at", "updated_at",
    }  # fmt: skip
    assert (model["owner"], model["organization_id"], model["status"]) == ("ana", "acme", "active")
    await create(app, keys.member, CLAUDE)
    page = (await call(app, "GET", BASE, key=keys.member, params={"limit": 1, "offset": 1})).json()
    assert (page["total"], page["limit"], page["offset"]) == (2, 1, 1)
    assert [m["name"] for m in page["data"]] == ["GPT-4o Mini"]
    filtered = (await call(app, "GET", BASE, key=keys.member, params={"provider": "anthropic"})).json()
    assert (filtered["total"], [m["name"] for m in filtered["data"]]) == (1, ["Claude 3.5 Sonnet"])
    overview = (await call(app, "GET", f"{BASE}/overview", key=keys.member)).json()
    assert overview == {
        "total": 2, "active": 2, "deploying": 0, "stopped": 0, "failed": 0, "third_party": 2, "self_hosted": 0
    }  # fmt: skip


async def test_another_users_model_is_404_like_a_missing_one_and_the_probe_is_logged(
    app: Any, keys: Keys, plane: ControlPlane, caplog: pytest.LogCaptureFixture
) -> None:
    model = await create(app, keys.member, GPT)
    before = stored(plane)
    caplog.set_level(logging.WARNING, logger="strands_portkey.server.admin")
    missing = await call(app, "GET", f"{BASE}/model-missing", key=keys.outsider)
    hidden = await call(app, "GET", f"{BASE}/{model['id']}", key=keys.outsider)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"]["message"].replace(model["id"], "X") == missing.json()["error"][
        "message"
    ].replace("model-missing", "X")
    for method, path, body in (
        ("PUT", f"{BASE}/{model['id']}", {"description": "mine"}),
        ("DELETE", f"{BASE}/{model['id']}", None),
        ("PUT", f"{BASE}/{model['id']}/permissions", {"shared_with": ["eve"]}),
        ("GET", f"{BASE}/{model['id']}/permissions", None),
        ("GET", f"{BASE}/{model['id']}/metrics", None),
        ("POST", f"{BASE}/{model['id']}/stop", None),
    ):
        answer = await call(app, method, path, key=keys.outsider, json=body)
        assert answer.status_code == 404, (method, path, answer.text)
    assert stored(plane) == before
    listed = (await call(app, "GET", BASE, key=keys.outsider)).json()
    assert (listed["total"], listed["data"]) == (0, [])
    assert (await call(app, "GET", f"{BASE}/overview", key=keys.outsider)).json()["total"] == 0
    probes = [r.getMessage() for r in caplog.records if "not visible to it" in r.getMessage()]
    assert len(probes) == 7  # the retrieve and the six above; not the missing id
    outsider_id = (await call(app, "GET", "/api/me", key=keys.outsider)).json()["keyId"]
    assert outsider_id in probes[0]
    assert f"GET /api/ai/models/{model['id']}:" in probes[0]
    assert f"model {model['id']!r}" in probes[0]
    assert all(keys.outsider not in text and keys.member not in text for text in caplog.messages)


async def test_sharing_lets_the_organization_see_but_only_the_owner_or_an_admin_change(
    app: Any, keys: Keys, plane: ControlPlane
) -> None:
    api_keys = app.state.server.authenticator.api_keys
    colleague = api_keys.create({"name": "bo", "user": "bo", "organization_id": "acme", "role": "member"}).key
    model = await create(app, keys.member, GPT)
    assert (await call(app, "GET", f"{BASE}/{model['id']}", key=colleague)).status_code == 404
    shared = await call(
        app, "PUT", f"{BASE}/{model['id']}/permissions", key=keys.member, json={"is_shared": True}
    )
    assert shared.json() == {"id": model["id"], "is_shared": True, "shared_with": []}
    assert (await call(app, "GET", f"{BASE}/{model['id']}", key=colleague)).status_code == 200
    assert (await call(app, "GET", f"{BASE}/{model['id']}", key=keys.outsider)).status_code == 404  # globex
    before = stored(plane)
    refused = await call(app, "PUT", f"{BASE}/{model['id']}", key=colleague, json={"description": "mine"})
    assert refused.status_code == 403
    assert "owner" in refused.json()["error"]["message"]
    assert stored(plane) == before
    # an admin sees every model and may change any
    private = await create(app, keys.outsider, CLAUDE)
    every = (await call(app, "GET", BASE, key=keys.admin)).json()
    assert sorted(m["name"] for m in every["data"]) == ["Claude 3.5 Sonnet", "GPT-4o Mini"]
    changed = await call(
        app, "PUT", f"{BASE}/{private['id']}", key=keys.admin, json={"description": "checked"}
    )
    assert (changed.status_code, changed.json()["description"], changed.json()["owner"]) == (
        200,
        "checked",
        "eve",
    )
    assert (await call(app, "DELETE", f"{BASE}/{private['id']}", key=keys.admin)).json()["deleted"] is True


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({**GPT, "colour": "blue"}, "body.colour"),
        ({**GPT, "max_tokens": "lots"}, "body.max_tokens"),
        ({**GPT, "max_tokens": 0}, "body.max_tokens"),
        ({**GPT, "type": "homemade"}, "body.type"),
        ({**GPT, "capabilities": "chat"}, "body.capabilities"),
        ({**GPT, "config": {"retry": {"attempts": "x"}}}, "body.config.retry.attempts"),
        ({key: value for key, value in GPT.items() if key != "name"}, "body.name"),
        ({**GPT, "owner": "eve"}, "body.owner"),
    ],
)
async def test_a_bad_create_body_is_400_naming_the_field_and_writes_nothing(
    app: Any, keys: Keys, plane: ControlPlane, body: dict[str, Any], param: str
) -> None:
    answer = await call(app, "POST", BASE, key=keys.member, json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["param"] == param
    assert stored(plane) == []


async def test_duplicates_bad_queries_unknown_ids_and_oversized_bodies(
    app: Any, keys: Keys, plane: ControlPlane
) -> None:
    model = await create(app, keys.member, GPT)
    before = stored(plane)
    duplicate = await call(app, "POST", BASE, key=keys.member, json={**CLAUDE, "name": "gpt-4o mini"})
    assert duplicate.status_code == 409
    assert model["id"] not in duplicate.text  # the other model's id is not revealed
    for params, param in (
        ({"limit": 0}, "query.limit"),
        ({"limit": 1001}, "query.limit"),
        ({"limit": "ten"}, "query.limit"),
        ({"offset": -1}, "query.offset"),
        ({"status": "sleeping"}, "query.status"),
        ({"model_type": "vision"}, "query.model_type"),
    ):
        answer = await call(app, "GET", BASE, key=keys.member, params=params)
        assert (answer.status_code, answer.json()["error"]["param"]) == (400, param), params
    renamed = await call(app, "PUT", f"{BASE}/{model['id']}", key=keys.member, json={"status": "failed"})
    assert (renamed.status_code, renamed.json()["error"]["param"]) == (400, "body.status")
    assert (await call(app, "GET", f"{BASE}/model-missing", key=keys.member)).status_code == 404
    huge = {**CLAUDE, "description": "x" * (ADMIN_MAX_BODY_BYTES + 1)}
    assert (await call(app, "POST", BASE, key=keys.member, json=huge)).status_code == 413
    third_party = await call(app, "POST", f"{BASE}/{model['id']}/deploy", key=keys.member, json={})
    assert (third_party.status_code, third_party.json()["error"]["param"]) == (400, "path.model_id")
    assert stored(plane) == before


async def test_lifecycle_routes_of_a_self_hosted_model(app: Any, keys: Keys, plane: ControlPlane) -> None:
    plane._deployer = ScriptedDeployer()  # type: ignore[assignment]
    model = await create(app, keys.member, LOCAL)
    url = f"{BASE}/{model['id']}"
    deployed = await call(app, "POST", f"{url}/deploy", key=keys.member, json={"replicas": 1})
    assert deployed.json() == {"id": model["id"], "status": "deploying", "replicas": 1}
    status = (await call(app, "GET", f"{url}/status", key=keys.member)).json()
    assert (status["status"], status["replicas"], status["ready_replicas"]) == ("active", 1, 1)
    logs = await call(
        app, "GET", f"{url}/logs", key=keys.member, params={"lines": 1, "container": "replica-0"}
    )
    assert logs.json()["logs"] == {"replica-0": "2026-01-01T00:00:01.000000Z ready"}
    for params, param in (({"lines": 0}, "query.lines"), ({"since": "soon"}, "query.since")):
        bad = await call(app, "GET", f"{url}/logs", key=keys.member, params=params)
        assert (bad.status_code, bad.json()["error"]["param"]) == (400, param)
    too_many = await call(app, "POST", f"{url}/deploy", key=keys.member, json={"replicas": 17})
    assert (too_many.status_code, too_many.json()["error"]["param"]) == (400, "body.replicas")
    assert (await call(app, "POST", f"{url}/stop", key=keys.member)).json()["status"] == "stopped"
    assert (await call(app, "POST", f"{url}/start", key=keys.member)).json()["replicas"] == 2
    metrics = (await call(app, "GET", f"{url}/metrics", key=keys.member)).json()
    assert (metrics["model_id"], metrics["requests"]) == (model["id"], 0)
