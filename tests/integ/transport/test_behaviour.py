"""One behaviour suite, two backends: every test runs on aiohttp and on httpx over real sockets.

Each fault the reliability tests rely on (refused, reset before the first byte, a mid-stream
cut, a slow first byte, each timeout) and each kind of bad input (wrong Content-Length, a cut
chunked body, headers over the limit, garbage instead of HTTP, a redirect) must end as one error
of the library's tree, quickly, with the connection given back.
"""

from __future__ import annotations

import asyncio

import pytest

from strands_portkey.errors import (
    GatewayOverloadedError,
    MalformedResponseError,
    RequestTimeoutError,
    StreamInterruptedError,
    UpstreamConnectionError,
    UpstreamError,
)
from strands_portkey.transport import Transport
from strands_portkey.wire import HttpRequest

from .conftest import settings
from .rawserver import RawServer

pytestmark = pytest.mark.timeout(30)

BODY = {"model": "raw", "messages": [{"role": "user", "content": "hi"}]}
BOUND = 5.0  # nothing in this suite may take longer: a hang is a failure


def post(url: str, *, stream: bool = False) -> HttpRequest:
    return HttpRequest("POST", url, {"authorization": "Bearer sk-secret"}, {**BODY, "stream": stream})


async def send(transport: Transport, url: str, timeout: float | None = None) -> object:
    return await asyncio.wait_for(transport.send(post(url), timeout=timeout), BOUND)


async def read_stream(transport: Transport, url: str) -> list[bytes]:
    async def run() -> list[bytes]:
        handle = await transport.open_stream(post(url, stream=True))
        try:
            return [data async for data in handle.iter_bytes()]
        finally:
            await handle.aclose()

    return await asyncio.wait_for(run(), BOUND)


async def test_a_healthy_answer_and_a_healthy_stream_on_one_kept_alive_connection(
    client: str, server: RawServer
) -> None:
    transport = Transport(settings=settings(client))
    try:
        for _ in range(3):
            response = await send(transport, f"{server.base_url('ok')}/chat/completions")
            assert response.status_code == 200  # type: ignore[attr-defined]
            assert response.headers["content-type"] == "application/json"  # type: ignore[attr-defined]
            body = b"".join(await read_stream(transport, f"{server.base_url('ok')}/chat/completions"))
            assert body.endswith(b"data: [DONE]\n\n")
        assert server.peak_connections == 1
        assert transport.client == client
    finally:
        await transport.aclose()


async def test_refused(client: str, refused_url: str) -> None:
    transport = Transport(settings=settings(client))
    try:
        with pytest.raises(UpstreamConnectionError, match="could not reach"):
            await send(transport, f"{refused_url}/chat/completions")
        with pytest.raises(UpstreamConnectionError):
            await asyncio.wait_for(transport.open_stream(post(f"{refused_url}/chat/completions")), BOUND)
    finally:
        await transport.aclose()


@pytest.mark.parametrize("case", ["reset", "close"])
async def test_connection_dropped_before_the_first_byte(client: str, server: RawServer, case: str) -> None:
    transport = Transport(settings=settings(client))
    try:
        with pytest.raises(UpstreamConnectionError):
            await send(transport, f"{server.base_url(case)}/chat/completions")
        with pytest.raises(UpstreamConnectionError):
            await read_stream(transport, f"{server.base_url(case)}/chat/completions")
    finally:
        await transport.aclose()


async def test_a_stream_cut_in_the_middle(client: str, server: RawServer) -> None:
    transport = Transport(settings=settings(client))
    try:
        handle = await transport.open_stream(post(f"{server.base_url('cut_stream')}/x", stream=True))
        received: list[bytes] = []

        async def read_all() -> None:
            async for data in handle.iter_bytes():
                received.append(data)

        with pytest.raises(StreamInterruptedError, match="broke"):
            await read_all()
        await handle.aclose()
        assert b"one" in b"".join(received)
    finally:
        await transport.aclose()


async def test_connect_timeout(client: str, unanswered_url: str) -> None:
    transport = Transport(settings=settings(client, connect_timeout=0.3))
    try:
        with pytest.raises(RequestTimeoutError, match="connect"):
            await send(transport, f"{unanswered_url}/chat/completions")
    finally:
        await transport.aclose()


