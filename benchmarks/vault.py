"""Vault benchmark: credential selection at 10 keys, and what resolving a virtual key adds.

    hatch run python benchmarks/vault.py [--rounds N]

1. ``CredentialSelector.pick`` over 10 keys of one provider (smooth weighted round-robin under a
   lock; target <= 5 us). Timed in batches of 1,000 picks; p50/p99 are over batches, per pick.
2. Resolving a virtual key per request from the in-memory snapshot (what a leaf does when it
   looks its key up per request), per lookup.
3. Opening a ``ControlPlane`` (schema check, decrypting the snapshot): once per gateway.
4. A ``Gateway`` built with ``{"virtual_key": ...}`` versus the same target with an inline
   ``api_key``: construction (reads and decrypts the key once) and ``chat`` through an
   ``httpx.MockTransport`` (the request path itself, interleaved so both see the same noise).
Everything is offline: a temporary SQLite file, no network.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from strands_portkey import Gateway
from strands_portkey.controlplane import ControlPlane
from strands_portkey.vault.fields import CredentialSecret
from strands_portkey.vault.keys import CredentialEntry
from strands_portkey.vault.selector import CredentialSelector
from strands_portkey.wire import Secret

KEY = "sk-bench-0123456789abcdefghijklmnopqrstuv"
BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
COMPLETION = {
    "id": "r1",
    "model": "gpt-4o",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def per_call_us(action: Callable[[], object], batches: int, batch: int = 1000) -> tuple[float, float]:
    samples = []
    for _ in range(batches):
        start = time.perf_counter_ns()
        for _ in range(batch):
            action()
        samples.append((time.perf_counter_ns() - start) / batch / 1000)
    return percentiles(samples)


def bench_selection(batches: int) -> None:
    selector = CredentialSelector()
    selector.load(
        CredentialEntry(
            f"key-{i}",
            f"key-{i}",
            "openai",
            100 + 10 * i,
            True,
            CredentialSecret("api_key", {"api_key": Secret(KEY)}),
        )
        for i in range(10)
    )
    p50, p99 = per_call_us(lambda: selector.pick("openai"), batches)
    print(f"selection, 10 keys (SWRR pick)         p50 {p50:6.2f} us   p99 {p99:6.2f} us   target <= 5 us")


def bench_lookup(plane: ControlPlane, batches: int) -> None:
    p50, p99 = per_call_us(lambda: plane.resolve_virtual_key("bench-key"), batches)
    print(f"virtual key lookup per request         p50 {p50:6.2f} us   p99 {p99:6.2f} us")


def bench_construction(plane: ControlPlane, rounds: int) -> None:
    vk, inline = [], []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        Gateway({"virtual_key": "bench-key"}, control_plane=plane)
        vk.append((time.perf_counter_ns() - start) / 1000)
        start = time.perf_counter_ns()
        Gateway({"provider": "openai", "api_key": KEY}, control_plane=plane)
        inline.append((time.perf_counter_ns() - start) / 1000)
    (v50, v99), (i50, _i99) = percentiles(vk), percentiles(inline)
    print(
        f"Gateway(...) with virtual_key          p50 {v50:6.1f} us   p99 {v99:6.1f} us   "
        f"inline api_key p50 {i50:6.1f} us: added {v50 - i50:+.1f} us per construction"
    )


def bench_open(url: str, master: str, rounds: int) -> None:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        ControlPlane(url, env={}, master_key=master, validate_credentials=False).close()
        samples.append((time.perf_counter_ns() - start) / 1e6)
    p50, p99 = percentiles(samples)
    print(
        f"ControlPlane open (schema check, snapshot)  p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   "
        "once per gateway"
    )


async def bench_chat(plane: ControlPlane, rounds: int) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=COMPLETION))
    by_vk = Gateway({"virtual_key": "bench-key"}, control_plane=plane, transport=transport)
    inline = Gateway({"provider": "openai", "api_key": KEY}, transport=transport)
    for gateway in (by_vk, inline):
        for _ in range(50):
            await gateway.chat(BODY)
    vk, direct = [], []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        await by_vk.chat(BODY)
        vk.append((time.perf_counter_ns() - start) / 1000)
        start = time.perf_counter_ns()
        await inline.chat(BODY)
        direct.append((time.perf_counter_ns() - start) / 1000)
    (v50, v99), (d50, _) = percentiles(vk), percentiles(direct)
    print(
        f"Gateway.chat via virtual_key           p50 {v50:6.1f} us   p99 {v99:6.1f} us   "
        f"inline api_key p50 {d50:6.1f} us: ratio {v50 / d50:.3f}"
    )
    await by_vk.aclose()
    await inline.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000, help="chat/construction rounds (default 2000)")
    parser.add_argument(
        "--batches", type=int, default=300, help="batches of 1,000 picks/lookups (default 300)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url, master = f"sqlite:///{Path(folder) / 'bench.db'}", base64.urlsafe_b64encode(bytes(32)).decode()
        plane = ControlPlane(url, env={}, master_key=master, validate_credentials=False)
        Gateway({"provider": "openai", "api_key": KEY}, control_plane=plane).ai.provider_keys.create(
            {"name": "bench-key", "provider": "openai", "api_key": KEY}
        )
        bench_selection(args.batches)
        bench_lookup(plane, args.batches)
        bench_construction(plane, min(args.rounds, 500))
        bench_open(url, master, 20)
        asyncio.run(bench_chat(plane, args.rounds))
        plane.close()


if __name__ == "__main__":
    main()
