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
