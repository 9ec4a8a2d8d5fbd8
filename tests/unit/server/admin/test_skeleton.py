"""The admin API's frame: the roles table against the routes, who may call, error shapes, docs."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter, FastAPI

from strands_portkey.server.admin import admin_app, served_routes
from strands_portkey.server.admin.bodies import Body, Limit
from strands_portkey.server.admin.errors import field_path, install_error_handlers
from strands_portkey.server.admin.roles import ROLES, ROUTE_ROLES, role_of
from tests.unit.server.admin.conftest import Keys, call


def _admin(app: Any) -> FastAPI:
    """The FastAPI app mounted in the server app."""
    for route in app.router.routes:
        inner = getattr(route, "app", None)
        if isinstance(inner, FastAPI):
            return inner
    raise AssertionError("no admin app mounted")


def test_every_route_has_a_rule_and_every_rule_a_route(app: Any) -> None:
    routes = served_routes(_admin(app))
    assert routes - ROUTE_ROLES.keys() == set(), "routes without a rule in ROUTE_ROLES"
    assert ROUTE_ROLES.keys() - routes == set(), "rules without a route"
    assert set(ROUTE_ROLES.values()) <= set(ROLES)


def test_head_is_judged_as_get() -> None:
    assert role_of("HEAD", "/api/me") == role_of("GET", "/api/me") == "member"
    assert role_of("GET", "/api/unlisted") is None


async def test_who_am_i_needs_a_key_and_says_who(app: Any, keys: Keys) -> None:
    anonymous = await call(app, "GET", "/api/me")
    wrong = await call(app, "GET", "/api/me", key="spk-not-a-real-key-0123456789")
    member = await call(app, "GET", "/api/me", key=keys.member)
    admin = await call(app, "GET", "/api/me", key=keys.admin)
    assert anonymous.status_code == wrong.status_code == 401
    assert anonymous.json()["error"]["type"] == "authentication_error"
    assert member.json() | {"keyId": None} == {
        "keyId": None,
        "name": "member",
        "user": "ana",
        "organizationId": "acme",
        "role": "member",
    }
    assert admin.json()["role"] == "admin"
    assert keys.member not in member.text


async def test_the_openapi_document_and_docs_are_public_and_offline(app: Any) -> None:
    document = await call(app, "GET", "/openapi.json")
    page = await call(app, "GET", "/docs")
    script = await call(app, "GET", "/docs/assets/swagger-ui-bundle.js")
    walk = await call(app, "GET", "/docs/assets/..%2f..%2f__init__.py")
    assert document.status_code == 200
    assert "/api/me" in document.json()["paths"]
    assert page.status_code == 200
    assert "/openapi.json" in page.text
    assert "cdn" not in page.text.lower()
    assert "https://" not in page.text
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("application/javascript")
    assert walk.status_code == 404


async def test_the_data_plane_keeps_its_404_and_405(app: Any) -> None:
    missing = await call(app, "GET", "/v1/nope")
    wrong_method = await call(app, "GET", "/v1/chat/completions")
    admin_missing = await call(app, "GET", "/api/nope")
    assert (missing.status_code, wrong_method.status_code, admin_missing.status_code) == (404, 405, 404)
    assert admin_missing.json()["error"]["type"] == "not_found_error"


class Thing(Body):
    name: str
    size: int = 1


def _probe_app(app: Any) -> FastAPI:
    """The real admin app plus probe routes: one admin-only, one without a rule, one with a body."""
    router = APIRouter()

    @router.get("/api/probe/admin-only")
    def admin_only() -> dict[str, bool]:
        return {"ok": True}

    @router.get("/api/probe/no-rule")
    def no_rule() -> dict[str, bool]:
        return {"ok": True}

    @router.post("/api/probe/things")
    def things(body: Thing, limit: Limit = 50) -> dict[str, Any]:
        return {"name": body.name, "limit": limit}

    probe = admin_app(app.state.server)
    probe.include_router(router)
    return probe


@pytest.fixture
def probe(app: Any, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    monkeypatch.setitem(ROUTE_ROLES, ("GET", "/api/probe/admin-only"), "admin")
    monkeypatch.setitem(ROUTE_ROLES, ("POST", "/api/probe/things"), "member")
    return _probe_app(app)


async def test_members_get_403_on_admin_routes_and_a_route_without_rule_is_never_served(
    probe: FastAPI, keys: Keys
) -> None:
    member = await call(probe, "GET", "/api/probe/admin-only", key=keys.member)
    admin = await call(probe, "GET", "/api/probe/admin-only", key=keys.admin)
    unruled = await call(probe, "GET", "/api/probe/no-rule", key=keys.admin)
    assert member.status_code == 403
    assert "admin role" in member.json()["error"]["message"]
    assert admin.status_code == 200
    assert unruled.status_code == 500
    assert "ok" not in unruled.text


async def test_bad_bodies_and_queries_are_400_naming_the_field(probe: FastAPI, keys: Keys) -> None:
    async def post(json: dict[str, Any], query: str = "") -> Any:
        return await call(probe, "POST", f"/api/probe/things{query}", key=keys.member, json=json)

    unknown = await post({"name": "a", "colour": 1})
    wrong_type = await post({"name": "a", "size": "2"})
    missing = await post({})
    limit = await post({"name": "a"}, "?limit=0")
    ok = await post({"name": "a"}, "?limit=7")
    assert [r.status_code for r in (unknown, wrong_type, missing, limit)] == [400] * 4
    assert unknown.json()["error"]["param"] == "body.colour"
    assert "unknown field" in unknown.json()["error"]["message"]
    assert wrong_type.json()["error"]["param"] == "body.size"
    assert missing.json()["error"]["param"] == "body.name"
    assert limit.json()["error"]["param"] == "query.limit"
    assert ok.json() == {"name": "a", "limit": 7}


def test_field_paths_read_like_json_paths() -> None:
    assert field_path(("body", "providers", 1, "name")) == "body.providers[1].name"
    assert field_path(()) == ""


async def test_an_unexpected_error_is_a_generic_500_without_its_message() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("sk-canary-secret-in-a-message")

    from httpx import ASGITransport, AsyncClient

    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://t") as c:
        answer = await c.get("/boom")
    assert answer.status_code == 500
    assert "sk-canary" not in answer.text
