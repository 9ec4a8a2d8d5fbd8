"""Per-request cost of the server's data routes, in process: chat completions, messages, embeddings.

The app is driven over ASGI (no sockets) with a MockTransport upstream that answers at once, so
what is measured is the server layer plus ``Gateway.chat`` / ``Gateway.embed`` plus each route's
translation (``/v1/messages``: the Anthropic codec both ways). The routes are interleaved request
by request, so they share the machine's noise; printed are p50 / p99 per route and the p50 a
route adds over chat completions. Bounded by ``--requests`` per route.

    hatch run python benchmarks/server_routes.py
    hatch run python benchmarks/server_routes.py --requests 500 --forward   # with a forwarded header
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import httpx

from strands_portkey.server.app import create_app
from strands_portkey.server.settings import ServerSettings

COMPLETION = {
    "id": "bench",
    "object": "chat.completion",
    "created": 1,
    "model": "bench",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "fixed answer"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
}
EMBEDDING = {
    "object": "list",
    "data": [{"object": "embedding", "index": 0, "embedding": [0.1] * 16}],
    "model": "bench",
    "usage": {"prompt_tokens": 2, "total_tokens": 2},
}
HI = [{"role": "user", "content": "hi"}]
ROUTES = {
    "chat.completions": ("/v1/chat/completions", {"model": "bench", "messages": HI}),
    "messages": ("/v1/messages", {"model": "bench", "max_tokens": 16, "messages": HI}),
    "embeddings": ("/v1/embeddings", {"model": "bench", "input": "hi", "encoding_format": "float"}),
}


def upstream(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=EMBEDDING if request.url.path.endswith("/embeddings") else COMPLETION)


async def _resolve(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]


async def run(requests: int, forward: bool) -> dict[str, list[float]]:
    settings = ServerSettings(
        env={"STRANDS_PORTKEY_HOME": "/nonexistent/bench-home"},
        open_store=False,
        upstream_transport=httpx.MockTransport(upstream),
        resolver=_resolve,
    )
    app = create_app(settings, no_auth=True)
    headers = {"x-portkey-provider": "openai", "authorization": "Bearer sk-bench"}
    if forward:
        headers |= {"x-portkey-forward-headers": "x-tenant", "x-tenant": "acme"}
    bodies = {name: (path, json.dumps(body).encode()) for name, (path, body) in ROUTES.items()}
    timings: dict[str, list[float]] = {name: [] for name in ROUTES}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench.test", headers=headers
    ) as client:
        for _ in range(50):  # warm-up: route gateways built, code paths hot
            for path, body in bodies.values():
                await client.post(path, content=body, headers={"content-type": "application/json"})
        for _ in range(requests):
            for name, (path, body) in bodies.items():
                started = time.perf_counter()
                response = await client.post(path, content=body, headers={"content-type": "application/json"})
                timings[name].append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise SystemExit(f"{name}: {response.status_code} {response.text[:200]}")
    await app.state.server.aclose()
    return timings


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000, help="requests per route")
    parser.add_argument("--forward", action="store_true", help="every request forwards one header")
    args = parser.parse_args()
    timings = asyncio.run(run(args.requests, args.forward))
    base = statistics.median(timings["chat.completions"])
    print(f"{'route':<18} {'p50':>10} {'p99':>10} {'p50 vs chat':>12}")
    for name, values in timings.items():
        p50, p99 = statistics.median(values), _pct(values, 0.99)
        print(f"{name:<18} {p50 * 1e6:>8.0f}µs {p99 * 1e6:>8.0f}µs {(p50 - base) * 1e6:>+10.0f}µs")


if __name__ == "__main__":
    main()