async def test_slow_first_byte_hits_the_read_timeout(client: str, server: RawServer) -> None:
    transport = Transport(settings=settings(client, read_timeout=0.3))
    try:
        with pytest.raises(RequestTimeoutError):
            await send(transport, f"{server.base_url('slow_head')}/chat/completions")
        with pytest.raises(RequestTimeoutError):
            await asyncio.wait_for(transport.open_stream(post(f"{server.base_url('slow_head')}/x")), BOUND)
    finally:
        await transport.aclose()


async def test_first_byte_timeout(client: str, server: RawServer) -> None:
    transport = Transport(settings=settings(client, first_byte_timeout=0.3))
    try:
        with pytest.raises(RequestTimeoutError, match="first byte"):
            await send(transport, f"{server.base_url('slow_head')}/chat/completions")
        with pytest.raises(RequestTimeoutError, match="first byte"):
            await asyncio.wait_for(transport.open_stream(post(f"{server.base_url('slow_head')}/x")), BOUND)
    finally:
        await transport.aclose()


async def test_the_attempt_timeout_of_send(client: str, server: RawServer) -> None:
    transport = Transport(settings=settings(client))
    try:
        with pytest.raises(RequestTimeoutError, match="300 ms"):
            await send(transport, f"{server.base_url('slow_head')}/chat/completions", timeout=0.3)
    finally:
        await transport.aclose()


@pytest.mark.parametrize("case", ["stall_stream", "late_first_chunk"])
async def test_idle_timeout_between_chunks(client: str, server: RawServer, case: str) -> None:
    transport = Transport(settings=settings(client, read_timeout=0.3))
    try:
        with pytest.raises(StreamInterruptedError, match="stalled"):
            await read_stream(transport, f"{server.base_url(case)}/x")
    finally:
        await transport.aclose()


async def test_total_timeout_ends_a_stream_that_never_idles(client: str, server: RawServer) -> None:
    transport = Transport(settings=settings(client, read_timeout=2.0, total_timeout=0.4))
    try:
        started = asyncio.get_running_loop().time()
        with pytest.raises(StreamInterruptedError, match="total timeout"):
            await read_stream(transport, f"{server.base_url('trickle')}/x")
        assert asyncio.get_running_loop().time() - started < 2.0
    finally:
        await transport.aclose()


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("short_length", UpstreamConnectionError),
        ("cut_chunked", UpstreamConnectionError),
        ("huge_header", MalformedResponseError),
        ("garbage", MalformedResponseError),
    ],
)
async def test_bad_responses_to_send(
    client: str, server: RawServer, case: str, error: type[Exception]
) -> None:
    transport = Transport(settings=settings(client))
    try:
        with pytest.raises(error) as raised:
            await send(transport, f"{server.base_url(case)}/chat/completions")
        assert "sk-secret" not in str(raised.value)
    finally:
        await transport.aclose()


@pytest.mark.parametrize("case", ["short_length", "cut_chunked"])
async def test_a_cut_body_while_streaming(client: str, server: RawServer, case: str) -> None:
    transport = Transport(settings=settings(client))
    try:
        with pytest.raises(StreamInterruptedError):
            await read_stream(transport, f"{server.base_url(case)}/x")
    finally:
        await transport.aclose()


async def test_a_redirect_is_reported_not_followed(client: str, server: RawServer) -> None:
    transport = Transport(settings=settings(client))
    try:
        with pytest.raises(UpstreamError, match="301") as raised:
            await send(transport, f"{server.base_url('redirect')}/chat/completions")
        assert raised.value.status_code == 301
        assert "secret" not in str(raised.value)  # the Location's query is dropped
        with pytest.raises(UpstreamError, match="not followed"):
            await read_stream(transport, f"{server.base_url('redirect')}/x")
        assert server.requests == 2  # nothing was sent to the Location
    finally:
        await transport.aclose()


async def test_the_body_bytes_are_returned_as_sent(client: str, server: RawServer) -> None:
    transport = Transport(settings=settings(client))
    try:
        response = await send(transport, f"{server.base_url('bad_utf8')}/chat/completions")
        assert b"\xff\xfe\xfd" in response.content  # type: ignore[attr-defined]
    finally:
        await transport.aclose()


