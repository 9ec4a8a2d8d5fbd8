"""``/api/keys`` over ASGI: CRUD, the secret shown once, members' own keys only, usage, bad input.

A real control plane on SQLite (the admin conftest); the upstream, where a test needs one, is a
MockTransport answering a fixed completion.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from strands_portkey.controlplane import ControlPlane
from strands_portkey.server.app import create_app
from strands_portkey.server.settings import ServerSettings
from tests.unit.conftest import completion
from tests.unit.server.admin.conftest import Keys, call
from tests.unit.server.conftest import HI, public_resolver

RATE = [{"type": "requests", "unit": "rpm", "value": 60}]
BUDGET = {"credit_limit": 100, "type": "tokens", "alert_threshold": 5, "periodic_reset": "monthly"}


def _api_keys(app: Any) -> Any:
    return app.state.server.authenticator.api_keys


def _stored(app: Any) -> list[dict[str, Any]]:
    """Every key as the store has it (to assert that a refused request wrote nothing)."""
    return [key.to_dict() for key in _api_keys(app).list(limit=1000)]


async def _create(app: Any, key: str, **body: Any) -> dict[str, Any]:
    answer = await call(app, "POST", "/api/keys", key=key, json={"name": "made", **body})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def test_an_admin_creates_lists_updates_rotates_and_revokes(app: Any, keys: Keys) -> None:
    made = await _create(app, keys.admin, user="bob", organization_id="acme", rate_limits=RATE)
    secret = made["key"]
    assert secret.startswith("spk-")
    assert made["masked_key"] == f"spk-…{secret[-4:]}"
    assert (made["user"], made["role"], made["status"]) == ("bob", "member", "active")
    me = await call(app, "GET", "/api/me", key=secret)
    assert me.json()["user"] == "bob"  # the new key works at once, on this worker

    page = await call(app, "GET", "/api/keys?limit=2&offset=1", key=keys.admin)
    assert page.json()["total"] == 4
    assert (page.json()["limit"], page.json()["offset"]) == (2, 1)
    assert [k["name"] for k in page.json()["data"]] == ["member", "outsider"]
    only_bob = await call(app, "GET", "/api/keys?user=bob", key=keys.admin)
    assert [k["id"] for k in only_bob.json()["data"]] == [made["id"]]

    changed = await call(
        app, "PATCH", f"/api/keys/{made['id']}", key=keys.admin, json={"name": "renamed", "rate_limits": []}
    )
    assert (changed.json()["name"], changed.json()["rate_limits"]) == ("renamed", [])
    assert changed.json()["user"] == "bob"  # fields not sent are kept

    rotated = await call(app, "POST", f"/api/keys/{made['id']}/rotate", key=keys.admin)
    assert rotated.status_code == 200
    assert rotated.json()["id"] == made["id"]
    assert rotated.json()["key"] != secret
    assert (await call(app, "GET", "/api/me", key=secret)).status_code == 401
    assert (await call(app, "GET", "/api/me", key=rotated.json()["key"])).status_code == 200

    revoked = await call(app, "POST", f"/api/keys/{made['id']}/revoke", key=keys.admin)
    assert revoked.json()["status"] == "revoked"
    assert (await call(app, "GET", "/api/me", key=rotated.json()["key"])).status_code == 401
    active = await call(app, "GET", "/api/keys?status=active", key=keys.admin)
    assert made["id"] not in [k["id"] for k in active.json()["data"]]


async def test_a_new_key_belongs_to_the_caller_not_the_servers_user(app: Any, keys: Keys) -> None:
    by_admin = await _create(app, keys.admin)
    by_outsider = await _create(app, keys.outsider)
    assert (by_admin["user"], by_admin["organization_id"]) == ("root", "acme")
    assert (by_outsider["user"], by_outsider["organization_id"]) == ("eve", "globex")


async def test_the_secret_is_shown_by_create_and_rotate_only(
    app: Any, keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    made = await _create(app, keys.member, name="canary")
    rotated = await call(app, "POST", f"/api/keys/{made['id']}/rotate", key=keys.member)
    secrets = [made["key"], rotated.json()["key"]]
    answers = []
    for method, path, body in [
        ("GET", "/api/keys", None),
        ("GET", f"/api/keys/{made['id']}", None),
        ("PATCH", f"/api/keys/{made['id']}", {"description": "still secret-free"}),
        ("GET", f"/api/keys/{made['id']}/usage", None),
        ("GET", "/api/keys/no-such-key", None),
        ("POST", f"/api/keys/{made['id']}/revoke", None),
        ("POST", f"/api/keys/{made['id']}/rotate", None),  # revoked: refused, no new secret
    ]:
        for caller in (keys.member, keys.admin, keys.outsider):
            answers.append(await call(app, method, path, key=caller, json=body))
    assert [a.status_code for a in answers[-3:]] == [400, 400, 404]  # revoked; the outsider sees none
    assert answers[-3].json()["error"]["param"] == "path.key_id"
    seen = "\n".join(answer.text for answer in answers) + caplog.text
    for secret in secrets:
        assert secret not in seen
        assert secret[4:20] not in seen  # not even its lookup part
    for stored in _stored(app):
        assert "key" not in stored


async def test_a_member_manages_its_own_keys_only(
    app: Any, keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    others = await _create(app, keys.admin, name="roots")
    own = await _create(app, keys.member, name="mine")
    listed = await call(app, "GET", "/api/keys", key=keys.member)
    assert {k["name"] for k in listed.json()["data"]} == {"member", "mine"}
    assert listed.json()["total"] == 2
    probing = await call(app, "GET", "/api/keys?user=root", key=keys.member)
    assert probing.json() == {"data": [], "total": 0, "limit": 50, "offset": 0}

    caplog.set_level(logging.INFO, logger="strands_portkey.server.admin")
    unknown = await call(app, "GET", "/api/keys/ak-0000000000000000", key=keys.member)
    for method, suffix, body in [
        ("GET", "", None),
        ("PATCH", "", {"name": "taken over"}),
        ("POST", "/rotate", None),
        ("POST", "/revoke", None),
        ("GET", "/usage", None),
    ]:
        answer = await call(app, method, f"/api/keys/{others['id']}{suffix}", key=keys.member, json=body)
        assert answer.status_code == 404
        assert answer.json()["error"]["message"] == unknown.json()["error"]["message"].replace(
            "ak-0000000000000000", others["id"]
        )
    assert _api_keys(app).retrieve(others["id"]).name == "roots"  # nothing changed
    assert _api_keys(app).retrieve(others["id"]).status == "active"
    probes = [r.getMessage() for r in caplog.records if "answered 404" in r.getMessage()]
    assert len(probes) == 5
    member_id = (await call(app, "GET", "/api/me", key=keys.member)).json()["keyId"]
    assert member_id in probes[0]
    assert f"/api/keys/{others['id']}" in probes[0]
    assert keys.member not in caplog.text

    mine = await call(app, "PATCH", f"/api/keys/{own['id']}", key=keys.member, json={"description": "ok"})
    assert mine.json()["description"] == "ok"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"role": "admin"}, "body.role"),
        ({"user": "root"}, "body.user"),
        ({"organization_id": "globex"}, "body.organization_id"),
        ({"rate_limits": []}, "body.rate_limits"),
        ({"usage_limits": BUDGET}, "body.usage_limits"),
        ({"scopes": ["completions.write", "*"]}, "body.scopes[1]"),
    ],
)
async def test_a_member_cannot_make_a_wider_key(
    app: Any, keys: Keys, body: dict[str, Any], param: str
) -> None:
    before = _stored(app)
    answer = await call(app, "POST", "/api/keys", key=keys.member, json={"name": "wider", **body})
    assert answer.status_code == 403
    assert answer.json()["error"]["param"] == param
    assert _stored(app) == before
    own = await _create(app, keys.member, name="own")
    update = await call(app, "PATCH", f"/api/keys/{own['id']}", key=keys.member, json=body)
    assert update.status_code == 403
    assert update.json()["error"]["param"] == param


async def test_a_members_new_key_stays_within_the_calling_key(app: Any, keys: Keys) -> None:
    narrow = _api_keys(app).create(
        {
            "name": "narrow",
            "user": "ana",
            "organization_id": "acme",
            "allowed_models": ["gpt-4o"],
            "expires_at": "2099-01-01T00:00:00Z",
            "rate_limits": RATE,
        }
    )
    made = await _create(app, narrow.key, name="child")
    assert made["allowed_models"] == ["gpt-4o"]
    assert made["expires_at"] == "2099-01-01T00:00:00.000Z"
    assert made["rate_limits"] == RATE  # the calling key's limits
    wider_model = await call(
        app, "POST", "/api/keys", key=narrow.key, json={"name": "w", "allowed_models": ["gpt-4o", "o3"]}
    )
    later = await call(
        app, "POST", "/api/keys", key=narrow.key, json={"name": "w", "expires_at": "2100-01-01T00:00:00Z"}
    )
    any_model = await call(
        app, "POST", "/api/keys", key=narrow.key, json={"name": "w", "allowed_models": None}
    )
    assert (wider_model.status_code, wider_model.json()["error"]["param"]) == (403, "body.allowed_models[1]")
    assert (later.status_code, later.json()["error"]["param"]) == (403, "body.expires_at")
    assert (any_model.status_code, any_model.json()["error"]["param"]) == (403, "body.allowed_models")


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "param"),
    [
        ("POST", "/api/keys", {"name": "x", "colour": "red"}, 400, "body.colour"),
        ("POST", "/api/keys", {"name": 5}, 400, "body.name"),
        ("POST", "/api/keys", {}, 400, "body.name"),
        ("POST", "/api/keys", {"name": "x", "expires_at": "next tuesday"}, 400, "body.expires_at"),
        ("POST", "/api/keys", {"name": "x", "expires_at": "2001-01-01T00:00:00Z"}, 400, "body.expires_at"),
        ("POST", "/api/keys", {"name": "x", "scopes": "completions.write"}, 400, "body.scopes"),
        (
            "POST",
            "/api/keys",
            {"name": "x", "rate_limits": [{"type": "requests", "unit": "rpw", "value": 1}]},
            400,
            "body.rate_limits[0].unit",
        ),
        (
            "POST",
            "/api/keys",
            {"name": "x", "usage_limits": {"credit_limit": 5, "alert_threshold": 9}},
            400,
            "body.usage_limits.alert_threshold",
        ),
        ("POST", "/api/keys", {"name": "x", "default_config": "not-a-config"}, 400, "body.default_config"),
        ("PATCH", "/api/keys/ak-0000000000000000", {"name": "x"}, 404, None),
        ("PATCH", "/api/keys/{member}", {"role": "owner"}, 400, "body.role"),
        ("POST", "/api/keys/ak-0000000000000000/rotate", None, 404, None),
        ("GET", "/api/keys/ak-0000000000000000/usage", None, 404, None),
        ("GET", "/api/keys?limit=0", None, 400, "query.limit"),
        ("GET", "/api/keys?limit=1001", None, 400, "query.limit"),
        ("GET", "/api/keys?status=lost", None, 400, "query.status"),
    ],
)
async def test_bad_input_names_the_field_and_writes_nothing(  # noqa: PLR0917
    app: Any, keys: Keys, method: str, path: str, body: Any, status: int, param: str | None
) -> None:
    member_id = _api_keys(app).list(user="ana").to_list()[0].id
    before = _stored(app)
    answer = await call(app, method, path.format(member=member_id), key=keys.admin, json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["param"] == param
    assert _stored(app) == before


async def test_an_oversized_body_is_413_before_anything_is_read(app: Any, keys: Keys) -> None:
    before = _stored(app)
    huge = {"name": "big", "description": "x" * (1024 * 1024)}
    answer = await call(app, "POST", "/api/keys", key=keys.admin, json=huge)
    assert answer.status_code == 413
    assert answer.json()["error"]["param"] == "body"
    assert _stored(app) == before


async def test_usage_shows_what_the_servers_limiter_counted(plane: ControlPlane, keys: Keys) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=completion("hello"))  # usage: 5 tokens

    settings = ServerSettings(
        env={"STRANDS_PORTKEY_HOME": "/nonexistent/strands-portkey-unit-home"},
        open_store=False,
        upstream_transport=httpx.MockTransport(answer),
        resolver=public_resolver,
        control_plane=plane,
    )
    app = create_app(settings, gateway_keys=True)
    admin = _api_keys(app).create({"name": "a", "role": "admin"}).key
    made = await _create(app, admin, rate_limits=RATE, usage_limits=BUDGET)
    headers = {
        "x-portkey-api-key": made["key"],
        "x-portkey-provider": "openai",
        "authorization": "Bearer sk-x",
    }
    fresh = await call(app, "GET", f"/api/keys/{made['id']}/usage", key=admin)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as c:
        for _ in range(2):
            sent = await c.post(
                "/v1/chat/completions", json={"model": "gpt-4o", "messages": HI}, headers=headers
            )
            assert sent.status_code == 200
    after = await call(app, "GET", f"/api/keys/{made['id']}/usage", key=admin)
    assert fresh.json()["counted_in"] == after.json()["counted_in"] == "memory"
    assert fresh.json()["rate_limits"][0]["remaining"] == 60
    rate = after.json()["rate_limits"][0]
    assert (rate["type"], rate["unit"], rate["value"]) == ("requests", "rpm", 60)
    assert 58 <= rate["remaining"] < 58.5  # two requests taken; refilled a little since
    budget = after.json()["usage_limits"][0]
    assert (budget["used"], budget["remaining"], budget["alerting"]) == (10, 90, True)  # 2 x 5 tokens
    assert budget["credit_limit"] == 100
    assert budget["resets_at"].endswith("T00:00:00.000Z")
    assert made["key"] not in after.text
