"""The remote client's frame: settings, the key, error mapping, retries, paging, decoding."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest

from strands_portkey import AsyncClient, Client
from strands_portkey.errors import (
    ConfigurationError,
    InvalidApiKeyError,
    InvalidRequestError,
    LimitExceededError,
    MalformedResponseError,
    PermissionDeniedError,
    RateLimitExceededError,
    ResourceNotFoundError,
    StoreError,
    UpstreamConnectionError,
)
from strands_portkey.remote.decode import decode, decode_list
from strands_portkey.remote.errors import error_from_answer
from strands_portkey.remote.http import RemoteHTTP, segment
from strands_portkey.remote.paging import AsyncPaginator
from strands_portkey.remote.portal import Portal
from tests.unit.remote.conftest import client_for, gateway_key

KEY = "spk-canary-client-key-0123456789abcdef"


async def _no_sleep(seconds: float) -> None:
    return None


def _http(respond: Any, **kwargs: Any) -> RemoteHTTP:
    return RemoteHTTP(
        "http://server.test", KEY, transport=httpx.MockTransport(respond), sleep=_no_sleep, **kwargs
    )


def test_settings_come_from_arguments_or_the_environment() -> None:
    env = {"STRANDS_PORTKEY_BASE_URL": "http://from-env:8787/", "STRANDS_PORTKEY_API_KEY": KEY}
    client = Client(env=env)
    try:
        assert client.base_url == "http://from-env:8787"
        assert KEY not in repr(client)
        assert KEY not in repr(client.ai.models._inner._http)
    finally:
        client.close()
    with pytest.raises(ConfigurationError, match="STRANDS_PORTKEY_BASE_URL") as missing:
        Client(env={})
    assert missing.value.path == "base_url"
    with pytest.raises(ConfigurationError) as bad:
        AsyncClient("ftp://nowhere", env={})
    assert bad.value.path == "base_url"
    with pytest.raises(ConfigurationError) as timeout:
        AsyncClient("http://x", timeout=0, env={})
    assert timeout.value.path == "timeout"


async def test_the_key_is_sent_and_the_answer_decoded() -> None:
    seen: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    http = _http(respond)
    answer = await http.call("GET", "/api/things", params={"limit": 5, "shared": True, "search": None})
    await http.aclose()
    assert answer == {"ok": True}
    assert seen[0].headers["x-portkey-api-key"] == KEY
    assert str(seen[0].url) == "http://server.test/api/things?limit=5&shared=true"


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (404, {"error": {"message": "no model 'x'", "kind": "ResourceNotFoundError"}}, ResourceNotFoundError),
        (404, {"error": {"message": "gone"}}, ResourceNotFoundError),
        (401, {"error": {"message": "no key", "kind": "UnauthorizedError"}}, InvalidApiKeyError),
        (403, {"error": {"message": "admin only", "kind": "PermissionDeniedError"}}, PermissionDeniedError),
        (503, "<html>bad gateway</html>", StoreError),
        (
            429,
            {"error": {"message": "slow down", "kind": "RateLimitExceededError"}, "retryAfter": 7},
            RateLimitExceededError,
        ),
        (429, {"error": {"message": "slow down"}}, LimitExceededError),
    ],
)
def test_error_answers_become_the_same_exceptions(status: int, body: Any, expected: type) -> None:
    error = error_from_answer(status, body)
    assert type(error) is expected
    assert error.status_code == status


def test_a_field_error_keeps_its_path_and_message() -> None:
    body = {
        "error": {
            "message": "body.name: this field is required",
            "param": "body.name",
            "kind": "InvalidRequestError",
        }
    }
    error = error_from_answer(400, body, retry_after=None)
    assert isinstance(error, InvalidRequestError)
    assert error.path == "body.name"
    assert str(error).count("body.name") == 1
    limited = error_from_answer(
        429, {"error": {"message": "x", "kind": "LimitExceededError"}}, retry_after="3"
    )
    assert isinstance(limited, LimitExceededError)
    assert limited.retry_after == 3.0


async def test_idempotent_calls_are_retried_on_502_503_and_connection_failures() -> None:
    calls: list[str] = []

    def respond(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) == 1:
            raise httpx.ConnectError("refused")
        if len(calls) == 2:
            return httpx.Response(503, json={"error": {"message": "busy"}})
        return httpx.Response(200, json={"ok": 1})

    assert await _http(respond).call("GET", "/api/x") == {"ok": 1}
    assert calls == ["GET", "GET", "GET"]


async def test_creates_are_never_retried_and_retries_end() -> None:
    calls: list[str] = []

    def busy(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return httpx.Response(503, json={"error": {"message": "busy"}})

    with pytest.raises(StoreError):
        await _http(busy).call("POST", "/api/x", json={})
    assert calls == ["POST"]
    calls.clear()
    with pytest.raises(StoreError):
        await _http(busy, retries=1).call("DELETE", "/api/x")
    assert calls == ["DELETE", "DELETE"]

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with pytest.raises(UpstreamConnectionError) as failed:
        await _http(down, retries=0).call("GET", "/api/x")
    assert KEY not in str(failed.value)


async def test_a_success_that_is_not_json_is_malformed() -> None:
    with pytest.raises(MalformedResponseError):
        await _http(lambda request: httpx.Response(200, text="<html>")).call("GET", "/api/x")


def test_ids_are_one_path_segment() -> None:
    assert segment("a/../b c") == "a%2F..%2Fb%20c"
    with pytest.raises(InvalidRequestError):
        segment("")


@dataclasses.dataclass(frozen=True)
class Inner:
    name: str


@dataclasses.dataclass(frozen=True)
class Outer:
    id: str
    tags: tuple[str, ...]
    inner: Inner | None
    items: list[Inner] = dataclasses.field(default_factory=list)
    note: str = "none"


def test_json_becomes_the_same_dataclasses() -> None:
    data = {"id": "x", "tags": ["a", "b"], "inner": {"name": "n"}, "items": [{"name": "m"}], "newer": 1}
    assert decode(Outer, data) == Outer("x", ("a", "b"), Inner("n"), [Inner("m")])
    assert decode(Outer, {"id": "y", "tags": [], "inner": None}).note == "none"
    assert decode_list(Inner, [{"name": "a"}]) == [Inner("a")]
    with pytest.raises(MalformedResponseError, match="'tags'"):
        decode(Outer, {"id": "x", "inner": None})
    with pytest.raises(MalformedResponseError):
        decode(Outer, ["not", "an", "object"])


async def test_the_paginator_fetches_lazily_page_by_page() -> None:
    pages: list[tuple[int, int]] = []

    async def fetch(offset: int, size: int) -> list[int]:
        pages.append((offset, size))
        return list(range(offset, min(offset + size, 5)))

    paginator = AsyncPaginator(fetch, 2)
    assert pages == []
    assert await paginator.to_list() == [0, 1, 2, 3, 4]
    assert pages == [(0, 2), (2, 2), (4, 2)]
    assert await paginator.first_page() == [0, 1]


def test_the_blocking_paginator_is_the_control_planes_own() -> None:
    from strands_portkey.controlplane.views import SyncPaginator

    async def fetch(offset: int, size: int) -> list[int]:
        return list(range(offset, min(offset + size, 3)))

    portal = Portal()
    try:
        paginator = AsyncPaginator(fetch, 2).blocking(portal)
        assert isinstance(paginator, SyncPaginator)
        assert paginator.to_list() == [0, 1, 2]
    finally:
        portal.close()


def test_the_client_talks_to_the_real_server(server: Any) -> None:
    key = gateway_key(server, user="ana", role="member")
    with client_for(server, key) as client:
        assert client.me() | {"keyId": None} == {
            "keyId": None,
            "name": "ana-member",
            "user": "ana",
            "organizationId": "local",
            "role": "member",
        }
    with (
        client_for(server, "spk-not-a-key-0123456789abcdefghij") as stranger,
        pytest.raises(InvalidApiKeyError),
    ):
        stranger.me()


async def test_the_async_client_talks_to_the_real_server(server: Any) -> None:
    key = gateway_key(server)
    async with AsyncClient("http://gateway.test", key, transport=httpx.ASGITransport(app=server)) as client:
        assert (await client.me())["role"] == "admin"


def test_a_client_never_closed_is_closed_when_collected(server: Any) -> None:
    import gc

    client = client_for(server, gateway_key(server))
    client.me()
    portal = client._portal
    thread = portal._thread
    assert thread is not None
    assert thread.is_alive()
    del client
    gc.collect()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert portal._loop is None


def test_close_twice_is_harmless(server: Any) -> None:
    client = client_for(server, gateway_key(server))
    client.me()
    client.close()
    client.close()
