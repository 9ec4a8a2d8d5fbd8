"""The gateway over both transports against a scripted raw upstream: bad input ends as one error
of the tree with the attempt in ``RouteInfo``; an invalid ``custom_host`` is passed over by
fallback; a burst of 1,000 concurrent requests is admitted in line, with no timeouts."""

from __future__ import annotations

import asyncio

import pytest

from strands_portkey import Gateway
from strands_portkey.errors import (
    ConfigurationError,
    GatewayError,
    GatewayOverloadedError,
    MalformedResponseError,
    StreamInterruptedError,
    UpstreamConnectionError,
    UpstreamError,
)

from .conftest import settings
from .rawserver import RawServer

pytestmark = pytest.mark.timeout(60)

BODY = {"model": "raw", "messages": [{"role": "user", "content": "hi"}]}


def leaf(url: str, **extra: object) -> dict[str, object]:
    return {"provider": "openai", "api_key": "sk-secret-key", "custom_host": url, **extra}


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("short_length", UpstreamConnectionError),
        ("cut_chunked", UpstreamConnectionError),
        ("huge_header", MalformedResponseError),
        ("garbage", MalformedResponseError),
        ("bad_utf8", MalformedResponseError),
        ("redirect", UpstreamError),
    ],
)
async def test_bad_input_is_one_clear_error_with_the_attempt_in_the_route(
    client: str, server: RawServer, case: str, error: type[GatewayError]
) -> None:
    async with Gateway(leaf(server.base_url(case)), transport_settings=settings(client)) as gateway:
        with pytest.raises(error) as raised:
            await asyncio.wait_for(gateway.chat(BODY), 5.0)
    route = raised.value.route
    assert route is not None
    assert [(a.option_index, a.error_type) for a in route.attempts] == [
        ("config", type(raised.value).__name__)
    ]
    assert "sk-secret-key" not in str(raised.value)


@pytest.mark.parametrize("case", ["cut_stream", "stall_stream"])
async def test_a_stream_broken_after_the_first_chunk_raises_mid_stream(
    client: str, server: RawServer, case: str
) -> None:
    async with Gateway(
        leaf(server.base_url(case)), transport_settings=settings(client, read_timeout=0.5)
    ) as gateway:
        received: list[object] = []

        async def read_all() -> None:
            async with gateway.stream(BODY) as stream:
                async for chunk in stream:
                    received.append(chunk)

        with pytest.raises(StreamInterruptedError) as raised:
            await read_all()
    assert received  # committed: the failure came after the first chunk
    assert raised.value.route is not None


@pytest.mark.parametrize("bad_host", ["http://[::1", "http://127.0.0.1:99999/v1"])
async def test_an_invalid_custom_host_is_refused_at_construction(
    client: str, server: RawServer, bad_host: str
) -> None:
    """Host URLs are validated when the config is built (config/host_url.py), so such a target never
    reaches the transport; the transport's own mapping of these URLs is in test_behaviour."""
    config = {"strategy": {"mode": "fallback"}, "targets": [leaf(bad_host), leaf(server.base_url("ok"))]}
    with pytest.raises(ConfigurationError) as raised:
        Gateway(config, transport_settings=settings(client))
    assert raised.value.path == "config.targets[0].custom_host"


async def test_a_burst_of_1000_is_admitted_in_line_and_all_succeed(client: str, server: RawServer) -> None:
    # A pool of 20 with a short pool timeout: without admission most of the burst would wait for a
    # connection longer than that. With it, 20 run at a time and nobody waits for a connection.
    tight = settings(client, max_connections=20, pool_timeout=0.5)
    async with Gateway(
        leaf(server.base_url("ok"), retry={"attempts": 0}), transport_settings=tight
    ) as gateway:
        results = await asyncio.gather(*(gateway.chat(BODY) for _ in range(1000)), return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    assert server.requests == 1000
    assert server.peak_connections <= 20


async def test_an_admission_wait_past_its_limit_is_overload_and_fallback_stops(
    client: str, server: RawServer
) -> None:
    config = {
        "strategy": {"mode": "fallback"},
        "targets": [leaf(server.base_url("ok")), leaf(server.base_url("ok"))],
    }
    tight = settings(client, max_connections=1, admission_timeout=0.2)
    async with Gateway(config, transport_settings=tight) as gateway:
        stream = await gateway.stream(BODY).open()  # holds the one slot until closed
        try:
            with pytest.raises(GatewayOverloadedError, match="in flight") as raised:
                await gateway.chat(BODY)
            assert raised.value.status_code == 503
            assert raised.value.route is not None
            assert raised.value.route.attempts == []
        finally:
            await stream.aclose()
        assert (await gateway.chat(BODY)).choices[0].message.content == "fine"


def test_pools_of_finished_event_loops_are_let_go_quietly(
    client: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A synchronous Strands agent(...) call runs on a fresh event loop each time: the pool of the
    # previous loop is closed without a word (aiohttp would log "Unclosed client session").
    import gc

    from scripted_upstream import ScriptedUpstream, ok

    with ScriptedUpstream(default=ok()) as upstream:
        gateway = Gateway(leaf(upstream.base_url("loops", "a")), transport_settings=settings(client))
        for _ in range(3):
            assert asyncio.run(gateway.chat(BODY)).choices[0].message.content == "ok from a"
        del gateway
        gc.collect()
    assert "Unclosed" not in caplog.text
