"""Requests/s of the admin API's public model discovery, ``GET /api/ai-providers/models``.

``strands-portkey serve`` (1 worker, ``--no-auth``, SQLite) is started on a free loopback port and
filled through its own REST API with ``--providers`` providers of ``--models`` rated models each
(one key each, so every model is ``available``). Then keep-alive HTTP/1.1 callers (the raw client
of ``benchmarks/server.py``) fetch, at concurrency 1 and ``--concurrency``:

- ``models``: the LiteLLM listing (served from the in-process snapshot: no database read while
  nothing changed; the JSON bytes and their ETag are cached with it);
- ``models 304``: the same with ``If-None-Match`` (a client that keeps the listing);
- ``model-rates``: one page of 50 rates, a route that reads the database on every request (for
  comparison).

Printed: requests/s, p50 and p99. Bounded: ``--requests`` per path and concurrency and
``--max-seconds`` per phase.

    hatch run python benchmarks/admin_api.py
    hatch run python benchmarks/admin_api.py --requests 500 --models 200
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx
from server import Connection, Measured, _pct, our_server  # benchmarks/server.py


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"host: 127.0.0.1:{port}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def fill(port: int, providers: int, models: int) -> int:
    """Providers, one key each, and ``models`` rates per provider (batch creates); the listing's size."""
    base = f"http://127.0.0.1:{port}/api/ai-providers"
    with httpx.Client(timeout=60) as client:
        names = [f"bench{i}" for i in range(providers)]
        for name in names:
            client.post(base, json={"name": name, "baseUrl": "http://127.0.0.1:9/v1"}).raise_for_status()
            key = {"name": f"{name}-key", "value": f"sk-bench-{name}-0123456789abcdef"}
            client.post(f"{base}/{name}/credentials?validate=false", json=key).raise_for_status()
        for m in range(models):
            rate = {
                "model": f"model-{m:04d}",
                "inputRate": 0.000003,
                "outputRate": 0.000015,
                "providers": names,
            }
            client.post(f"{base}/model-rates", json=rate).raise_for_status()
        listing = client.get(f"{base}/models")
        listing.raise_for_status()
        return len(listing.json())


async def run(
    path: Measured, concurrency: int, requests: int, max_seconds: float, status: int
) -> tuple[float, list[float]]:
    conns = [await Connection.open(path.port) for _ in range(concurrency)]
    for conn in conns:
        for _ in range(20):  # warm-up: the snapshot, the cached bytes, the connection
            await conn.call(path.request)
    latencies: list[float] = []
    remaining = requests
    deadline = time.perf_counter() + max_seconds

    async def caller(conn: Connection) -> None:
        nonlocal remaining
        while remaining > 0 and time.perf_counter() < deadline:
            remaining -= 1
            start = time.perf_counter()
            got = await conn.call(path.request)
            latencies.append(time.perf_counter() - start)
            if got != status:
                raise SystemExit(f"{path.name} answered {got}, expected {status}")

    started = time.perf_counter()
    await asyncio.gather(*(caller(conn) for conn in conns))
    elapsed = time.perf_counter() - started
    for conn in conns:
        conn.close()
    return len(latencies) / elapsed, latencies


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000, help="requests per path and concurrency")
    parser.add_argument("--providers", type=int, default=5)
    parser.add_argument("--models", type=int, default=100, help="rated models per provider")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--max-seconds", type=float, default=60.0, help="upper bound per phase")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-admin-") as tmp, our_server(Path(tmp), workers=1) as port:
        size = fill(port, args.providers, args.models)
        etag = httpx.get(f"http://127.0.0.1:{port}/api/ai-providers/models").headers["etag"]
        paths = [
            (Measured("models", port, _get(port, "/api/ai-providers/models")), 200),
            (
                Measured("models 304", port, _get(port, "/api/ai-providers/models", {"if-none-match": etag})),
                304,
            ),
            (Measured("model-rates", port, _get(port, "/api/ai-providers/model-rates?limit=50")), 200),
        ]
        shape = f"{args.providers} providers x {args.models}"
        print(f"GET /api/ai-providers/models: {size} models ({shape}), 1 worker")
        print(f"{'path':<14}{'concurrency':>12}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
        for path, status in paths:
            for concurrency in (1, args.concurrency):
                rate, latencies = asyncio.run(run(path, concurrency, args.requests, args.max_seconds, status))
                p50, p99 = _pct(latencies, 0.5) * 1000, _pct(latencies, 0.99) * 1000
                print(f"{path.name:<14}{concurrency:>12}{rate:>10.0f}{p50:>10.2f}{p99:>10.2f}")


if __name__ == "__main__":
    main()
