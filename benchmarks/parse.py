"""Per-chunk parse cost of each adapter's stream parser on a recorded 500-chunk stream (target <= 10 us).

The OpenAI and Anthropic streams in ``benchmarks/data/`` were recorded from llama.cpp's
llama-server (SmolLM2-135M, 500 generated tokens, ``temperature: 0``), byte for byte. Bedrock
(binary AWS event-stream frames) and Gemini (``alt=sse`` response objects) have no local server,
so their streams are built from the same 500 recorded token texts in each provider's documented
framing. Each stream is fed the way the network delivers it, one event per ``feed`` call, to a
fresh parser per run; the cost per chunk is the run's time divided by the 500 text chunks.

Then one hostile case: a single 4 MB event arriving in 4 KB pieces, through the OpenAI parser.
The SSE decoder used to copy the unfinished line on every piece (quadratic time); it must stay
linear, since the whole parse runs on the event loop.

    hatch run bench-parse                 # 300 runs per parser
    hatch run bench-parse --runs 50       # quicker
    hatch run bench-parse --record        # re-record the two streams (needs llama-server)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from strands_portkey.providers import get_adapter
from strands_portkey.providers._eventstream import encode_message
from strands_portkey.types import ChatRequest

DATA = Path(__file__).resolve().parent / "data"
CHUNKS = 500
TARGET_US = 10.0
REQUEST = ChatRequest.from_body(
    {"model": "smollm2-135m", "messages": [{"role": "user", "content": "story"}], "stream": True}
)


def _sse_events(data: bytes) -> list[bytes]:
    return [part + b"\n\n" for part in data.replace(b"\r\n", b"\n").split(b"\n\n") if part.strip()]


def recorded_tokens() -> list[str]:
    tokens = []
    for event in _sse_events((DATA / "anthropic-500.sse").read_bytes()):
        payload = json.loads(event.split(b"data: ", 1)[1])
        if payload.get("type") == "content_block_delta":
            tokens.append(payload["delta"]["text"])
    return tokens


def bedrock_frames(tokens: list[str]) -> list[bytes]:
    def frame(event: str, payload: dict[str, object]) -> bytes:
        headers = {":event-type": event, ":content-type": "application/json", ":message-type": "event"}
        return encode_message(headers, json.dumps({**payload, "p": "abcdefghijkl"}).encode())

    frames = [frame("messageStart", {"role": "assistant"})]
    frames += [frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": t}}) for t in tokens]
    frames.append(frame("contentBlockStop", {"contentBlockIndex": 0}))
    frames.append(frame("messageStop", {"stopReason": "max_tokens"}))
    usage = {"inputTokens": 20, "outputTokens": len(tokens), "totalTokens": 20 + len(tokens)}
    frames.append(frame("metadata", {"usage": usage, "metrics": {"latencyMs": 3000}}))
    return frames


def gemini_events(tokens: list[str]) -> list[bytes]:
    events = []
    for index, token in enumerate(tokens):
        candidate: dict[str, object] = {"content": {"parts": [{"text": token}], "role": "model"}, "index": 0}
        body: dict[str, object] = {
            "candidates": [candidate],
            "modelVersion": "gemini-2.5-flash",
            "responseId": "r1",
        }
        if index == len(tokens) - 1:
            candidate["finishReason"] = "MAX_TOKENS"
        body["usageMetadata"] = {"promptTokenCount": 20, "candidatesTokenCount": index + 1}
        events.append(f"data: {json.dumps(body)}\r\n\r\n".encode())
    return events


def streams() -> dict[str, list[bytes]]:
    tokens = recorded_tokens()
    assert len(tokens) == CHUNKS, f"expected {CHUNKS} recorded tokens, found {len(tokens)}"
    return {
        "openai": _sse_events((DATA / "openai-500.sse").read_bytes()),
        "anthropic": _sse_events((DATA / "anthropic-500.sse").read_bytes()),
        "bedrock": bedrock_frames(tokens),
        "google": gemini_events(tokens),
    }


def run_once(provider: str, pieces: list[bytes], clock: Callable[[], float]) -> tuple[float, int]:
    parser = get_adapter(provider).stream_parser(REQUEST)
    started = clock()
    count = 0
    for piece in pieces:
        count += len(parser.feed(piece))
    count += len(parser.close())
    return clock() - started, count


def bench(runs: int) -> None:
    print(f"stream parser cost per chunk, {CHUNKS} text chunks per stream, {runs} runs each (us)")
    print(f"{'adapter':<11} {'bytes':>8} {'chunks':>7} {'p50':>7} {'p99':>7} {'vs openai':>10} {'target':>8}")
    baseline = None
    failures = 0
    for provider, pieces in streams().items():
        for _ in range(max(3, runs // 10)):  # warm up
            run_once(provider, pieces, time.perf_counter)
        per_chunk = []
        chunks = 0
        for _ in range(runs):
            elapsed, chunks = run_once(provider, pieces, time.perf_counter)
            per_chunk.append(elapsed / CHUNKS * 1e6)
        per_chunk.sort()
        p50 = statistics.median(per_chunk)
        p99 = per_chunk[min(len(per_chunk) - 1, int(len(per_chunk) * 0.99))]
        baseline = baseline or p50
        ok = p50 <= TARGET_US
        failures += not ok
        size = sum(len(p) for p in pieces)
        verdict = "ok" if ok else "OVER"
        ratio = p50 / baseline
        print(f"{provider:<11} {size:>8} {chunks:>7} {p50:>7.2f} {p99:>7.2f} {ratio:>9.2f}x {verdict:>8}")
    if failures:
        print(f"{failures} parser(s) above the {TARGET_US:g} us target")


LONG_EVENT_BYTES = 4_000_000
LONG_EVENT_PIECE = 4096


def long_event(runs: int) -> None:
    """Milliseconds to parse one 4 MB text delta fed in 4 KB pieces (p50/p99)."""
    text = "x" * LONG_EVENT_BYTES
    event = {
        "id": "c",
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": "stop"}],
    }
    body = f"data: {json.dumps(event)}\n\ndata: [DONE]\n\n".encode()
    pieces = [body[i : i + LONG_EVENT_PIECE] for i in range(0, len(body), LONG_EVENT_PIECE)]
    times = []
    for _ in range(runs):
        elapsed, chunks = run_once("openai", pieces, time.perf_counter)
        assert chunks == 1
        times.append(elapsed * 1000)
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    print(
        f"one {len(body):,}-byte event in {len(pieces):,} pieces of {LONG_EVENT_PIECE} bytes: "
        f"p50 {statistics.median(times):.1f} ms, p99 {p99:.1f} ms ({runs} runs)"
    )


def record() -> None:
    """Re-record the OpenAI and Anthropic streams from llama-server (500 tokens, temperature 0)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    import urllib.request

    import llama_server

    prompt = [{"role": "user", "content": "Write a long story about a dragon who learns to cook."}]
    body = {
        "model": "smollm2-135m",
        "max_tokens": CHUNKS,
        "stream": True,
        "temperature": 0,
        "ignore_eos": True,
    }
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with llama_server.running() as server:
        for name, path, extra in (
            ("anthropic-500.sse", "/messages", {}),
            ("openai-500.sse", "/chat/completions", {"stream_options": {"include_usage": True}}),
        ):
            data = json.dumps({**body, **extra, "messages": prompt}).encode()
            request = urllib.request.Request(
                server.base_url + path, data=data, headers={"content-type": "application/json"}
            )
            with opener.open(request, timeout=300) as response:
                (DATA / name).write_bytes(response.read())
            print(f"recorded {DATA / name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    if args.record:
        record()
    bench(args.runs)
    long_event(max(5, args.runs // 10))


if __name__ == "__main__":
    main()
