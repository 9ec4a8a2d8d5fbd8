"""Canonical chunks -> the exact Anthropic SSE event sequence (text, tools, reasoning, failures)."""

import json

import pytest

from strands_portkey.errors import RateLimitError, StreamInterruptedError
from strands_portkey.server.dataplane.messages_stream import encode_event, message_events
from strands_portkey.types import ChatChunk, ChunkChoice, Delta, ToolCallDelta, Usage


def text(value: str, finish: str | None = None) -> ChatChunk:
    return ChatChunk("chatcmpl-9", "gpt-4o", (ChunkChoice(0, Delta(content=value), finish),))


def tool(index: int, arguments: str = "", *, id: str | None = None, name: str | None = None) -> ChatChunk:
    call = ToolCallDelta(index, id, name, arguments)
    return ChatChunk("chatcmpl-9", "gpt-4o", (ChunkChoice(0, Delta(tool_calls=(call,))),))


def finish(reason: str) -> ChatChunk:
    return ChatChunk("chatcmpl-9", "gpt-4o", (ChunkChoice(0, Delta(), reason),))


def usage(prompt: int, completion: int) -> ChatChunk:
    return ChatChunk("chatcmpl-9", "gpt-4o", (), Usage(prompt, completion, prompt + completion))


async def chunks(*items, error: Exception | None = None):
    for item in items:
        yield item
    if error is not None:
        raise error


async def events(source, model: str = "asked-model") -> list[tuple[str, dict]]:
    raw = b"".join([frame async for frame in message_events(source, model=model)])
    out = []
    for frame in raw.decode().split("\n\n"):
        if not frame:
            continue
        name_line, data_line = frame.split("\n")
        name = name_line.removeprefix("event: ")
        data = json.loads(data_line.removeprefix("data: "))
        assert data["type"] == name  # every frame's event name is its data's type
        out.append((name, data))
    return out


def kinds(sequence) -> list[str]:
    return [name for name, _ in sequence]


async def test_text_stream_sequence() -> None:
    seq = await events(chunks(text("Hel"), text("lo"), text("", "stop"), usage(11, 2)))
    assert kinds(seq) == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start = seq[0][1]["message"]
    assert start["id"].startswith("msg_")
    assert start["model"] == "gpt-4o"
    assert start["content"] == []
    assert start["role"] == "assistant"
    assert start["stop_reason"] is None
    assert seq[1][1] == {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    assert [d["delta"] for _, d in seq[2:4]] == [
        {"type": "text_delta", "text": "Hel"},
        {"type": "text_delta", "text": "lo"},
    ]
    assert seq[4][1] == {"type": "content_block_stop", "index": 0}
    assert seq[5][1] == {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"input_tokens": 11, "output_tokens": 2},
    }


async def test_tool_arguments_split_across_chunks() -> None:
    seq = await events(
        chunks(
            text("Checking."),
            tool(0, id="call_a", name="weather"),
            tool(0, '{"ci'),
            tool(0, 'ty": "Paris"}'),
            finish("tool_calls"),
        )
    )
    assert kinds(seq) == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert seq[4][1]["content_block"] == {"type": "tool_use", "id": "call_a", "name": "weather", "input": {}}
    assert seq[4][1]["index"] == 1
    partial = "".join(d["delta"]["partial_json"] for _, d in seq[5:7])
    assert json.loads(partial) == {"city": "Paris"}
    assert all(d["delta"]["type"] == "input_json_delta" and d["index"] == 1 for _, d in seq[5:7])
    assert seq[8][1]["delta"]["stop_reason"] == "tool_use"


