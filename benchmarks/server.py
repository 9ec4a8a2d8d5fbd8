"""The gateway as a server vs Portkey's open-source gateway, over a fast loopback upstream.

The upstream is Debian's nginx (``/usr/sbin/nginx``, started here with a temporary config that
answers every request with one static chat completion), so what is measured is the gateways,
not the upstream. A small raw HTTP/1.1 keep-alive client (one connection per concurrent caller)
sends the same chat-completion request:

- direct to nginx (the baseline),
- through ``strands-portkey serve`` (1 worker, ``--no-auth``), and 2 workers over a
  ``redis-server`` started here, called with a gateway key that has a rate limit and a budget
  (auth, limits and shared state in Redis on every request; ``--no-redis`` skips it),
- through Portkey's gateway (``hatch run portkey-gateway ensure``; skipped when absent),

both gateways routed by the same headers (``x-portkey-provider: openai`` +
``x-portkey-custom-host``). At concurrency 1 the paths are interleaved request by request, so
they share the machine's noise; printed are requests/s, p50 / p99, and p50 / p99 added over the
direct call. Bounded: ``--requests`` per path and concurrency, ``--max-seconds`` per phase.

    hatch run bench-server                     # 2,000 requests per path and concurrency
    hatch run bench-server --requests 500      # quicker
    hatch run bench-server --compare-src /tmp/base/src   # and a server from another revision's src
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import portkey_gateway
from _peer import free_port

NGINX = "/usr/sbin/nginx"
COMPLETION = json.dumps(
    {
        "id": "bench",
        "object": "chat.completion",
        "created": 1,
        "model": "bench",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "fixed answer"}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    },
    separators=(",", ":"),
)
BODY = json.dumps({"model": "bench", "messages": [{"role": "user", "content": "hi"}]}).encode()


# --------------------------------------------------------------------------- peers

MASTER = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="


@contextlib.contextmanager
def redis_server(folder: Path) -> Iterator[str | None]:
    """A ``redis-server`` on a free loopback port (its URL), or None when it is not installed."""
    from server_auth import _redis

    started = _redis(folder)
    if started is None:
        yield None
        return
    try:
        yield started[1]
    finally:
        started[0].terminate()
        started[0].wait(10)


@contextlib.contextmanager
def nginx() -> Iterator[int]:
    """nginx on a free loopback port answering every request with COMPLETION."""
    if not Path(NGINX).exists():
        raise SystemExit(f"{NGINX} not found: apt-get install nginx-light (or nginx)")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-nginx-") as tmp:
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(
            f"""
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            default_type application/json;
            return 200 '{COMPLETION}';
        }}
    }}
}}
"""
        )
        process = subprocess.Popen([NGINX, "-c", str(conf), "-p", tmp], stderr=subprocess.DEVNULL)
        try:
            _wait_port(port, process)
            yield port
        finally:
            process.terminate()
            process.wait(10)


def _server_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(
        {
            "STRANDS_PORTKEY_HOME": str(home),
            "STRANDS_PORTKEY_DB_URL": f"sqlite:///{home / 'bench.db'}",
            "STRANDS_PORTKEY_MASTER_KEY": MASTER,
            **(extra or {}),
        }
    )
    return env


def limited_key(home: Path) -> str:
    """A gateway key with a (never reached) rate limit and budget, made with ``strands-portkey keys``."""
    home.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [
            *(sys.executable, "-m", "strands_portkey", "keys", "create", "--name", "bench"),
            *("--rate-limits", '[{"type": "requests", "unit": "rpm", "value": 10000000}]'),
            *("--usage-limits", '{"credit_limit": 1e12, "type": "tokens"}'),
        ],
        env=_server_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


@contextlib.contextmanager
def our_server(
    upstream_home: Path, workers: int, redis_url: str | None = None, source: Path | None = None
) -> Iterator[int]:
    """``strands-portkey serve`` on a free loopback port: ``--no-auth``, or gateway keys over Redis.

    ``source``: a ``src`` folder to run the server from instead of the installed package.
    """
    port = free_port()
    env = _server_env(upstream_home, {"STRANDS_PORTKEY_REDIS_URL": redis_url} if redis_url else None)
    if source is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(source), *filter(None, [env.get("PYTHONPATH")])])
    command = [sys.executable, "-m", "strands_portkey", "serve", "--port", str(port)]
    command += ["--workers", str(workers), "--log-level", "warning"]
    command += [] if redis_url else ["--no-auth"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        _wait_port(port, process, path="/health/live")
        yield port
    finally:
        process.terminate()
        process.wait(30)


def _wait_port(port: int, process: subprocess.Popen[bytes], path: str = "/", timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"a peer exited with {process.returncode} before listening on {port}")
        try:
            asyncio.run(_probe(port, path))
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing answered on 127.0.0.1:{port} within {timeout}s")


async def _probe(port: int, path: str) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n".encode())
    await writer.drain()
    await reader.read()
    writer.close()


# --------------------------------------------------------------------------- client


@dataclass(frozen=True)
class Measured:
    name: str
    port: int
    request: bytes


def build_request(port: int, headers: dict[str, str], path: str = "/v1/chat/completions") -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"host: 127.0.0.1:{port}", "content-type: application/json"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"content-length: {len(BODY)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + BODY


class Connection:
    """One keep-alive HTTP/1.1 connection: send a prepared request, read one response."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def call(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = None
        chunked = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if length is not None:
            await self.reader.readexactly(length)
        elif chunked:
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        return status

    def close(self) -> None:
        self.writer.close()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def interleaved(paths: list[Measured], requests: int, max_seconds: float) -> dict[str, list[float]]:
    """Concurrency 1: one request per path in turn, so all paths see the same noise."""
    conns = {p.name: await Connection.open(p.port) for p in paths}
    timings: dict[str, list[float]] = {p.name: [] for p in paths}
    for p in paths:  # warm-up: connections, route gateways, JIT-less caches
        for _ in range(50):
            await conns[p.name].call(p.request)
    deadline = time.perf_counter() + max_seconds
    for _ in range(requests):
        for p in paths:
            start = time.perf_counter()
            status = await conns[p.name].call(p.request)
            timings[p.name].append(time.perf_counter() - start)
            if status != 200:
                raise SystemExit(f"{p.name} answered {status}")
        if time.perf_counter() > deadline:
            break
    for conn in conns.values():
        conn.close()
    return timings


