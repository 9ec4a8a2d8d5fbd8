"""The server's per-request auth + limit check, in the process: authenticate, authorize, reserve, settle.

What a data-plane request pays before (and after) the upstream call when it presents a gateway
key with a rate limit and a budget: :class:`GatewayKeyAuth` (snapshot lookup, HMAC, expiry),
:func:`authorize` (scope, allowed models), :class:`KeyLimiter` ``reserve`` (one atomic step,
``x-ratelimit-*`` headers) and ``settle``. Measured with the limits in memory (one worker) and in
a real ``redis-server`` started here on a free loopback port (every worker), one call at a time
(a Redis round trip is most of the second figure). Printed: p50 / p99 in microseconds.

    hatch run bench-server-auth                    # 5,000 checks per mode
    hatch run bench-server-auth --requests 1000    # quicker
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from _peer import free_port
from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.api_keys import ApiKeys
from strands_portkey.limits import LimitsEngine, MemoryLimits
from strands_portkey.server.gateway_keys import INFERENCE_SCOPE, GatewayKeyAuth, authorize
from strands_portkey.server.key_limits import KeyLimiter
from strands_portkey.server.limits import LimitRequest, Outcome
from strands_portkey.types import Usage

MASTER = base64.urlsafe_b64encode(bytes(range(32))).decode()
LIMITS = {
    "rate_limits": [{"type": "requests", "unit": "rpm", "value": 10_000_000}],
    "usage_limits": {"credit_limit": 1e12, "type": "tokens"},
}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _measure(check: Callable[[], Awaitable[None]], requests: int) -> list[float]:
    for _ in range(min(200, requests)):  # warm up (connections, caches)
        await check()
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        await check()
        timings.append(time.perf_counter() - started)
    return timings


def _redis(folder: Path) -> tuple[subprocess.Popen[bytes], str] | None:
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    port = free_port()
    args = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    process = subprocess.Popen([*args, "--dir", str(folder)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    process.terminate()
    return None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=5000, help="checks per mode")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-auth-") as folder:
        plane = ControlPlane(
            f"sqlite:///{Path(folder) / 'keys.db'}",
            env={"STRANDS_PORTKEY_HOME": folder},
            validate_credentials=False,
            master_key=MASTER,
        )
        keys = ApiKeys(plane)
        key = keys.create({"name": "bench", **LIMITS}).key
        auth = GatewayKeyAuth(keys, {})
        headers = {"x-portkey-api-key": key, "content-type": "application/json"}
        request = LimitRequest("chat.completions", "gpt-4o", 120, 64)
        outcome = Outcome(200, Usage(20, 30, 50))

        def check_with(limiter: KeyLimiter) -> Callable[[], Awaitable[None]]:
            async def check() -> None:
                principal = await auth.authenticate(headers)
                assert principal.key is not None
                authorize(principal.key, INFERENCE_SCOPE, "gpt-4o")
                reservation = await limiter.reserve(principal, request)
                await limiter.settle(reservation, outcome)

            return check

        async def auth_only() -> None:
            principal = await auth.authenticate(headers)
            assert principal.key is not None
            authorize(principal.key, INFERENCE_SCOPE, "gpt-4o")

        engines: list[tuple[str, LimitsEngine]] = [("memory", MemoryLimits())]
        redis = _redis(Path(folder))
        if redis is not None:
            from strands_portkey.limits.redis import RedisLimits

            engines.append(("redis", RedisLimits(redis[1])))
        else:
            print("redis-server is not installed: Redis not measured")
        print(f"python {sys.version.split()[0]}; {args.requests} checks per mode, one at a time")
        print(f"{'mode':<34} {'p50 µs':>8} {'p99 µs':>8}")
        try:
            rows = [("authenticate + authorize", asyncio.run(_measure(auth_only, args.requests)))]
            for name, engine in engines:
                limiter = KeyLimiter(engine)
                timings = asyncio.run(_measure(check_with(limiter), args.requests))
                rows.append((f"auth + reserve + settle ({name})", timings))
            for name, timings in rows:
                p50, p99 = _pct(timings, 0.5) * 1e6, _pct(timings, 0.99) * 1e6
                print(f"{name:<34} {p50:>8.1f} {p99:>8.1f}   (mean {statistics.fmean(timings) * 1e6:.1f})")
        finally:
            plane.close()
            if redis is not None:
                redis[0].terminate()
                redis[0].wait(10)


if __name__ == "__main__":
    main()