async def test_two_parallel_tool_calls_get_a_block_each() -> None:
    seq = await events(
        chunks(
            tool(0, '{"a":', id="c1", name="f"),
            tool(0, "1}"),
            tool(1, '{"b":2}', id="c2", name="g"),
            finish("tool_calls"),
        )
    )
    starts = [d for n, d in seq if n == "content_block_start"]
    assert [(s["index"], s["content_block"]["id"], s["content_block"]["name"]) for s in starts] == [
        (0, "c1", "f"),
        (1, "c2", "g"),
    ]
    stops = [d["index"] for n, d in seq if n == "content_block_stop"]
    assert stops == [0, 1]
    # block 0 is stopped before block 1 starts
    names = kinds(seq)
    assert (
        names.index("content_block_stop")
        < [i for i, (n, _) in enumerate(seq) if n == "content_block_start"][1]
    )
    by_index: dict[int, str] = {}
    for name, data in seq:
        if name == "content_block_delta":
            by_index[data["index"]] = by_index.get(data["index"], "") + data["delta"]["partial_json"]
    assert {i: json.loads(v) for i, v in by_index.items()} == {0: {"a": 1}, 1: {"b": 2}}


async def test_interleaved_arguments_go_to_their_own_block() -> None:
    seq = await events(
        chunks(
            tool(0, '{"a"', id="c1", name="f"),
            tool(1, "{}", id="c2", name="g"),
            tool(0, ":1}"),
            finish("tool_calls"),
        )
    )
    deltas = [(d["index"], d["delta"]["partial_json"]) for n, d in seq if n == "content_block_delta"]
    assert deltas == [(0, '{"a"'), (1, "{}"), (0, ":1}")]


async def test_reasoning_then_text_is_a_thinking_block_then_a_text_block() -> None:
    thinking = ChatChunk("msg_up", "claude", (ChunkChoice(0, Delta(reasoning="let me think")),))
    signed = ChatChunk("msg_up", "claude", (ChunkChoice(0, Delta(reasoning_signature="sig")),))
    seq = await events(chunks(thinking, signed, text("answer", "stop")))
    assert seq[0][1]["message"]["id"] == "msg_up"
    assert seq[1][1]["content_block"] == {"type": "thinking", "thinking": ""}
    assert seq[2][1]["delta"] == {"type": "thinking_delta", "thinking": "let me think"}
    assert seq[3][1]["delta"] == {"type": "signature_delta", "signature": "sig"}
    assert seq[4][1] == {"type": "content_block_stop", "index": 0}
    assert seq[5][1]["content_block"] == {"type": "text", "text": ""}
    assert seq[5][1]["index"] == 1


async def test_length_finish_and_cache_usage() -> None:
    cached = ChatChunk("c", "m", (), Usage(50, 4, 54, cache_read_tokens=40))
    seq = await events(chunks(text("cut", "length"), cached))
    delta = seq[-2][1]
    assert delta["delta"]["stop_reason"] == "max_tokens"
    assert delta["usage"] == {
        "input_tokens": 10,
        "output_tokens": 4,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 40,
    }


@pytest.mark.parametrize(
    "error", [StreamInterruptedError("upstream cut the stream"), RateLimitError("throttled mid-way")]
)
async def test_failure_mid_stream_ends_with_an_error_event_not_message_stop(error) -> None:
    seq = await events(chunks(text("partial"), error=error))
    assert kinds(seq)[-1] == "error"
    assert "message_stop" not in kinds(seq)
    assert "message_delta" not in kinds(seq)
    body = seq[-1][1]
    assert body["error"]["message"] == error.message
    assert body["error"]["type"] == (
        "api_error" if isinstance(error, StreamInterruptedError) else "rate_limit_error"
    )


async def test_a_bug_mid_stream_sends_api_error_then_raises() -> None:
    frames = []

    async def consume() -> None:
        async for frame in message_events(chunks(text("x"), error=KeyError("secret")), model="m"):
            frames.append(frame)

    with pytest.raises(KeyError):
        await consume()
    assert b"event: error" in frames[-1]
    assert b"secret" not in frames[-1]


async def test_empty_stream_still_is_a_complete_message() -> None:
    seq = await events(chunks())
    assert kinds(seq) == ["message_start", "message_delta", "message_stop"]
    assert seq[0][1]["message"]["model"] == "asked-model"


def test_encode_event_frames_one_event() -> None:
    assert encode_event({"type": "ping"}) == b'event: ping\ndata: {"type":"ping"}\n\n'
