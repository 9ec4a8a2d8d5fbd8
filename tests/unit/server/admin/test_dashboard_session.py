"""Dashboard sessions through the ASGI app: sign-in, the cookie, CSRF, re-checks of the key, sign-out."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from strands_portkey.server.admin.dashboard.session import COOKIE, SessionKeys
from strands_portkey.server.app import create_app
from strands_portkey.server.settings import ServerSettings

from .conftest import Keys, call

CONFIG = {"config": {"provider": "openai"}}


async def sign_in(
    app: Any, key: str, *, base_url: str = "http://gateway.test", **form: str
) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url) as client:
        return await client.post("/ui/login", data={"key": key, **form})


def cookie_of(response: httpx.Response) -> str:
    header = response.headers["set-cookie"]
    return header.split(";", 1)[0].split("=", 1)[1]


async def with_cookie(app: Any, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
    headers = {"cookie": f"{COOKIE}={token}", **kwargs.pop("headers", {})}
    return await call(app, method, path, headers=headers, **kwargs)


def test_tokens_are_signed_and_expire() -> None:
    now = [1000.0]
    keys = SessionKeys(b"k" * 32, clock=lambda: now[0])
    token = keys.token("ak-1", "f00d", seconds=60)
    assert keys.read(token)[:3] == ("ak-1", "f00d", 1060)
    payload, signature = token.split(".")
    assert keys.read(payload + "." + signature[::-1]) is None  # tampered signature
    assert keys.read(payload[:-2] + "xx." + signature) is None  # tampered payload
    assert SessionKeys(b"x" * 32, clock=lambda: now[0]).read(token) is None  # another server's secret
    assert keys.read("garbage") is None
    now[0] = 1060.0
    assert keys.read(token) is None  # expired
    assert keys.csrf(payload) != keys.csrf(keys.token("ak-1", "f00d").split(".")[0])


async def test_signing_in_sets_a_strict_httponly_cookie_without_the_key(app: Any, keys: Keys) -> None:
    response = await sign_in(app, keys.member, next="/ui/requests")
    assert (response.status_code, response.headers["location"]) == (303, "/ui/requests")
    header = response.headers["set-cookie"].lower()
    assert "httponly" in header
    assert "samesite=strict" in header
    assert "path=/" in header
    assert "secure" not in header
    assert keys.member not in response.headers["set-cookie"]
    secure = await sign_in(app, keys.member, base_url="https://gateway.test")
    assert "secure" in secure.headers["set-cookie"].lower()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as c:
        proxied = await c.post("/ui/login", data={"key": keys.member}, headers={"x-forwarded-proto": "https"})
    assert "secure" in proxied.headers["set-cookie"].lower()


async def test_a_session_acts_as_its_key(app: Any, keys: Keys) -> None:
    token = cookie_of(await sign_in(app, keys.member))
    who = await with_cookie(app, "GET", "/ui/session", token)
    assert who.status_code == 200
    assert (who.json()["user"], who.json()["role"], len(who.json()["csrf"])) == ("ana", "member", 32)
    assert (await with_cookie(app, "GET", "/api/requests", token)).status_code == 200
    assert (await call(app, "GET", "/api/requests")).status_code == 401  # no cookie, no key


@pytest.mark.parametrize(
    ("key", "origin", "reason"),
    [("spk-not-a-key", None, "invalid"), ("", None, "invalid"), (None, "https://evil.example", "origin")],
)
async def test_a_refused_sign_in_says_why_and_sets_no_cookie(
    app: Any, keys: Keys, key: str | None, origin: str | None, reason: str
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        headers = {"origin": origin} if origin else {}
        response = await client.post(
            "/ui/login", data={"key": keys.member if key is None else key}, headers=headers
        )
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/ui/login?error={reason}")
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/api/keys", "/ui/..\\x"])
async def test_after_sign_in_only_dashboard_pages_are_targets(app: Any, keys: Keys, target: str) -> None:
    response = await sign_in(app, keys.member, next=target)
    assert response.headers["location"] == "/ui/overview"


async def test_revoking_or_rotating_the_key_ends_its_sessions(app: Any, keys: Keys) -> None:
    api_keys = app.state.server.authenticator.api_keys
    token = cookie_of(await sign_in(app, keys.member))
    key_id = api_keys.authenticate(keys.member).id
    api_keys.rotate(key_id)
    assert (await with_cookie(app, "GET", "/api/requests", token)).status_code == 401
    other = cookie_of(await sign_in(app, keys.outsider))
    api_keys.revoke(api_keys.authenticate(keys.outsider).id)
    assert (await with_cookie(app, "GET", "/api/requests", other)).status_code == 401
    page = await with_cookie(app, "GET", "/ui/overview", other)
    assert (page.status_code, page.headers["location"]) == (303, "/ui/login?next=/ui/overview")


async def test_changes_need_the_csrf_token_and_the_same_origin(app: Any, keys: Keys) -> None:
    token = cookie_of(await sign_in(app, keys.member))
    csrf = (await with_cookie(app, "GET", "/ui/session", token)).json()["csrf"]
    alone = await with_cookie(app, "POST", "/api/dashboard/config-tree", token, json=CONFIG)
    wrong = await with_cookie(
        app, "POST", "/api/dashboard/config-tree", token, json=CONFIG, headers={"x-csrf-token": "x" * 32}
    )
    elsewhere = await with_cookie(
        app,
        "POST",
        "/api/dashboard/config-tree",
        token,
        json=CONFIG,
        headers={"x-csrf-token": csrf, "origin": "https://evil.example"},
    )
    proxied = await with_cookie(  # TLS ended by a proxy: the browser's origin says https
        app,
        "POST",
        "/api/dashboard/config-tree",
        token,
        json=CONFIG,
        headers={"x-csrf-token": csrf, "origin": "https://gateway.test"},
    )
    assert proxied.status_code == 200
    good = await with_cookie(
        app,
        "POST",
        "/api/dashboard/config-tree",
        token,
        json=CONFIG,
        headers={"x-csrf-token": csrf, "origin": "http://gateway.test"},
    )
    assert [r.status_code for r in (alone, wrong, elsewhere, good)] == [403, 403, 403, 200]
    assert "CSRF" in alone.json()["error"]["message"]
    # a key in a header needs no CSRF token: no browser sends it on its own
    assert (
        await call(app, "POST", "/api/dashboard/config-tree", key=keys.member, json=CONFIG)
    ).status_code == 200


async def test_sign_out_clears_the_cookie_with_the_token_only(app: Any, keys: Keys) -> None:
    token = cookie_of(await sign_in(app, keys.member))
    csrf = (await with_cookie(app, "GET", "/ui/session", token)).json()["csrf"]
    refused = await with_cookie(app, "POST", "/ui/logout", token, data={"csrf": "nope"})
    assert refused.status_code == 403
    done = await with_cookie(app, "POST", "/ui/logout", token, data={"csrf": csrf})
    assert (done.status_code, done.headers["location"]) == (303, "/ui/login?signed_out=1")
    assert 'spk_session=""' in done.headers["set-cookie"] or "max-age=0" in done.headers["set-cookie"].lower()


async def test_pages_redirect_to_sign_in_and_are_served_with_a_strict_policy(app: Any, keys: Keys) -> None:
    page = await call(app, "GET", "/ui/requests")
    assert (page.status_code, page.headers["location"]) == (303, "/ui/login?next=/ui/requests")
    token = cookie_of(await sign_in(app, keys.member))
    page = await with_cookie(app, "GET", "/ui/requests/abc", token)
    assert page.status_code == 200
    assert "<main" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    login = await with_cookie(app, "GET", "/ui/login?next=/ui/models", token)
    assert (login.status_code, login.headers["location"]) == (303, "/ui/models")
    assert (await call(app, "GET", "/ui")).headers["location"] == "/ui/overview"


async def test_static_files_are_served_from_the_list_only(app: Any) -> None:
    script = await call(app, "GET", "/ui/static/vendor/uPlot.iife.min.js")
    assert (script.status_code, script.headers["content-type"]) == (200, "text/javascript; charset=utf-8")
    for path in (
        "/ui/static/session.py",
        "/ui/static/../session.py",
        "/ui/static/%2e%2e/pages.py",
        "/ui/static/x.js",
    ):
        assert (await call(app, "GET", path)).status_code == 404, path


async def test_a_server_without_keys_opens_the_dashboard_without_sign_in(plane: Any) -> None:
    settings = ServerSettings(
        env={"STRANDS_PORTKEY_USER": "dev"},
        open_store=False,
        upstream_transport=httpx.MockTransport(lambda request: httpx.Response(500)),
        control_plane=plane,
    )
    app = create_app(settings, no_auth=True)
    page = await call(app, "GET", "/ui/overview")
    assert page.status_code == 200
    who = (await call(app, "GET", "/ui/session")).json()
    assert (who["role"], who["user"], who["csrf"]) == ("admin", "dev", None)
    refused = await sign_in(app, "spk-anything")
    assert refused.headers["location"].startswith("/ui/login?error=unsupported")