@pytest.mark.parametrize("url", ["http://[::1/v1", "http://127.0.0.1:99999/v1", "nonsense://x/v1"])
async def test_an_invalid_url_is_an_upstream_connection_error(client: str, url: str) -> None:
    transport = Transport(settings=settings(client))
    try:
        with pytest.raises(UpstreamConnectionError, match="could not") as raised:
            await send(transport, f"{url}/chat/completions")
        assert raised.value.__cause__ is not None
        with pytest.raises(UpstreamConnectionError):
            await asyncio.wait_for(transport.open_stream(post(f"{url}/chat/completions")), BOUND)
    finally:
        await transport.aclose()


async def test_a_full_pool_is_the_gateways_overload_not_an_upstream_timeout(
    client: str, server: RawServer
) -> None:
    transport = Transport(settings=settings(client, max_connections=1, pool_timeout=0.3))
    try:
        handle = await transport.open_stream(post(f"{server.base_url('stall_stream')}/x", stream=True))
        with pytest.raises(GatewayOverloadedError, match="pool"):
            await send(transport, f"{server.base_url('ok')}/chat/completions")
        await handle.aclose()  # the connection is given back: the next request gets it
        response = await send(transport, f"{server.base_url('ok')}/chat/completions")
        assert response.status_code == 200  # type: ignore[attr-defined]
    finally:
        await transport.aclose()


async def _connections_drop_to(server: RawServer, count: int) -> bool:
    for _ in range(100):
        if server.open_connections <= count:
            return True
        await asyncio.sleep(0.02)
    return False


async def test_cancelling_a_stream_frees_its_connection(client: str, server: RawServer) -> None:
    transport = Transport(settings=settings(client, max_connections=2, pool_timeout=1.0))
    try:
        for _ in range(5):  # more than the pool: each cancelled stream must give its slot back
            reading = asyncio.create_task(read_stream(transport, f"{server.base_url('stall_stream')}/x"))
            await asyncio.sleep(0.05)
            reading.cancel()
            with pytest.raises(asyncio.CancelledError):
                await reading
        assert await _connections_drop_to(server, 0)
        response = await send(transport, f"{server.base_url('ok')}/chat/completions")
        assert response.status_code == 200  # type: ignore[attr-defined]
    finally:
        await transport.aclose()


async def test_cancelling_send_frees_its_connection(client: str, server: RawServer) -> None:
    transport = Transport(settings=settings(client, max_connections=1, pool_timeout=1.0))
    try:
        for _ in range(3):
            sending = asyncio.create_task(send(transport, f"{server.base_url('slow_head')}/chat/completions"))
            await asyncio.sleep(0.05)
            sending.cancel()
            with pytest.raises(asyncio.CancelledError):
                await sending
        response = await send(transport, f"{server.base_url('ok')}/chat/completions")
        assert response.status_code == 200  # type: ignore[attr-defined]
        assert await _connections_drop_to(server, 1)
    finally:
        await transport.aclose()


async def test_proxies_come_from_the_environment(
    client: str, server: RawServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", server.url)
    monkeypatch.setenv("NO_PROXY", "localhost")
    transport = Transport(settings=settings(client))
    try:
        response = await send(transport, "http://upstream.invalid/ok/v1/chat/completions")
        assert response.status_code == 200  # type: ignore[attr-defined]
        assert server.targets == ["http://upstream.invalid/ok/v1/chat/completions"]  # sent to the proxy
        await send(transport, f"http://localhost:{server.port}/ok/v1/chat/completions")  # NO_PROXY: direct
        assert server.targets[1] == "/ok/v1/chat/completions"
    finally:
        await transport.aclose()


async def test_total_timeout_bounds_the_wait_for_a_streams_headers(client: str, server: RawServer) -> None:
    transport = Transport(settings=settings(client, read_timeout=2.0, total_timeout=0.3))
    try:
        with pytest.raises(RequestTimeoutError, match="total timeout"):
            await asyncio.wait_for(transport.open_stream(post(f"{server.base_url('slow_head')}/x")), BOUND)
        with pytest.raises(RequestTimeoutError):
            await send(transport, f"{server.base_url('slow_head')}/chat/completions")
    finally:
        await transport.aclose()
