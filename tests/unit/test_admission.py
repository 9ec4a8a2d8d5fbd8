"""Admission (offline, httpx.MockTransport): a burst is served at most ``max_in_flight`` at a time,
first come first served, and a wait past ``admission_timeout`` is the gateway's overload."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from strands_portkey import Gateway
from strands_portkey.errors import GatewayOverloadedError, RequestTimeoutError
from strands_portkey.transport import TransportSettings

from .conftest import completion

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


class Counting:
    """An upstream that yields to the loop once per request and records how many overlap."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0

    async def handler(self, request: httpx.Request) -> httpx.Response:
        self.now += 1
        self.peak = max(self.peak, self.now)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        self.now -= 1
        return httpx.Response(200, json=completion())


NO_STORE = {"STRANDS_PORTKEY_HOME": "/nonexistent/strands-portkey-test-home"}  # no default store is opened


def gateway(upstream: Counting, settings: TransportSettings, **leaf: object) -> Gateway:
    config = {"provider": "openai", "api_key": "sk-test", **leaf}
    transport = httpx.MockTransport(upstream.handler)
    return Gateway(config, transport=transport, transport_settings=settings, env=NO_STORE)


async def test_1000_concurrent_requests_all_succeed_with_at_most_the_limit_in_flight() -> None:
    upstream = Counting()
    gw = gateway(upstream, TransportSettings(max_connections=25))
    results = await asyncio.gather(*(gw.chat(BODY) for _ in range(1000)), return_exceptions=True)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert upstream.peak == 25
    assert not any(isinstance(r, RequestTimeoutError) for r in results)


async def test_requests_are_admitted_in_arrival_order() -> None:
    upstream = Counting()
    gw = gateway(upstream, TransportSettings(max_in_flight=1))
    admitted: list[int] = []

    async def call(n: int) -> None:
        await gw.chat(BODY, trace_id=f"t{n}")
        admitted.append(n)

    await asyncio.gather(*(call(n) for n in range(20)))
    assert admitted == list(range(20))


async def test_admission_off_lets_the_whole_burst_through() -> None:
    upstream = Counting()
    gw = gateway(upstream, TransportSettings(max_in_flight=0))
    await asyncio.gather(*(gw.chat(BODY) for _ in range(50)))
    assert upstream.peak == 50


async def test_a_wait_in_line_past_the_admission_timeout_is_overload_not_an_upstream_failure() -> None:
    release = asyncio.Event()

    async def held(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(200, json=completion())

    config = {
        "strategy": {"mode": "fallback"},
        "targets": [{"provider": "openai", "api_key": "sk-a"}, {"provider": "openai", "api_key": "sk-b"}],
    }
    settings = TransportSettings(max_in_flight=1, admission_timeout=0.01)
    gw = Gateway(config, transport=httpx.MockTransport(held), transport_settings=settings, env=NO_STORE)
    first = asyncio.create_task(gw.chat(BODY))
    await asyncio.sleep(0)
    with pytest.raises(GatewayOverloadedError) as raised:
        await gw.chat(BODY)
    assert raised.value.status_code == 503
    assert raised.value.route is not None
    assert raised.value.route.attempts == []  # no target was tried
    release.set()
    assert (await first).choices[0].message.content == "hello"
