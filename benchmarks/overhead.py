"""What the gateway adds per request and per streamed chunk, against a direct call, in one run.

A minimal HTTP/1.1 upstream (its own process, keep-alive) returns a fixed chat completion and a
fixed SSE stream. Each measured path runs N requests interleaved with the direct baseline, so
both see the same machine noise. Printed: p50 / p99 per path, the added p50 / p99, the added
cost per streamed chunk, and the time of ``import strands_portkey`` in a fresh interpreter.

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

import httpx

CHUNKS = 32
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
    }
).encode()
STREAM = (
    b"".join(
        b"data: "
        + json.dumps(
            {
                "id": "bench",
                "model": "bench",
                "choices": [{"index": 0, "delta": {"content": f"tok{i} "}, "finish_reason": None}],
            }
        ).encode()
        + b"\n\n"
        for i in range(CHUNKS - 1)
    )
    + b"data: "
    + json.dumps(
        {"id": "bench", "model": "bench", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    ).encode()
    + b"\n\ndata: [DONE]\n\n"
)


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
                streaming = b'"stream":true' in body
                payload, kind = (
                    (STREAM, b"text/event-stream") if streaming else (COMPLETION, b"application/json")
                )
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- measurement


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _timed(call: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await call()
    return (time.perf_counter() - start) * 1e6


async def _paired(
    n: int, base: Callable[[], Awaitable[object]], test: Callable[[], Awaitable[object]]
) -> tuple[list[float], list[float]]:
    for _ in range(50):
        await base()
        await test()
    base_us, test_us = [], []
    for _ in range(n):
        base_us.append(await _timed(base))
        test_us.append(await _timed(test))
    return base_us, test_us


def _report(name: str, base: list[float], test: list[float], per: int = 1) -> dict[str, float]:
    added50 = _pct(test, 0.5) - _pct(base, 0.5)
    added99 = _pct(test, 0.99) - _pct(base, 0.99)
    print(
        f"{name:<34} direct p50 {_pct(base, 0.5):8.0f} us  p99 {_pct(base, 0.99):8.0f} us | "
        f"via p50 {_pct(test, 0.5):8.0f} us  p99 {_pct(test, 0.99):8.0f} us | "
        f"added p50 {added50:7.0f} us  p99 {added99:7.0f} us"
        + (f" | per chunk p50 {added50 / per:5.1f} us" if per > 1 else "")
    )
    return {"added_p50": added50, "added_p99": added99}


def _import_time(runs: int = 7) -> tuple[float, float]:
    def once(code: str) -> float:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        return float(out.stdout)

    timer = "import time; t=time.perf_counter(); {}; print(time.perf_counter()-t)"
    ours = [once(timer.format("import strands_portkey")) for _ in range(runs)]
    full = [once(timer.format("from strands_portkey import PortkeyModel")) for _ in range(runs)]
    return statistics.median(ours), statistics.median(full)


async def _bench(n: int, base_url: str) -> None:
    from strands_portkey import Gateway, PortkeyModel

    body = {"model": "bench", "messages": [{"role": "user", "content": "hi"}]}
    gateway = Gateway({"provider": "openai", "api_key": "sk-bench", "custom_host": base_url})
    model = PortkeyModel(gateway=gateway, model_id="bench")
    messages = [{"role": "user", "content": [{"text": "hi"}]}]
    async with httpx.AsyncClient() as client:
        url = f"{base_url}/chat/completions"
        headers = {"authorization": "Bearer sk-bench"}

        async def direct() -> None:
            (await client.post(url, json=body, headers=headers)).json()

        async def direct_stream() -> None:
            async with client.stream("POST", url, json={**body, "stream": True}, headers=headers) as response:
                async for _ in response.aiter_bytes():
                    pass

        async def via_chat() -> None:
            await gateway.chat(body)

        async def via_stream() -> None:
            async with gateway.stream(body) as stream:
                async for _ in stream:
                    pass

        async def via_model() -> None:
            async for _ in model.stream(messages):  # type: ignore[arg-type]
                pass

        print(f"{n} requests per path; stream = {CHUNKS} chunks; upstream {base_url}\n")
        _report("Gateway.chat", *await _paired(n, direct, via_chat))
        _report("Gateway.stream", *await _paired(n, direct_stream, via_stream), per=CHUNKS)
        _report(
            "PortkeyModel.stream (Strands events)", *await _paired(n, direct_stream, via_model), per=CHUNKS
        )
    await gateway.aclose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    port = _free_port()
    upstream = multiprocessing.Process(target=_upstream_main, args=(port,), daemon=True)
    upstream.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        asyncio.run(_bench(args.requests, f"http://127.0.0.1:{port}/v1"))
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
