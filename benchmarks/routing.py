"""What routing adds: a three-level config against a direct call, selection cost, and Portkey's gateway.

Printed, in one run against the same loopback upstream as ``overhead.py`` (its own process):

* the three-level config (fallback -> loadbalance of three -> leaves with retry) through
  ``Gateway.chat``: p50 / p99 and what it adds over a direct httpx call, interleaved;
* the same request through a single-leaf ``Gateway`` (what routing adds over no routing);
* the same three-level config through Portkey's open-source gateway on loopback (when installed:
  ``hatch run portkey-gateway ensure``), as a ratio of added latency, interleaved in the same run;
* selection cost per request for 2, 10 and 100 targets, weighted draw and smooth round-robin.

    hatch run bench-routing                  # 2,000 requests per path
    hatch run bench-routing --requests 500   # quicker
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import random
import socket
import sys
import time
import timeit
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from _nginx import free_port
from overhead import _interleaved, _pct, _report, _upstream_main

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

BODY = {"model": "bench", "messages": [{"role": "user", "content": "hi"}]}


def three_level(base_url: str) -> dict[str, Any]:
    """fallback -> loadbalance of three -> leaves with retry, every leaf at ``base_url``."""
    leaf = {"provider": "openai", "api_key": "sk-bench", "custom_host": base_url, "retry": {"attempts": 2}}
    return {
        "strategy": {"mode": "fallback"},
        "targets": [
            {
                "strategy": {"mode": "loadbalance"},
                "targets": [{**leaf, "weight": w} for w in (0.5, 0.3, 0.2)],
            },
            leaf,
        ],
    }


def selection_costs() -> None:
    from strands_portkey.routing.balance import SmoothRoundRobin, WeightedDraw

    print("\nselection cost per request (median of 5 x 100,000 picks):")
    for n in (2, 10, 100):
        weights = [random.Random(n).uniform(0.1, 5) for _ in range(n)]
        for name, picker in (
            ("weighted draw", WeightedDraw(weights, random.Random(1))),
            ("smooth round-robin", SmoothRoundRobin(weights)),
        ):
            runs = timeit.repeat(picker.pick, number=100_000, repeat=5)
            per = sorted(runs)[2] / 100_000 * 1e6
            print(f"  {n:>3} targets  {name:<20} {per:6.2f} us")


@contextlib.contextmanager
def portkey_gateway() -> Iterator[str | None]:
    """Portkey's OSS gateway on loopback if it is installed, else None (with the reason printed)."""
    try:
        import portkey_gateway as pg  # scripts/portkey_gateway.py
    except ImportError:
        print("Portkey's gateway: skipped (scripts/portkey_gateway.py not found)")
        yield None
        return
    if not pg.installed():
        print("Portkey's gateway: skipped (not installed; run `hatch run portkey-gateway ensure`)")
        yield None
        return
    with pg.start() as server:
        yield server.base_url


async def bench(n: int, base_url: str, portkey_url: str | None) -> None:
    from strands_portkey import Gateway

    config = three_level(base_url)
    routed = Gateway(config, rng=random.Random(1))
    plain = Gateway({"provider": "openai", "api_key": "sk-bench", "custom_host": base_url})
    async with httpx.AsyncClient() as client:

        async def direct() -> None:
            url = f"{base_url}/chat/completions"
            (await client.post(url, json=BODY, headers={"authorization": "Bearer sk-bench"})).json()

        async def via_routed() -> None:
            await routed.chat(BODY)

        async def via_plain() -> None:
            await plain.chat(BODY)

        print(f"{n} requests per path, interleaved; upstream {base_url}\n")
        base, routed_t, plain_t = await _interleaved(n, direct, via_routed, via_plain)
        ours = _report("Gateway.chat, three-level config", base, routed_t)
        _report("Gateway.chat, single leaf", base, plain_t)
        if portkey_url is not None:
            headers = {"x-portkey-config": json.dumps(config), "content-type": "application/json"}

            async def via_portkey() -> None:
                response = await client.post(f"{portkey_url}/chat/completions", json=BODY, headers=headers)
                response.raise_for_status()
                response.json()

            # A separate phase: Node keeps working after each answer (logging, GC) and would slow
            # whatever call comes next, so Portkey is interleaved with its own direct baseline.
            base_pk, portkey_t = await _interleaved(n, direct, via_portkey)
            theirs = _report("Portkey OSS gateway, three-level config", base_pk, portkey_t)
            print(
                f"\nadded p50: Portkey's gateway {theirs['p50']:.0f} us vs ours {ours['p50']:.0f} us; "
                f"end to end p50: Portkey {_pct(portkey_t, 0.5):.0f} us vs ours {_pct(routed_t, 0.5):.0f} us "
                f"({_pct(portkey_t, 0.5) / _pct(routed_t, 0.5):.2f}x)"
            )
    await routed.aclose()
    await plain.aclose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    port = free_port()
    upstream = multiprocessing.Process(target=_upstream_main, args=(port,), daemon=True)
    upstream.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        with portkey_gateway() as portkey_url:
            asyncio.run(bench(args.requests, f"http://127.0.0.1:{port}/v1", portkey_url))
    finally:
        upstream.terminate()
        upstream.join(5)
    selection_costs()


if __name__ == "__main__":
    main()
