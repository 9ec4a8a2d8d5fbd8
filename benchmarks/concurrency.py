"""Bursts: N requests fired at once through one Gateway, against nginx on 127.0.0.1.

For each burst size (100, 1,000, 5,000 by default) and each transport, bursts are fired until at
least ``--requests`` requests were sent; printed: requests per second over the whole run, p50
and p99 of each request's latency (from its burst's start, so time spent queued counts), and
the errors by class. With the default settings (100 connections, admission at 100 in flight),
every request should succeed, none as an upstream timeout.

"Before" figures come from the same script run against an older checkout (it falls back to the
httpx-only ``TransportSettings`` of those versions)::

    hatch run bench-concurrency
    git archive c1be31d src | tar -x -C /tmp/before && \\
        PYTHONPATH=/tmp/before/src hatch run bench-concurrency --label before
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _nginx import nginx, no_control_plane

import strands_portkey
from strands_portkey import Gateway
from strands_portkey.transport import TransportSettings

BODY = {"model": "bench", "messages": [{"role": "user", "content": "hi"}]}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def settings_for(client: str) -> TransportSettings | None:
    """This checkout's settings for ``client``; None when it has no such choice (older code: httpx)."""
    try:
        return TransportSettings(client=client)  # type: ignore[call-arg]
    except TypeError:
        return TransportSettings() if client == "httpx" else None


async def burst_run(
    gateway: Gateway, size: int, total: int
) -> tuple[float, list[float], collections.Counter[str]]:
    latencies: list[float] = []
    errors: collections.Counter[str] = collections.Counter()

    async def one(started: float) -> None:
        try:
            await gateway.chat(BODY)
        except Exception as error:  # counted by class: the point of the benchmark
            errors[type(error).__name__] += 1
        latencies.append((time.perf_counter() - started) * 1e3)

    began = time.perf_counter()
    sent = 0
    while sent < total:
        started = time.perf_counter()
        await asyncio.gather(*(one(started) for _ in range(size)))
        sent += size
    return time.perf_counter() - began, latencies, errors


async def run(base: str, sizes: list[int], total: int, label: str) -> None:
    print(f"{label}: strands_portkey from {Path(strands_portkey.__file__).parent}; nginx at {base}")
    print(f"  {'transport':<9} {'burst':>6} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}  errors")
    for client in ("aiohttp", "httpx"):
        settings = settings_for(client)
        if settings is None:
            print(f"  {client:<9} (not in this checkout)")
            continue
        for size in sizes:
            config: dict[str, Any] = {
                "provider": "openai",
                "api_key": "sk-bench",
                "custom_host": f"{base}/json/v1",
            }
            gateway = Gateway(config, transport_settings=settings)
            await gateway.chat(BODY)  # warm: the pool's first connection, the plan
            elapsed, latencies, errors = await burst_run(gateway, size, max(total, size))
            await gateway.aclose()
            shown = ", ".join(f"{name} {count}" for name, count in errors.most_common()) or "none"
            print(
                f"  {client:<9} {size:>6} {len(latencies):>9} {len(latencies) / elapsed:>8.0f} "
                f"{pct(latencies, 0.5):>8.1f} {pct(latencies, 0.99):>8.1f}  {shown}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,1000,5000", help="burst sizes, comma-separated")
    parser.add_argument("--requests", type=int, default=10_000, help="at least this many per size")
    parser.add_argument("--label", default="this checkout")
    args = parser.parse_args()
    with no_control_plane(), nginx() as base:
        asyncio.run(run(base, [int(size) for size in args.sizes.split(",")], args.requests, args.label))


if __name__ == "__main__":
    main()
