"""What the gateway adds per request and per streamed chunk, against a direct call, in one run.

A minimal HTTP/1.1 upstream (its own process, keep-alive) returns a fixed chat completion and a
fixed SSE stream. Each measured path runs N requests interleaved with the direct baseline (the
same HTTP client library the gateway's transport uses: aiohttp by default with the ``[fast]``
extra, httpx with ``--client httpx``), so both see the same machine noise. Printed: p50 / p99
per path, the added p50 / p99, the added cost per streamed chunk, and the time of
``import strands_portkey`` in a fresh interpreter. No control plane is opened (a fresh
``STRANDS_PORTKEY_HOME``).

    hatch run bench                      # 2,000 requests per path
    hatch run bench --requests 500       # quicker
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from _nginx import COMPLETION, free_port, no_control_plane, sse_body

SHORT, LONG = 8, 64
STREAMS = {SHORT: sse_body(SHORT), LONG: sse_body(LONG)}


# --------------------------------------------------------------------------- upstream process


async def _serve(port: int) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length)
                request = json.loads(body)
                if request.get("stream"):
                    payload, kind = STREAMS[request.get("max_tokens", SHORT)], b"text/event-stream"
                else:
                    payload, kind = COMPLETION, b"application/json"
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: "
                    + kind
                    + b"\r\ncontent-length: "
                    + str(len(payload)).encode()
                    + b"\r\n\r\n"
                    + payload
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def _upstream_main(port: int) -> None:
    asyncio.run(_serve(port))


# --------------------------------------------------------------------------- measurement


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _timed(call: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await call()
    return (time.perf_counter() - start) * 1e6


async def _interleaved(n: int, *calls: Callable[[], Awaitable[object]]) -> list[list[float]]:
    """Run ``calls`` round-robin ``n`` times (after a warm-up) so they all see the same noise."""
    for _ in range(50):
        for call in calls:
            await call()
    timings: list[list[float]] = [[] for _ in calls]
    for _ in range(n):
        for samples, call in zip(timings, calls, strict=True):
            samples.append(await _timed(call))
    return timings


def _report(name: str, base: list[float], test: list[float]) -> dict[str, float]:
    added = {"p50": _pct(test, 0.5) - _pct(base, 0.5), "p99": _pct(test, 0.99) - _pct(base, 0.99)}
    print(
        f"{name:<40} direct p50 {_pct(base, 0.5):7.0f} p99 {_pct(base, 0.99):7.0f} | "
        f"via p50 {_pct(test, 0.5):7.0f} p99 {_pct(test, 0.99):7.0f} | "
        f"added p50 {added['p50']:6.0f} p99 {added['p99']:6.0f}   (us)"
    )
    return added


def _per_chunk(name: str, short: dict[str, float], long: dict[str, float]) -> None:
    per50 = (long["p50"] - short["p50"]) / (LONG - SHORT)
    per99 = (long["p99"] - short["p99"]) / (LONG - SHORT)
    print(
        f"{name:<40} added per chunk: p50 {per50:5.1f} us, p99 {per99:5.1f} us "
        f"(slope between {SHORT}- and {LONG}-chunk streams)"
    )


def _import_time(runs: int = 7) -> tuple[float, float]:
    def once(code: str) -> float:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        return float(out.stdout)

    timer = "import time; t=time.perf_counter(); {}; print(time.perf_counter()-t)"
    ours = [once(timer.format("import strands_portkey")) for _ in range(runs)]
    full = [once(timer.format("from strands_portkey import PortkeyModel")) for _ in range(runs)]
    return statistics.median(ours), statistics.median(full)


class _Direct:
    """The baseline: the same HTTP client library the gateway's transport uses, called directly."""

    def __init__(self, library: str) -> None:
        self.library = library
        self._httpx = httpx.AsyncClient() if library == "httpx" else None
        self._aiohttp: Any = None

    async def __aenter__(self) -> _Direct:
        if self.library == "aiohttp":
            import aiohttp

            self._aiohttp = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._httpx is not None:
            await self._httpx.aclose()
        if self._aiohttp is not None:
            await self._aiohttp.close()

    async def chat(self, url: str, body: dict[str, Any], headers: dict[str, str]) -> object:
        if self._httpx is not None:
            return (await self._httpx.post(url, json=body, headers=headers)).json()
        async with self._aiohttp.post(url, json=body, headers=headers) as response:
            return json.loads(await response.read())

    async def stream(self, url: str, body: dict[str, Any], headers: dict[str, str]) -> None:
        if self._httpx is not None:
            async with self._httpx.stream("POST", url, json=body, headers=headers) as response:
                async for _ in response.aiter_bytes():
                    pass
            return
        async with self._aiohttp.post(url, json=body, headers=headers) as response:
            async for _ in response.content.iter_any():
                pass


async def _bench(n: int, base_url: str, client: str) -> None:
    from strands_portkey import Gateway, PortkeyModel
    from strands_portkey.transport import TransportSettings

    body = {"model": "bench", "messages": [{"role": "user", "content": "hi"}]}
    config = {"provider": "openai", "api_key": "sk-bench", "custom_host": base_url}
    gateway = Gateway(config, transport_settings=TransportSettings(client=client))  # type: ignore[arg-type]
    library = gateway._transport.client
    messages = [{"role": "user", "content": [{"text": "hi"}]}]
    async with _Direct(library) as baseline:
        url = f"{base_url}/chat/completions"
        headers = {"authorization": "Bearer sk-bench"}

        async def direct() -> None:
            await baseline.chat(url, body, headers)

        def direct_stream(chunks: int) -> Callable[[], Awaitable[None]]:
            async def call() -> None:
                await baseline.stream(url, {**body, "stream": True, "max_tokens": chunks}, headers)

            return call

        async def via_chat() -> None:
            await gateway.chat(body)

        def via_stream(chunks: int) -> Callable[[], Awaitable[None]]:
            async def call() -> None:
                async with gateway.stream({**body, "max_tokens": chunks}) as stream:
                    async for _ in stream:
                        pass

            return call

        def via_model(chunks: int) -> Callable[[], Awaitable[None]]:
            model = PortkeyModel(gateway=gateway, model_id="bench", params={"max_tokens": chunks})

            async def call() -> None:
                async for _ in model.stream(messages):  # type: ignore[arg-type]
                    pass

            return call

        print(f"{n} requests per path, each interleaved with a direct {library} call; upstream {base_url}\n")
        _report("Gateway.chat", *await _interleaved(n, direct, via_chat))
        for name, make in (
            ("Gateway.stream", via_stream),
            ("PortkeyModel.stream (Strands events)", via_model),
        ):
            base_short, test_short, base_long, test_long = await _interleaved(
                n, direct_stream(SHORT), make(SHORT), direct_stream(LONG), make(LONG)
            )
            short = _report(f"{name}, {SHORT} chunks", base_short, test_short)
            long = _report(f"{name}, {LONG} chunks", base_long, test_long)
            _per_chunk(name, short, long)
    await gateway.aclose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument(
        "--client", choices=["auto", "aiohttp", "httpx"], default="auto", help="the gateway's HTTP client"
    )
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
        with no_control_plane():
            asyncio.run(_bench(args.requests, f"http://127.0.0.1:{port}/v1", args.client))
    finally:
        upstream.terminate()
        upstream.join(5)
    light, full = _import_time()
    print(
        f"\nimport strands_portkey: {light * 1000:.0f} ms (median of 7 fresh interpreters); "
        f"with PortkeyModel (loads strands): {full * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
