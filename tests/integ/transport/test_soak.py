"""A bounded soak: many streams abandoned or cancelled part-way leak no connection, no admission
slot and no file descriptor, on either transport."""

from __future__ import annotations

import asyncio
import contextlib
import os

import pytest

from strands_portkey import Gateway

from .conftest import settings
from .rawserver import RawServer

pytestmark = pytest.mark.timeout(120)

BODY = {"model": "raw", "messages": [{"role": "user", "content": "hi"}]}
ROUNDS = 300


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def _cancel_mid_stream(gateway: Gateway) -> None:
    async def read() -> None:
        async with gateway.stream(BODY) as stream:
            async for _ in stream:
                pass

    task = asyncio.create_task(read())
    await asyncio.sleep(0.005)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _leave_after_first_chunk(gateway: Gateway) -> None:
    async with gateway.stream(BODY) as stream:
        async for _ in stream:
            break


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts file descriptors in /proc")
async def test_cancelled_and_abandoned_streams_leak_nothing(client: str, server: RawServer) -> None:
    tight = settings(client, max_connections=8, pool_timeout=2.0, admission_timeout=2.0)
    config = {"provider": "openai", "api_key": "sk-x", "custom_host": server.base_url("stall_stream")}
    gateway = Gateway(config, transport_settings=tight)
    await _leave_after_first_chunk(gateway)  # warm up: the pool and the loop's own descriptors
    baseline = open_fds()
    for n in range(ROUNDS):  # 300 streams through a pool of 8: one leaked slot per 8 would stall it
        if n % 2:
            await _cancel_mid_stream(gateway)
        else:
            await _leave_after_first_chunk(gateway)
    gate = gateway._transport.admission()
    assert gate is not None
    assert (gate.in_use, gate.waiting) == (0, 0)
    assert open_fds() <= baseline + 8  # at most the pool's idle connections
    await gateway.aclose()
    for _ in range(100):  # the server sees every connection closed
        if server.open_connections == 0:
            break
        await asyncio.sleep(0.02)
    assert server.open_connections == 0
    assert open_fds() <= baseline
