"""What the Anthropic Messages codec costs: per request (body -> canonical) and per streamed chunk.

Pure CPU work, no network: ``chat_request_from_messages`` on a realistic Claude-style body (system,
tools, a tool_use / tool_result turn), ``message_from_response`` on an answer with a tool call, and
``message_events`` re-encoding a 64-chunk text stream and a tool stream whose arguments arrive in
16 pieces. Printed: p50 / p99 per operation, and per chunk for the streams.

    hatch run python benchmarks/messages_codec.py                 # 2,000 rounds
    hatch run python benchmarks/messages_codec.py --rounds 500    # quicker
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import AsyncIterator, Callable

from strands_portkey.server.dataplane.messages_codec import chat_request_from_messages, message_from_response
from strands_portkey.server.dataplane.messages_stream import message_events
from strands_portkey.types import (
    ChatChunk,
    ChatResponse,
    Choice,
    ChunkChoice,
    Delta,
    ResponseMessage,
    ToolCall,
    ToolCallDelta,
    Usage,
)

BODY = {
    "model": "gpt-4o",
    "max_tokens": 1024,
    "system": [
        {"type": "text", "text": "You are a helpful assistant.", "cache_control": {"type": "ephemeral"}}
    ],
    "tools": [
        {
            "name": f"tool_{i}",
            "description": "Looks something up.",
            "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
        }
        for i in range(5)
    ],
    "messages": [
        {"role": "user", "content": "What is the weather in Paris and in Rome?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_1", "name": "tool_0", "input": {"q": "Paris"}},
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny, 21C"}],
        },
    ],
    "stream": True,
}
ANSWER = ChatResponse(
    "chatcmpl-1",
    "gpt-4o",
    (
        Choice(
            0,
            ResponseMessage("Checking Rome.", (ToolCall("call_1", "tool_0", '{"q": "Rome"}'),)),
            "tool_calls",
        ),
    ),
    Usage(120, 20, 140),
)
TEXT = [ChatChunk("c", "gpt-4o", (ChunkChoice(0, Delta(content="word ")),)) for _ in range(63)]
TEXT.append(ChatChunk("c", "gpt-4o", (ChunkChoice(0, Delta(), "stop"),), Usage(10, 64, 74)))
TOOL = [
    ChatChunk("c", "gpt-4o", (ChunkChoice(0, Delta(tool_calls=(ToolCallDelta(0, "call_1", "tool_0", ""),))),))
]
TOOL += [
    ChatChunk("c", "gpt-4o", (ChunkChoice(0, Delta(tool_calls=(ToolCallDelta(0, None, None, '"ab'),))),))
] * 16
TOOL.append(ChatChunk("c", "gpt-4o", (ChunkChoice(0, Delta(), "tool_calls"),)))


async def _chunks(items: list[ChatChunk]) -> AsyncIterator[ChatChunk]:
    for item in items:
        yield item


async def _drain(items: list[ChatChunk]) -> None:
    async for _ in message_events(_chunks(items), model="gpt-4o"):
        pass


def _time(fn: Callable[[], object], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1e6)
    return samples


def _report(name: str, samples: list[float], per: int = 1) -> None:
    ordered = sorted(samples)
    p50, p99 = statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]
    suffix = f"  (per chunk: p50 {p50 / per:.2f} us, p99 {p99 / per:.2f} us)" if per > 1 else ""
    print(f"{name:<34} p50 {p50:8.1f} us   p99 {p99:8.1f} us{suffix}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    rounds = parser.parse_args().rounds
    loop = asyncio.new_event_loop()
    try:
        _report(
            "request: Anthropic body -> canonical", _time(lambda: chat_request_from_messages(BODY), rounds)
        )
        _report("answer: canonical -> message", _time(lambda: message_from_response(ANSWER), rounds))
        text = _time(lambda: loop.run_until_complete(_drain(TEXT)), rounds)
        _report(f"stream: {len(TEXT)} text chunks -> SSE", text, len(TEXT))
        tool = _time(lambda: loop.run_until_complete(_drain(TOOL)), rounds)
        _report(f"stream: {len(TOOL)} tool chunks -> SSE", tool, len(TOOL))
    finally:
        loop.close()


if __name__ == "__main__":
    main()
