"""The transport boundary over httpx.MockTransport: whatever a backend raises leaves as one error of
the tree (original kept as ``__cause__``, no secret in the message); redirects are reported."""

import sys

import httpx
import pytest

from strands_portkey.errors import (
    GatewayOverloadedError,
    RequestTimeoutError,
    UpstreamConnectionError,
    UpstreamError,
)
from strands_portkey.transport import Transport
from strands_portkey.wire import HttpRequest

URL = "https://api.example.test/v1/chat/completions?key=sk-in-the-query"


def request(method: str = "POST") -> HttpRequest:
    return HttpRequest(
        method, URL, {"authorization": "Bearer sk-secret"}, {"model": "m"}, secrets=("sk-secret",)
    )


def raising(error: BaseException) -> Transport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return Transport(httpx.MockTransport(handler))


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad port in https://api.example.test/v1?key=sk-in-the-query"),
        *(
            [ExceptionGroup("unhandled errors in a TaskGroup", [OverflowError("port must be 0-65535")])]  # noqa: F821
            if sys.version_info >= (3, 11)
            else []
        ),
        RuntimeError("a library bug"),
        httpx.InvalidURL("Invalid port: ':1'"),
    ],
)
async def test_anything_raised_below_is_an_upstream_connection_error(error: Exception) -> None:
    transport = raising(error)
    with pytest.raises(UpstreamConnectionError, match="could not") as raised:
        await transport.send(request())
    assert raised.value.__cause__ is error
    assert "sk-in-the-query" not in str(raised.value)
    with pytest.raises(UpstreamConnectionError):
        await transport.open_stream(request())
    await transport.aclose()


async def test_a_timeout_error_from_below_is_a_request_timeout() -> None:
    transport = raising(TimeoutError("slow"))
    with pytest.raises(RequestTimeoutError):
        await transport.send(request())


async def test_a_pool_timeout_is_the_gateways_overload() -> None:
    transport = raising(httpx.PoolTimeout("no connection"))
    with pytest.raises(GatewayOverloadedError, match="pool"):
        await transport.send(request())


async def test_cancellation_is_not_mapped() -> None:
    import asyncio

    transport = raising(asyncio.CancelledError())
    with pytest.raises(asyncio.CancelledError):
        await transport.send(request())


def redirecting(status: int) -> Transport:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers={"location": "https://elsewhere.test/v1?token=abc"})

    return Transport(httpx.MockTransport(handler))


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_redirect_answering_a_post_is_reported_without_its_query(status: int) -> None:
    transport = redirecting(status)
    with pytest.raises(UpstreamError, match="not followed") as raised:
        await transport.send(request())
    assert raised.value.status_code == status
    assert "token=abc" not in str(raised.value)
    assert "https://elsewhere.test/v1" in str(raised.value)
    with pytest.raises(UpstreamError, match="not followed"):
        await transport.open_stream(request())


async def test_a_redirect_answering_a_get_is_returned_as_it_is() -> None:
    response = await redirecting(302).send(request("GET"))
    assert response.status_code == 302


class Guard:
    """An egress guard answering from a table; a host marked ``None`` is refused."""

    def __init__(self, answers: dict[str, list[str] | None]) -> None:
        self.answers = answers

    async def addresses(self, host: str, port: int) -> list[str]:
        found = self.answers.get(host, [])
        if found is None:
            raise UpstreamError(f"{host} refused by the guard", status_code=403)
        return found


def recording(guard: Guard) -> tuple[Transport, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    return Transport(httpx.MockTransport(handler), guard=guard), seen


@pytest.mark.parametrize(
    ("url", "address", "sent", "host"),
    [
        ("http://api.test:8080/v1", "93.184.216.34", "http://93.184.216.34:8080/v1", "api.test:8080"),
        ("http://api.test/v1?x=1", "2606:4700::1111", "http://[2606:4700::1111]/v1?x=1", "api.test"),
        ("http://u:p@api.test/v1", "93.184.216.34", "http://u:p@93.184.216.34/v1", "api.test"),
        ("https://api.test/v1", "93.184.216.34", "https://api.test/v1", "api.test"),
    ],
)
async def test_the_guard_pins_plain_http_for_httpx_and_keeps_the_host_header(
    url: str, address: str, sent: str, host: str
) -> None:
    transport, seen = recording(Guard({"api.test": [address]}))
    await transport.send(HttpRequest("POST", url, {}, {"a": 1}))
    handle = await transport.open_stream(HttpRequest("POST", url, {}, {"a": 1}))
    await handle.aclose()
    assert [(str(r.url), r.headers["host"]) for r in seen] == [(sent, host)] * 2


async def test_a_refusal_of_the_guard_is_raised_before_anything_is_sent() -> None:
    transport, seen = recording(Guard({"evil.test": None}))
    with pytest.raises(UpstreamError, match="refused by the guard"):
        await transport.send(HttpRequest("POST", "http://evil.test/v1", {}))
    with pytest.raises(UpstreamError, match="refused by the guard"):
        await transport.open_stream(HttpRequest("POST", "https://evil.test/v1", {}))
    assert seen == []


async def test_a_name_the_guard_leaves_unchecked_is_sent_by_name() -> None:
    transport, seen = recording(Guard({}))
    await transport.send(HttpRequest("POST", "http://models.internal/v1", {}))
    assert seen[0].url.host == "models.internal"