async def concurrent(
    path: Measured, concurrency: int, requests: int, max_seconds: float
) -> tuple[float, list[float]]:
    """``concurrency`` callers share ``requests`` requests; returns requests/s and latencies."""
    conns = [await Connection.open(path.port) for _ in range(concurrency)]
    for conn in conns:
        await conn.call(path.request)
    latencies: list[float] = []
    remaining = requests
    deadline = time.perf_counter() + max_seconds

    async def caller(conn: Connection) -> None:
        nonlocal remaining
        while remaining > 0 and time.perf_counter() < deadline:
            remaining -= 1
            start = time.perf_counter()
            status = await conn.call(path.request)
            latencies.append(time.perf_counter() - start)
            if status != 200:
                raise SystemExit(f"{path.name} answered {status}")

    began = time.perf_counter()
    await asyncio.gather(*(caller(conn) for conn in conns))
    elapsed = time.perf_counter() - began
    for conn in conns:
        conn.close()
    return len(latencies) / elapsed, latencies


# --------------------------------------------------------------------------- report


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.3f} ms"


def report_interleaved(timings: dict[str, list[float]]) -> None:
    direct = timings["direct"]
    print(f"\nconcurrency 1 ({len(direct)} requests per path, interleaved)")
    print(f"{'path':<28}{'req/s':>10}{'p50':>13}{'p99':>13}{'added p50':>14}{'added p99':>14}")
    for name, values in timings.items():
        rate = len(values) / sum(values)
        added = ""
        if name != "direct":
            added = (
                f"{(statistics.median(values) - statistics.median(direct)) * 1e6:11.0f} µs"
                f"{(_pct(values, 0.99) - _pct(direct, 0.99)) * 1e6:11.0f} µs"
            )
        print(f"{name:<28}{rate:>10.0f}{_ms(statistics.median(values))}{_ms(_pct(values, 0.99))}   {added}")


def report_concurrent(concurrency: int, results: dict[str, tuple[float, list[float]]]) -> None:
    print(f"\nconcurrency {concurrency}")
    print(f"{'path':<28}{'req/s':>10}{'p50':>13}{'p99':>13}")
    for name, (rate, values) in results.items():
        print(f"{name:<28}{rate:>10.0f}{_ms(statistics.median(values))}{_ms(_pct(values, 0.99))}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000, help="requests per path and concurrency")
    parser.add_argument("--concurrency", type=int, default=64, help="the high concurrency level")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="bound on each measured phase")
    parser.add_argument("--no-portkey", action="store_true", help="skip Portkey's gateway")
    parser.add_argument("--no-redis", action="store_true", help="skip 2 workers over Redis")
    parser.add_argument(
        "--compare-src",
        type=Path,
        help="also measure a 1-worker server run from this src folder (e.g. `git archive REV src`)",
    )
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; upstream: nginx (static completion)")
    with contextlib.ExitStack() as stack:
        upstream_port = stack.enter_context(nginx())
        route = {
            "x-portkey-provider": "openai",
            "x-portkey-custom-host": f"http://127.0.0.1:{upstream_port}/v1",
        }
        route["authorization"] = "Bearer sk-bench"
        paths = [
            Measured(
                "direct", upstream_port, build_request(upstream_port, {"authorization": "Bearer sk-bench"})
            )
        ]
        home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-server-")))
        port = stack.enter_context(our_server(home / "w1", 1))
        paths.append(Measured("strands-portkey (1 worker)", port, build_request(port, route)))
        if args.compare_src is not None:
            port = stack.enter_context(our_server(home / "w1-compared", 1, source=args.compare_src.resolve()))
            paths.append(Measured("  ... from --compare-src", port, build_request(port, route)))
        redis = stack.enter_context(redis_server(home)) if not args.no_redis else None
        if redis is not None:
            key = limited_key(home / "w2")
            port = stack.enter_context(our_server(home / "w2", 2, redis))
            keyed = {**route, "x-portkey-api-key": key}
            paths.append(Measured("strands-portkey (2w, Redis)", port, build_request(port, keyed)))
        elif not args.no_redis:
            print("redis-server is not installed: 2 workers over Redis not measured")
        if not args.no_portkey and portkey_gateway.installed() is not None and shutil.which("node"):
            gateway = stack.enter_context(portkey_gateway.start())
            port = int(gateway.base_url.rsplit(":", 1)[1].split("/")[0])
            paths.append(Measured("portkey gateway (node)", port, build_request(port, route)))
        else:
            print("Portkey's gateway is not installed (hatch run portkey-gateway ensure): not compared")
        report_interleaved(asyncio.run(interleaved(paths, args.requests, args.max_seconds)))
        results = {
            p.name: asyncio.run(concurrent(p, args.concurrency, args.requests * 2, args.max_seconds))
            for p in paths
        }
        report_concurrent(args.concurrency, results)


if __name__ == "__main__":
    main()
