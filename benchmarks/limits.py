"""Limits benchmark: what a server request pays for its gateway API key and its limits.

    hatch run bench-limits [--requests N]

Per request: ``ApiKeys.authenticate`` (snapshot lookup, HMAC, constant-time compare, expiry),
then ``reserve`` (one requests-per-minute limit, one tokens-per-minute limit, one monthly cost
budget) and ``settle`` with the actual tokens and cost. Timed one request at a time
(``perf_counter_ns``), p50/p99 in microseconds:

1. in memory (:class:`MemoryLimits`, one worker); targets: auth + limit check <= 50 us p50;
2. in Redis (:class:`RedisLimits`, a redis-server started here on 127.0.0.1 on a free port, no
   persistence, stopped at the end); target <= 300 us p50. Skipped when redis-server is absent.

Everything else is offline: a temporary SQLite file for the key store.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.api_keys import ApiKeys
from strands_portkey.limits import LimitsEngine, MemoryLimits, Spend

MASTER = base64.urlsafe_b64encode(bytes(range(32))).decode()
LIMITS = {
    "rate_limits": [
        {"type": "requests", "unit": "rpm", "value": 1_000_000_000},
        {"type": "tokens", "unit": "rpm", "value": 1_000_000_000_000},
    ],
    "usage_limits": {"credit_limit": 1e12, "type": "cost", "periodic_reset": "monthly"},
}
ESTIMATE, ACTUAL = Spend(tokens=1200, cost=0.012), Spend(tokens=800, cost=0.008)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def timed(step: Callable[[], Awaitable[object]], requests: int) -> tuple[float, float]:
    for _ in range(min(1000, requests)):  # warm up
        await step()
    samples = []
    for _ in range(requests):
        start = time.perf_counter_ns()
        await step()
        samples.append((time.perf_counter_ns() - start) / 1000)
    return percentiles(samples)


async def measure(label: str, keys: ApiKeys, key: str, engine: LimitsEngine, requests: int) -> None:
    async def auth_only() -> object:
        return keys.authenticate(key)

    principal = keys.authenticate(key)

    async def limits_only() -> None:
        await engine.settle(await engine.reserve(principal, ESTIMATE), ACTUAL)

    async def whole() -> None:
        who = keys.authenticate(key)
        await engine.settle(await engine.reserve(who, ESTIMATE), ACTUAL)

    for name, step in [("authenticate", auth_only), ("reserve + settle", limits_only), ("all three", whole)]:
        p50, p99 = await timed(step, requests)
        print(f"  {label:<8} {name:<18} p50 {p50:8.1f} us   p99 {p99:8.1f} us")


class RedisServer:
    """redis-server on 127.0.0.1, a free port, no persistence; stopped by :meth:`stop`."""

    def __init__(self, binary: str, folder: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        args = [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            [*args, "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start within 10 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        plane = ControlPlane(
            f"sqlite:///{folder}/bench.db",
            env={"STRANDS_PORTKEY_HOME": folder},
            master_key=MASTER,
            validate_credentials=False,
        )
        keys = ApiKeys(plane)
        key = keys.create({"name": "bench", **LIMITS}).key
        print(f"gateway API key + limits, {args.requests} requests each, one at a time")
        await measure("memory", keys, key, MemoryLimits(), args.requests)
        binary = shutil.which("redis-server")
        if binary is None:
            print("  redis    skipped: redis-server is not installed")
        else:
            from strands_portkey.limits.redis import RedisLimits

            server = RedisServer(binary, Path(folder))
            try:
                engine = RedisLimits(f"redis://127.0.0.1:{server.port}/0")
                await measure("redis", keys, key, engine, args.requests)
                await engine.aclose()
            finally:
                server.stop()
        plane.close()


if __name__ == "__main__":
    asyncio.run(main())
