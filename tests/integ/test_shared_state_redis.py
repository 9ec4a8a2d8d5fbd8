"""Round-robin positions and credential cooldowns on a real Redis (redis-server on 127.0.0.1).

Two gateways, and two gateway *processes*, sharing one Redis behave as one gateway: their picks
form one smooth round-robin sequence, and a 429 or a 401 seen by one changes the other's rotation.
Redis stopped mid-run (or silent) never fails or hangs a request: balancing goes local, with a
warning, and goes back to Redis once it answers again.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from strands_portkey import Gateway
from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.provider_keys import ProviderKeys
from strands_portkey.errors import AuthenticationError, RateLimitError
from strands_portkey.shared_state import MemberStatus
from strands_portkey.shared_state.memory import MemoryState
from strands_portkey.shared_state.redis import RedisState

from . import test_cache_redis
from .test_cache_redis import RedisServer

pytestmark = pytest.mark.integ

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
MASTER = base64.urlsafe_b64encode(bytes(range(32))).decode()
COMPLETION = {
    "id": "c1",
    "object": "chat.completion",
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis-shared"))
    try:
        yield server
    finally:
        server.stop()


def loadbalance(weights: tuple[float, ...] = (5, 1, 1)) -> dict[str, Any]:
    leaves = [
        {"provider": "openai", "api_key": "sk-x", "custom_host": f"http://{name}.test/v1", "weight": weight}
        for name, weight in zip("abc", weights, strict=False)
    ]
    return {"strategy": {"mode": "loadbalance"}, "targets": leaves}


class Upstream:
    """Answers 200 and records the host; or the status set for an API key."""

    def __init__(self) -> None:
        self.hosts: list[str] = []
        self.keys: list[str] = []
        self.status_for_key: dict[str, int] = {}

    def handle(self, request: httpx.Request) -> httpx.Response:
        key = request.headers["authorization"].removeprefix("Bearer ")
        self.hosts.append(request.url.host.removesuffix(".test"))
        self.keys.append(key)
        status = self.status_for_key.get(key, 200)
        if status != 200:
            return httpx.Response(status, json={"error": {"message": f"status {status}"}})
        return httpx.Response(200, json=COMPLETION)


def test_redis_picks_follow_the_in_memory_sequence_exactly(redis_server: RedisServer) -> None:
    state = RedisState(redis_server.url, prefix=f"seq{time.monotonic_ns()}:")
    memory = MemoryState()
    rng = random.Random(11)
    members = [(f"m{i}", rng.choice([0.0, 0.1, 0.3, 1.0, 2.5, 7.0])) for i in range(6)] + [("last", 1.0)]
    state.throttle("m1", 60)
    memory.throttle("m1", 60)
    state.disable("m2", 60)
    memory.disable("m2", 60)
    for scope, cap in (("lb", None), ("cred", 0.2)):
        for _ in range(300):
            assert state.swrr_pick(scope, members, throttled_weight=cap) == memory.swrr_pick(
                scope, members, throttled_weight=cap
            )
    found = state.status(["m1", "m2", "m3"])
    assert found["m1"].throttled_for is not None
    assert 59 < found["m1"].throttled_for <= 60
    assert found["m2"].disabled_for is not None
    assert found["m3"] == MemberStatus()
    state.restore("m2")
    assert state.status(["m2"])["m2"].disabled_for is None
    assert state.available
    state.close()


async def test_two_gateways_on_one_redis_interleave_one_sequence(redis_server: RedisServer) -> None:
    upstream = Upstream()
    transport = httpx.MockTransport(upstream.handle)
    state = RedisState(redis_server.url, prefix=f"gw{time.monotonic_ns()}:")
    gateways = [
        Gateway(loadbalance(), transport=transport, balance="round_robin", shared_state=state, env={})
        for _ in range(2)
    ]
    for turn in range(14):
        await gateways[turn % 2].chat(BODY)
    assert "".join(upstream.hosts) == "aabacaa" * 2
    for gateway in gateways:
        await gateway.aclose()
    state.close()


WORKER = textwrap.dedent(
    """
    import asyncio, json, sys
    from collections import Counter
    import httpx
    from strands_portkey import Gateway
    from strands_portkey.shared_state.redis import RedisState

    COMPLETION = json.loads(sys.argv[4])
    hosts = []

    def handle(request):
        hosts.append(request.url.host.removesuffix(".test"))
        return httpx.Response(200, json=COMPLETION)

    async def main():
        url, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
        config = json.loads(sys.argv[5])
        state = RedisState(url, prefix=prefix)
        gw = Gateway(config, transport=httpx.MockTransport(handle), balance="round_robin",
                     shared_state=state, env={})
        sys.stdin.readline()  # both workers start together
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        for _ in range(count):
            await gw.chat(body)
        await gw.aclose()
        print(json.dumps(Counter(hosts)), flush=True)

    asyncio.run(main())
    """
)


def test_two_gateway_processes_share_one_round_robin_sequence(redis_server: RedisServer) -> None:
    prefix = f"proc{time.monotonic_ns()}:"
    args = [redis_server.url, prefix, "352", json.dumps(COMPLETION), json.dumps(loadbalance())]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    try:
        time.sleep(1.5)  # both imported and waiting
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        counts = [Counter(json.loads(worker.communicate(timeout=120)[0])) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    # 704 picks from ONE sequence of period 7 (a a b a c a a) are 100 periods + "a a b a":
    # 503 / 101 / 100, however the processes interleaved. Two separate sequences of 352 picks
    # (50 periods + "a a" each) would give 504 / 100 / 100.
    assert counts[0] + counts[1] == {"a": 503, "b": 101, "c": 100}
    assert all(sum(c.values()) == 352 for c in counts)


async def test_two_gateway_processes_see_each_others_429_and_401(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'cp.db'}"
    env = {"STRANDS_PORTKEY_HOME": str(tmp_path)}
    upstream = Upstream()
    transport = httpx.MockTransport(upstream.handle)
    planes = [
        ControlPlane(
            db_url,
            env=env,
            master_key=MASTER,
            transport=transport,
            validate_credentials=False,
            refresh_interval=None,  # neither reloads: only the shared state can tell them
        )
        for _ in range(2)
    ]
    ProviderKeys(planes[0]).create({"name": "ka", "provider": "openai", "api_key": "sk-aaa"})
    ProviderKeys(planes[0]).create({"name": "kb", "provider": "openai", "api_key": "sk-bbb"})
    planes[1].refresh()
    state = RedisState(redis_server.url, prefix=f"cred{time.monotonic_ns()}:")
    first, second = (
        Gateway({"provider": "openai"}, control_plane=plane, transport=transport, env={}, shared_state=state)
        for plane in planes
    )
    upstream.status_for_key["sk-aaa"] = 429
    with pytest.raises(RateLimitError):
        await first.chat(BODY)
    assert upstream.keys == ["sk-aaa"]  # the first key in the shared sequence: counters a -100, b +100
    upstream.status_for_key.clear()
    upstream.keys.clear()
    for _ in range(11):
        await second.chat(BODY)
    # Unthrottled, a and b would alternate from here; at weight 10 (100 for b), a waits 16 picks.
    assert upstream.keys == ["sk-bbb"] * 11
    assert [row["effective_weight"] for row in planes[0].selector.status("openai")] == [10, 100]
    for _ in range(10):
        await second.chat(BODY)
    assert upstream.keys[15] == "sk-aaa"
    # that success ended the cooldown for both processes
    assert [row["effective_weight"] for row in planes[0].selector.status("openai")] == [100, 100]

    upstream.status_for_key["sk-bbb"] = 401
    refused = []
    for _ in range(3):  # until key b is picked
        try:
            await first.chat(BODY)
        except AuthenticationError as error:
            refused.append(error)
            break
    assert len(refused) == 1
    upstream.status_for_key.clear()
    upstream.keys.clear()
    for _ in range(5):
        await second.chat(BODY)
    assert set(upstream.keys) == {"sk-aaa"}  # key b is out of the other process's rotation at once
    row = next(row for row in planes[1].selector.status("openai") if row["name"] == "kb")
    assert row["disabled"] is True
    for gateway in (first, second):
        await gateway.aclose()
    for plane in planes:
        plane.close()
    state.close()


async def test_redis_stopped_mid_run_serves_locally_with_a_warning_then_shares_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "one").mkdir()
    server = RedisServer(tmp_path / "one")
    upstream = Upstream()
    state = RedisState(server.url, prefix="mid:", timeout_s=0.2, retry_s=0.0, warn_every=0.0)
    gw = Gateway(
        loadbalance(),
        transport=httpx.MockTransport(upstream.handle),
        balance="round_robin",
        shared_state=state,
    )
    try:
        for _ in range(7):
            await gw.chat(BODY)
    finally:
        server.stop()
    caplog.set_level(logging.WARNING, "strands_portkey.shared_state")
    started = time.monotonic()
    for _ in range(7):
        await gw.chat(BODY)  # served, from the local fallback
    assert time.monotonic() - started < 3.0
    assert not state.available
    assert any("unreachable during swrr_pick" in r.getMessage() for r in caplog.records)
    assert "".join(upstream.hosts) == "aabacaa" * 2
    (tmp_path / "two").mkdir()
    monkeypatch.setattr(test_cache_redis, "free_port", lambda: server.port)
    again = RedisServer(tmp_path / "two")  # Redis is back (empty), on the same port
    try:
        upstream.hosts.clear()
        for _ in range(7):
            await gw.chat(BODY)
        assert state.available
        assert "".join(upstream.hosts) == "aabacaa"  # the positions now start over in Redis
        assert any("is back" in r.getMessage() for r in caplog.records)
    finally:
        again.stop()
        await gw.aclose()
        state.close()


def test_a_silent_redis_costs_one_timeout_then_the_fallback_is_immediate(silent_port: int) -> None:
    state = RedisState(f"redis://127.0.0.1:{silent_port}/0", timeout_s=0.2, retry_s=30.0)
    started = time.monotonic()
    assert state.swrr_pick("s", [("a", 1.0), ("b", 1.0)]) is not None
    first = time.monotonic() - started
    started = time.monotonic()
    for _ in range(100):
        state.swrr_pick("s", [("a", 1.0), ("b", 1.0)])
    rest = time.monotonic() - started
    assert first < 1.5
    assert rest < 0.5
    assert not state.available
    state.close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung Redis)."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
