"""Shared-state benchmark: what one balancer or credential pick costs, in the process and in Redis.

    hatch run bench-shared-state [--picks N]

Timed one pick at a time (``perf_counter_ns``), p50/p99 in microseconds:

1. in the process: the gateway's own ``SmoothRoundRobin`` (10 targets) and ``CredentialSelector``
   (10 keys), the default and unchanged path; then the same picks through a shared
   :class:`MemoryState` (several gateways of one process);
2. in Redis (:class:`RedisState`, a redis-server started here on 127.0.0.1 on a free port, no
   persistence, stopped at the end): one Lua script per pick. Skipped without redis-server;
3. Redis gone (the server stopped): picks served by the local fallback after the first timeout.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from limits import RedisServer, percentiles

from strands_portkey.routing.balance import SharedRoundRobin, SmoothRoundRobin
from strands_portkey.shared_state import SharedState
from strands_portkey.shared_state.memory import MemoryState
from strands_portkey.vault.fields import CredentialSecret
from strands_portkey.vault.keys import CredentialEntry
from strands_portkey.vault.selector import CredentialSelector
from strands_portkey.wire import Secret

WEIGHTS = [5.0, 1.0, 1.0, 2.0, 3.0, 4.0, 1.0, 1.0, 2.0, 3.0]


def timed(step: Callable[[], object], picks: int) -> tuple[float, float]:
    for _ in range(min(1000, picks)):  # warm up
        step()
    samples = []
    for _ in range(picks):
        start = time.perf_counter_ns()
        step()
        samples.append((time.perf_counter_ns() - start) / 1000)
    return percentiles(samples)


def selector(state: SharedState | None) -> CredentialSelector:
    chosen = CredentialSelector()
    secret = CredentialSecret("api_key", {"api_key": Secret("sk-bench")})
    chosen.load(CredentialEntry(f"key-{i}", f"k{i}", "openai", 100, True, secret, None) for i in range(10))
    chosen.share(state)
    return chosen


def measure(label: str, state: SharedState | None, picks: int) -> None:
    balancer = SharedRoundRobin(WEIGHTS, state, "lb:bench") if state else SmoothRoundRobin(WEIGHTS)
    keys = selector(state)
    for name, step in [
        ("balancer pick, 10 targets", balancer.pick),
        ("credential pick, 10 keys", lambda: keys.pick("openai")),
    ]:
        p50, p99 = timed(step, picks)
        print(f"  {label:<10} {name:<26} p50 {p50:8.2f} us   p99 {p99:8.2f} us")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--picks", type=int, default=20_000)
    args = parser.parse_args()
    print(f"one pick at a time, {args.picks} picks each")
    measure("own", None, args.picks)
    measure("memory", MemoryState(), args.picks)
    binary = shutil.which("redis-server")
    if binary is None:
        print("  redis      skipped: redis-server is not installed")
        return
    from strands_portkey.shared_state.redis import RedisState

    with tempfile.TemporaryDirectory() as folder:
        server = RedisServer(binary, Path(folder))
        state = RedisState(f"redis://127.0.0.1:{server.port}/0")
        try:
            measure("redis", state, args.picks)
        finally:
            server.stop()
        logging.disable(logging.WARNING)  # the fallback's warning is expected here
        measure("redis gone", state, args.picks)
        state.close()


if __name__ == "__main__":
    main()
