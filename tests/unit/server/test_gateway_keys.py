"""Gateway API keys on the server over ASGI: who may call, what their key allows, limits and headers.

A real control plane on a temporary SQLite file holds the keys; the upstream is a MockTransport.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.api_keys import ApiKeys
from strands_portkey.controlplane.configs_api import Configs
from strands_portkey.controlplane.prompts_api import Prompts
from strands_portkey.errors import InvalidRequestError
from strands_portkey.limits import Limits, MemoryLimits, RateLimit, Spend, UsageLimit
from strands_portkey.server.app import create_app
from strands_portkey.server.errors import UnauthorizedError
from strands_portkey.server.gateway_keys import ADMIN_KEY_ID, GatewayKeyAuth
from strands_portkey.server.headers import CallOptions
from strands_portkey.server.key_limits import KeyLimiter, ratelimit_headers
from strands_portkey.server.settings import ServerSettings
from strands_portkey.server.state import with_identity
from tests.unit.conftest import completion
from tests.unit.server.conftest import HI, client, public_resolver

MASTER = base64.urlsafe_b64encode(bytes(range(32))).decode()
PROVIDER = {"x-portkey-provider": "openai", "authorization": "Bearer sk-canary-provider-7788"}
BODY = {"model": "gpt-4o", "messages": HI, "max_tokens": 10}
ADMIN = "spk-admin-from-env-0123456789abcdefghijklmnop"


@pytest.fixture
def plane(tmp_path: Path) -> Iterator[ControlPlane]:
    plane = ControlPlane(
        f"sqlite:///{tmp_path / 'keys.db'}",
        env={"STRANDS_PORTKEY_HOME": str(tmp_path), "STRANDS_PORTKEY_USER": "ana"},
        validate_credentials=False,
        refresh_interval=None,
        master_key=MASTER,
    )
    yield plane
    plane.close()


def _answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=completion("hello"))  # usage: 5 tokens


def _app(plane: ControlPlane, env: dict[str, str] | None = None, respond=_answer):
    settings = ServerSettings(
        env={"STRANDS_PORTKEY_HOME": "/nonexistent/strands-portkey-unit-home", **(env or {})},
        open_store=False,
        upstream_transport=httpx.MockTransport(respond),
        resolver=public_resolver,
        control_plane=plane,
    )
    return create_app(settings, gateway_keys=True)


def _key(app, **body: Any) -> tuple[str, str]:
    keys: ApiKeys = app.state.server.authenticator.api_keys
    created = keys.create({"name": "test", **body})
    return created.key, created.api_key.id


def _with(key: str) -> dict[str, str]:
    return {**PROVIDER, "x-portkey-api-key": key}


async def test_auth_failures_are_401_and_name_no_key(plane: ControlPlane) -> None:
    app = _app(plane)
    key, key_id = _key(app)
    async with client(app) as c:
        none = await c.post("/v1/chat/completions", json=BODY, headers=PROVIDER)
        wrong = await c.post("/v1/chat/completions", json=BODY, headers=_with(key[:-4] + "zzzz"))
        app.state.server.authenticator.api_keys.revoke(key_id)
        revoked = await c.post("/v1/chat/completions", json=BODY, headers=_with(key))
    assert [r.status_code for r in (none, wrong, revoked)] == [401, 401, 401]
    assert "x-portkey-api-key" in none.json()["error"]["message"]
    assert none.json()["error"]["type"] == "authentication_error"
    assert "revoked" in revoked.json()["error"]["message"]
    for response in (wrong, revoked):
        assert key[8:] not in response.text


async def test_the_key_is_read_from_portkey_header_bearer_or_x_api_key(plane: ControlPlane) -> None:
    seen: list[httpx.Request] = []
    app = _app(plane, respond=lambda r: seen.append(r) or _answer(r))
    key, _ = _key(app)
    config = {"x-portkey-config": json.dumps({"provider": "openai", "api_key": "sk-from-config"})}
    async with client(app) as c:
        portkey = await c.post("/v1/chat/completions", json=BODY, headers=_with(key))
        bearer = await c.post(
            "/v1/chat/completions", json=BODY, headers={**config, "authorization": f"Bearer {key}"}
        )
        anthropic_style = await c.post(
            "/v1/chat/completions", json=BODY, headers={**PROVIDER, "x-api-key": key}
        )
    assert [r.status_code for r in (portkey, bearer, anthropic_style)] == [200, 200, 200]
    # a Bearer gateway key is never sent upstream as the provider key
    assert seen[1].headers["authorization"] == "Bearer sk-from-config"
    assert seen[2].headers["authorization"] == "Bearer sk-canary-provider-7788"


async def test_scope_and_allowed_models_are_403(plane: ControlPlane) -> None:
    calls: list[int] = []
    app = _app(plane, respond=lambda r: calls.append(1) or _answer(r))
    no_scope, _ = _key(app, scopes=["analytics.read"])
    only_mini, _ = _key(app, allowed_models=["gpt-4o-mini"])
    async with client(app) as c:
        scope = await c.post("/v1/chat/completions", json=BODY, headers=_with(no_scope))
        model = await c.post("/v1/chat/completions", json=BODY, headers=_with(only_mini))
        allowed = await c.post(
            "/v1/chat/completions", json={**BODY, "model": "gpt-4o-mini"}, headers=_with(only_mini)
        )
    assert (scope.status_code, model.status_code, allowed.status_code) == (403, 403, 200)
    assert "completions.write" in scope.json()["error"]["message"]
    assert "allowed_models" in model.json()["error"]["message"]
    assert calls == [1]


async def test_an_admin_key_from_the_environment_passes_every_scope(plane: ControlPlane) -> None:
    app = _app(plane, env={"STRANDS_PORTKEY_ADMIN_KEY": ADMIN})
    async with client(app) as c:
        response = await c.post("/v1/chat/completions", json=BODY, headers=_with(ADMIN))
        wrong = await c.post("/v1/chat/completions", json=BODY, headers=_with(ADMIN[:-1] + "Q"))
    assert (response.status_code, wrong.status_code) == (200, 401)
    assert app.state.server.authenticator._admin.key.id == ADMIN_KEY_ID
    assert ADMIN not in repr(app.state.server.authenticator)


def test_an_expired_key_stops_working(plane: ControlPlane) -> None:
    now = [dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc).timestamp()]
    keys = ApiKeys(plane, wall_clock=lambda: now[0])
    auth = GatewayKeyAuth(keys, {})
    created = keys.create({"name": "short", "expires_at": "2026-03-01T00:10:00Z"})
    principal = asyncio.run(auth.authenticate({"x-portkey-api-key": created.key}))
    assert principal.identity["_user"] == "ana"
    now[0] += 3600
    with pytest.raises(UnauthorizedError, match="has expired") as info:
        asyncio.run(auth.authenticate({"x-portkey-api-key": created.key}))
    assert info.value.status_code == 401


async def test_a_rate_limit_is_429_with_retry_after_and_ratelimit_headers(plane: ControlPlane) -> None:
    app = _app(plane)
    key, _ = _key(app, rate_limits=[{"type": "requests", "unit": "rpm", "value": 2}])
    async with client(app) as c:
        first = await c.post("/v1/chat/completions", json=BODY, headers=_with(key))
        second = await c.post("/v1/chat/completions", json=BODY, headers=_with(key))
        third = await c.post("/v1/chat/completions", json=BODY, headers=_with(key))
    assert [r.status_code for r in (first, second, third)] == [200, 200, 429]
    assert first.headers["x-ratelimit-limit-requests"] == "2"
    assert first.headers["x-ratelimit-remaining-requests"] == "1"
    assert second.headers["x-ratelimit-remaining-requests"] == "0"
    assert float(first.headers["x-ratelimit-reset-requests"].rstrip("s")) == pytest.approx(30.0, abs=1)
    assert int(third.headers["retry-after"]) >= 1
    assert "rate_limits[0]" in third.json()["error"]["message"]


async def test_a_spent_budget_is_412_naming_the_limit(plane: ControlPlane) -> None:
    app = _app(plane)
    key, _ = _key(app, usage_limits={"credit_limit": 12, "type": "tokens"})
    async with client(app) as c:
        first = await c.post("/v1/chat/completions", json=BODY, headers=_with(key))
        second = await c.post("/v1/chat/completions", json=BODY, headers=_with(key))
        third = await c.post("/v1/chat/completions", json=BODY, headers=_with(key))
    # each call is settled at its real 5 tokens: 5, then 10 used; the third finds 10 < 12 and
    # passes; a fourth would not
    assert [r.status_code for r in (first, second, third)] == [200, 200, 200]
    assert first.headers["x-portkey-budget-remaining"]  # the estimate held while the call ran
    async with client(app) as c:
        fourth = await c.post("/v1/chat/completions", json=BODY, headers=_with(key))
    assert fourth.status_code == 412
    error = fourth.json()["error"]
    assert (error["type"], error["code"]) == ("budget_exceeded", "budget_exceeded")
    assert "usage_limits[0] (tokens 12 in total)" in error["message"]


async def test_on_prompt_routes_the_prompts_config_wins_over_the_keys_default_config(
    plane: ControlPlane,
) -> None:
    seen: list[httpx.Request] = []
    app = _app(plane, env={"OPENAI_API_KEY": "sk-env-7788"}, respond=lambda r: seen.append(r) or _answer(r))
    configs = Configs(plane)
    team = configs.create("team", {"provider": "openai", "override_params": {"model": "m1"}})
    own = configs.create("own", {"provider": "openai", "override_params": {"model": "m2"}})
    prompts = Prompts(plane)
    prompts.create("routed", [{"role": "user", "content": "hi"}], model="gpt-4o", config_id=own.id)
    prompts.create("plain", [{"role": "user", "content": "hi"}], model="gpt-4o")
    key, _ = _key(app, default_config=team.id)
    auth = {"x-portkey-api-key": key}
    async with client(app) as c:
        for path, headers in [
            ("/v1/prompts/routed/completions", auth),  # the prompt's config, not the key's default
            ("/v1/prompts/plain/completions", auth),  # no config of its own: the key's default
            ("/v1/prompts/routed/completions", {**auth, "x-portkey-config": team.id}),  # headers win
        ]:
            answer = await c.post(path, json={}, headers=headers)
            assert answer.status_code == 200, answer.text
    assert [json.loads(r.content)["model"] for r in seen] == ["m2", "m1", "m1"]


async def test_saved_configs_honour_allowed_configs_and_the_default_config(plane: ControlPlane) -> None:
    seen: list[httpx.Request] = []
    app = _app(plane, env={"OPENAI_API_KEY": "sk-env-7788"}, respond=lambda r: seen.append(r) or _answer(r))
    configs = Configs(plane)
    team = configs.create("team", {"provider": "openai", "override_params": {"model": "m1"}})
    other = configs.create("other", {"provider": "openai"})
    key, _ = _key(app, allowed_configs=[team.id], default_config=team.id)
    body = {"model": "gpt-4o", "messages": HI}
    auth = {"x-portkey-api-key": key}
    async with client(app) as c:
        default = await c.post("/v1/chat/completions", json=body, headers=auth)
        refused = await c.post(
            "/v1/chat/completions", json=body, headers={**auth, "x-portkey-config": other.id}
        )
    assert default.status_code == 200, default.text
    assert json.loads(seen[0].content)["model"] == "m1"
    assert refused.status_code == 404  # not 403: the key learns nothing about others' configs


async def test_models_are_filtered_by_the_keys_allowed_models(plane: ControlPlane) -> None:
    app = _app(plane)
    plane_models = app.state.server.plane
    from strands_portkey.controlplane import AINamespace

    ai = AINamespace(plane_models)
    try:
        ai.models.create({"name": "team-model", "provider": "openai", "vendor_model_id": "gpt-4o"})
    except InvalidRequestError as error:  # pragma: no cover - shows the body the API wants
        pytest.fail(str(error))
    only, _ = _key(app, allowed_models=["team-model"])
    nothing, _ = _key(app, allowed_models=["not-there"])
    async with client(app) as c:
        listed = await c.get("/v1/models", headers={"x-portkey-api-key": only})
        empty = await c.get("/v1/models", headers={"x-portkey-api-key": nothing})
        anonymous = await c.get("/v1/models")
    assert [m["id"] for m in listed.json()["data"]] == ["team-model"]
    assert empty.json()["data"] == []
    assert anonymous.status_code == 401


def test_the_keys_identity_wins_over_the_callers_metadata() -> None:
    options = CallOptions(metadata={"_user": "mallory", "_api_key_id": "ak-forged", "team": "a"})
    identity = {"_api_key_id": "ak-1", "_user": "ana", "_organization_id": "acme"}
    assert with_identity(options, identity).metadata == {**identity, "team": "a"}
    assert "_api_key_id" not in with_identity(options, {}).metadata  # only the server names keys


async def test_key_limiter_keeps_the_estimate_of_a_success_without_usage() -> None:
    engine = MemoryLimits()

    class Subject:
        id = "ak-x"
        limits = Limits(usage_limits=(UsageLimit(100.0, "tokens"),))

    held = await engine.reserve(Subject(), Spend(40))
    assert held.used == (40.0,)
    limiter = KeyLimiter(engine)
    from strands_portkey.server.auth import Principal
    from strands_portkey.server.limits import LimitRequest, Outcome, Reservation

    reservation = Reservation(Principal("ak-x", "x"), LimitRequest("chat", "m", 0), token=held)
    await limiter.settle(reservation, Outcome(200))
    again = await engine.reserve(Subject(), Spend(0))
    assert again.used == (40.0,)  # nothing given back: no usage reported for a success


async def test_ratelimit_headers_report_the_tightest_limit_of_each_kind() -> None:
    engine = MemoryLimits(clock=lambda: 0.0)

    class Subject:
        id = "ak-y"
        limits = Limits(
            rate_limits=(
                RateLimit("requests", "rpm", 10),
                RateLimit("requests", "rps", 2),
                RateLimit("tokens", "rpm", 1000),
            )
        )

    held = await engine.reserve(Subject(), Spend(100))
    headers = ratelimit_headers(held)
    assert headers["x-ratelimit-limit-requests"] == "2"
    assert headers["x-ratelimit-remaining-requests"] == "1"
    assert headers["x-ratelimit-reset-requests"] == "0.500s"
    assert (headers["x-ratelimit-remaining-tokens"], headers["x-ratelimit-limit-tokens"]) == ("900", "1000")


async def test_registered_models_are_checked_against_the_keys_user(plane: ControlPlane) -> None:
    from strands_portkey.catalog.models import Actor
    from strands_portkey.controlplane import AINamespace

    seen: list[httpx.Request] = []
    app = _app(plane, env={"OPENAI_API_KEY": "sk-env-7788"}, respond=lambda r: seen.append(r) or _answer(r))
    ai = AINamespace(plane)
    ai.models.actor = Actor("carol", "acme")
    body = {"name": "carols-model", "provider": "openai", "vendor_model_id": "gpt-4o", "shared_with": ["bob"]}
    ai.models.create(body)
    bob, _ = _key(app, user="bob", organization_id="acme")
    ana, _ = _key(app)  # the acting user of the store (STRANDS_PORTKEY_USER), not shared with
    request = {"model": "carols-model", "messages": HI}
    async with client(app) as c:
        shared = await c.post("/v1/chat/completions", json=request, headers={"x-portkey-api-key": bob})
        hidden = await c.post("/v1/chat/completions", json=request, headers={"x-portkey-api-key": ana})
        listed = await c.get("/v1/models", headers={"x-portkey-api-key": ana})
    # bob's permission reached the gateway's own check (the store's user, ana, may not use it)
    assert shared.status_code == 200, shared.text
    assert json.loads(seen[0].content)["model"] == "gpt-4o"
    assert hidden.status_code == 404
    assert "carols-model" not in [m["id"] for m in listed.json()["data"]]


async def test_a_prompts_model_is_checked_against_the_keys_allowed_models(plane: ControlPlane) -> None:
    from strands_portkey.controlplane.prompts_api import Prompts

    prompts = Prompts(plane)
    prompts.create("big", [{"role": "user", "content": "hi"}], model="gpt-4o")
    prompts.create("small", [{"role": "user", "content": "hi"}], model="gpt-4o-mini")
    calls: list[int] = []
    app = _app(plane, respond=lambda r: calls.append(1) or _answer(r))
    only_mini, _ = _key(app, allowed_models=["gpt-4o-mini"])
    async with client(app) as c:
        big = await c.post("/v1/prompts/big/completions", json={"variables": {}}, headers=_with(only_mini))
        small = await c.post(
            "/v1/prompts/small/completions", json={"variables": {}}, headers=_with(only_mini)
        )
        render = await c.post("/v1/prompts/big/render", json={"variables": {}}, headers=_with(only_mini))
    assert (big.status_code, small.status_code, render.status_code) == (403, 200, 403)
    assert "allowed_models" in big.json()["error"]["message"]
    assert calls == [1]  # the refused prompt never reached the upstream


async def test_another_organizations_saved_config_does_not_exist_for_a_member(plane: ControlPlane) -> None:
    seen: list[httpx.Request] = []
    app = _app(plane, env={"OPENAI_API_KEY": "sk-env-7788"}, respond=lambda r: seen.append(r) or _answer(r))
    team = Configs(plane).create("team", {"provider": "openai", "override_params": {"model": "m1"}})
    outsider, _ = _key(app, user="eve", organization_id="globex")
    listed, _ = _key(app, user="eve", organization_id="globex", allowed_configs=[team.id])
    admin, _ = _key(app, user="root", organization_id="globex", role="admin")
    body = {"model": "gpt-4o", "messages": HI}
    answers = []
    async with client(app) as c:
        for key in (outsider, listed, admin):
            headers = {"x-portkey-api-key": key, "x-portkey-config": team.id}
            answers.append(await c.post("/v1/chat/completions", json=body, headers=headers))
    assert [a.status_code for a in answers] == [404, 200, 200]
    assert answers[0].json()["error"]["message"] == f"x-portkey-config: no saved config {team.id!r}"
    assert len(seen) == 2
