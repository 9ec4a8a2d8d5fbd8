"""The limits engine on a real Redis (redis-server on 127.0.0.1, a free port), as several workers.

Two worker *processes* share one requests-per-minute limit and one budget; Redis being refused,
silent (a socket that never answers) or stopped mid-run makes ``reserve`` fail closed within its
timeout (or pass uncounted with ``fail_open``), never hang.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from _peer import free_port  # scripts/ is on pytest's pythonpath
from strands_portkey.errors import BudgetExceededError, LimitsUnavailableError, RateLimitExceededError
from strands_portkey.limits import Limits, Spend
from strands_portkey.limits.redis import RedisLimits

from .test_cache_redis import RedisServer

pytestmark = pytest.mark.integ


@dataclass(frozen=True)
class Key:
    id: str
    limits: Limits


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis-limits"))
    try:
        yield server
    finally:
        server.stop()


WORKER = textwrap.dedent(
    """
    import asyncio, json, sys
    from dataclasses import dataclass
    from strands_portkey.errors import RateLimitExceededError
    from strands_portkey.limits import Limits
    from strands_portkey.limits.redis import RedisLimits

    @dataclass(frozen=True)
    class Key:
        id: str
        limits: Limits

    async def main():
        url, prefix, attempts = sys.argv[1], sys.argv[2], int(sys.argv[3])
        engine = RedisLimits(url, prefix=prefix)
        key = Key("ak-shared", Limits.parse([{"type": "requests", "unit": "rpm", "value": 20}]))
        sys.stdin.readline()  # both workers start together
        admitted = 0
        for _ in range(attempts):
            try:
                await engine.reserve(key)
                admitted += 1
            except RateLimitExceededError as error:
                assert error.retry_after > 0
        await engine.aclose()
        print(json.dumps(admitted), flush=True)

    asyncio.run(main())
    """
)


def test_two_worker_processes_share_one_requests_per_minute_limit(redis_server: RedisServer) -> None:
    prefix = f"t{time.monotonic_ns()}:"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, redis_server.url, prefix, "30"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        time.sleep(1.0)  # both imported and waiting
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        counts = [json.loads(worker.communicate(timeout=60)[0]) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    # Each worker alone would admit 20 of its 30: sharing the limit, both together admit 20.
    # (The bucket refills one request every 3 s: none comes back during the run.)
    assert sum(counts) == 20


async def test_two_engines_share_a_budget_and_settle_gives_back(redis_server: RedisServer) -> None:
    prefix = f"b{time.monotonic_ns()}:"
    first, second = RedisLimits(redis_server.url, prefix=prefix), RedisLimits(redis_server.url, prefix=prefix)
    key = Key("ak-budget", Limits.parse(usage_limits={"credit_limit": 1.0, "periodic_reset": "daily"}))
    held = await first.reserve(key, Spend(cost=0.6))
    assert held.used == (pytest.approx(0.6),)
    other = await second.reserve(key, Spend(cost=0.6))  # 0.6 < 1: admitted, now 1.2
    with pytest.raises(BudgetExceededError) as info:
        await first.reserve(key, Spend(cost=0.01))
    assert info.value.limit == "usage_limits[0] (cost 1 per day)"
    await second.settle(held, Spend(cost=0.1))  # any worker may settle: 0.7 now
    await first.reserve(key, Spend(cost=0.01))
    await first.settle(other, Spend(cost=0.6))
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(redis_server.url)
    try:
        keys = [k async for k in client.scan_iter(f"{prefix}*")]
        assert len(keys) == 1
        ttl = await client.pttl(keys[0])
        assert 86_400_000 < ttl <= 2 * 86_400_000  # the rest of the day, plus a day
    finally:
        await client.aclose()
    await first.aclose()
    await second.aclose()


async def test_token_limits_in_redis_reserve_and_settle(redis_server: RedisServer) -> None:
    engine = RedisLimits(redis_server.url, prefix=f"k{time.monotonic_ns()}:")
    key = Key("ak-tokens", Limits.parse([{"type": "tokens", "unit": "rph", "value": 1000}]))
    big = await engine.reserve(key, Spend(tokens=1000))
    with pytest.raises(RateLimitExceededError) as info:
        await engine.reserve(key, Spend(tokens=1))
    assert 3.0 < info.value.retry_after < 4.0  # 1 token at 1000/h
    await engine.settle(big, Spend(tokens=100))
    for _ in range(9):
        await engine.reserve(key, Spend(tokens=100))
    with pytest.raises(RateLimitExceededError):
        await engine.reserve(key, Spend(tokens=1))
    await engine.aclose()


async def test_concurrent_reservations_from_two_engines_overshoot_a_budget_by_at_most_one(
    redis_server: RedisServer,
) -> None:
    prefix = f"c{time.monotonic_ns()}:"
    engines = [RedisLimits(redis_server.url, prefix=prefix) for _ in range(2)]
    key = Key("ak-race", Limits.parse(usage_limits={"credit_limit": 5.0, "type": "tokens"}))
    estimates = [1 + (i * 7) % 4 for i in range(60)]  # 1 to 4 tokens each, 150 in all

    async def one(index: int, tokens: int) -> int:
        try:
            await engines[index % 2].reserve(key, Spend(tokens=tokens))
        except BudgetExceededError:
            return 0
        return tokens

    admitted = await asyncio.gather(*(one(i, t) for i, t in enumerate(estimates)))
    assert 5 <= sum(admitted) < 5 + max(estimates)
    for engine in engines:
        await engine.aclose()


KEY = Key("ak-down", Limits.parse([{"type": "requests", "unit": "rps", "value": 5}]))


async def test_a_refused_connection_fails_closed_at_once_or_passes_uncounted() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    closed = RedisLimits(url, timeout_s=0.2)
    started = time.monotonic()
    with pytest.raises(LimitsUnavailableError) as info:
        await closed.reserve(KEY)
    assert time.monotonic() - started < 1.0
    assert info.value.status_code == 503
    opened = RedisLimits(url, timeout_s=0.2, fail_open=True)
    reservation = await opened.reserve(KEY)
    assert not reservation.enforced
    await opened.settle(reservation, Spend(tokens=5))  # nothing to settle, no error


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung Redis)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


async def test_a_silent_redis_times_out_instead_of_hanging(silent_port: int) -> None:
    engine = RedisLimits(f"redis://127.0.0.1:{silent_port}/0", timeout_s=0.2)
    started = time.monotonic()
    with pytest.raises(LimitsUnavailableError):
        await engine.reserve(KEY)
    elapsed = time.monotonic() - started
    assert elapsed < 1.5
    lenient = RedisLimits(f"redis://127.0.0.1:{silent_port}/0", timeout_s=0.2, fail_open=True)
    assert not (await lenient.reserve(KEY)).enforced
    await engine.aclose()
    await lenient.aclose()


async def test_redis_stopped_mid_run_fails_closed_and_settle_only_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = RedisServer(tmp_path)
    engine = RedisLimits(server.url, prefix="mid:", timeout_s=0.2, warn_every=0.0)
    tokens = Key("ak-mid", Limits.parse([{"type": "tokens", "unit": "rps", "value": 5}]))
    try:
        held = await engine.reserve(tokens, Spend(tokens=1))
        assert held.enforced
    finally:
        server.stop()
    with pytest.raises(LimitsUnavailableError):
        await engine.reserve(tokens)
    lenient = RedisLimits(server.url, fail_open=True, timeout_s=0.2)
    assert not (await lenient.reserve(tokens)).enforced
    caplog.clear()
    await engine.settle(held, Spend(tokens=3))  # must not raise: the answer was already given
    assert held.settled
    assert [r.getMessage() for r in caplog.records if "during settle" in r.getMessage()]
    await engine.aclose()
    await lenient.aclose()


async def test_usage_reads_the_shared_counts_back_without_changing_them(redis_server: RedisServer) -> None:
    prefix = f"u{time.monotonic_ns()}:"
    worker = RedisLimits(redis_server.url, prefix=prefix)
    reader = RedisLimits(redis_server.url, prefix=prefix)
    key = Key(
        "ak-usage",
        Limits.parse(
            [{"type": "requests", "unit": "rpd", "value": 10}],
            {"credit_limit": 1.0, "alert_threshold": 0.5, "periodic_reset": "daily"},
        ),
    )
    assert reader.usage(key).rate_limits[0].remaining == 10.0
    for _ in range(3):
        await worker.reserve(key, Spend(cost=0.25))
    first = reader.usage(key)
    again = reader.usage(key)
    assert first.rate_limits[0].remaining == pytest.approx(7.0, abs=0.01)
    assert again.rate_limits[0].remaining == pytest.approx(7.0, abs=0.01)  # reading took nothing
    assert first.usage_limits[0].used == pytest.approx(0.75)
    assert first.usage_limits[0].alerting
    assert reader.counted_in == "redis"
    await worker.aclose()
    await reader.aclose()


def test_usage_with_redis_down_fails_with_a_clear_error() -> None:
    engine = RedisLimits(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.2)
    key = Key("ak-down", Limits.parse([{"type": "requests", "unit": "rpm", "value": 1}]))
    with pytest.raises(LimitsUnavailableError, match="usage cannot be read"):
        engine.usage(key)
