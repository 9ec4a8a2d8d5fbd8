from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strands_portkey.errors import (
    ContextWindowExceededError,
    MalformedResponseError,
    OverloadedError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
)
from strands_portkey.providers.openai_compat import OpenAICompatAdapter, OpenAIStreamParser
from strands_portkey.types import ChatChunk, ChatRequest, ChunkChoice, Delta, ToolCallDelta, Usage

ADAPTER = OpenAICompatAdapter("openai", "https://api.openai.com/v1")
REQUEST = ChatRequest.from_body(
    {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True}
)


def sse(*payloads: dict[str, Any], done: bool = True) -> bytes:
    text = "".join(f"data: {json.dumps(p)}\n\n" for p in payloads)
    return (text + ("data: [DONE]\n\n" if done else "")).encode()


def chunk_json(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1720000000,
        "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        **extra,
    }


def usage_json(**usage: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1720000000,
        "model": "gpt-4o-2024-08-06",
        "choices": [],
        "usage": usage,
    }


def expected_chunk(delta: Delta, finish: str | None = None) -> ChatChunk:
    return ChatChunk("chatcmpl-1", "gpt-4o-2024-08-06", (ChunkChoice(0, delta, finish),), None, 1720000000)


def parse_all(stream: bytes, parser: OpenAIStreamParser | None = None) -> list[ChatChunk]:
    parser = parser or ADAPTER.stream_parser(REQUEST)
    return parser.feed(stream) + parser.close()


def parse_in_pieces(stream: bytes, cuts: list[int]) -> list[ChatChunk]:
    parser = ADAPTER.stream_parser(REQUEST)
    chunks: list[ChatChunk] = []
    start = 0
    for cut in [*sorted(set(cuts)), len(stream)]:
        chunks += parser.feed(stream[start:cut])
        start = cut
    return chunks + parser.close()


# ---------------------------------------------------------------- full chunk lists


def test_text_stream() -> None:
    stream = sse(
        chunk_json({"role": "assistant", "content": ""}),
        chunk_json({"content": "Hello"}),
        chunk_json({"content": " world"}),
        chunk_json({}, "stop"),
    )
    assert parse_all(stream) == [
        expected_chunk(Delta(content="", role="assistant")),
        expected_chunk(Delta(content="Hello")),
        expected_chunk(Delta(content=" world")),
        expected_chunk(Delta(), "stop"),
    ]


def test_reasoning_stream_with_both_field_names() -> None:
    stream = sse(
        chunk_json({"reasoning_content": "think "}),
        chunk_json({"reasoning": "more"}),
        chunk_json({"reasoning_content": None, "reasoning": "fallback"}),
        chunk_json({"content": "answer"}, "stop"),
    )
    assert parse_all(stream) == [
        expected_chunk(Delta(reasoning="think ")),
        expected_chunk(Delta(reasoning="more")),
        expected_chunk(Delta(reasoning="fallback")),
        expected_chunk(Delta(content="answer"), "stop"),
    ]


def test_parallel_tool_call_fragments() -> None:
    stream = sse(
        chunk_json(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_a",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": ""},
                    },
                ],
            }
        ),
        chunk_json({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]}),
        chunk_json(
            {
                "tool_calls": [
                    {"index": 1, "id": "call_b", "type": "function", "function": {"name": "get_time"}},
                ]
            }
        ),
        chunk_json(
            {
                "tool_calls": [
                    {"index": 0, "function": {"arguments": '"Paris"}'}},
                    {"index": 1, "function": {"arguments": "{}"}},
                ]
            }
        ),
        chunk_json({}, "tool_calls"),
    )
    assert parse_all(stream) == [
        expected_chunk(Delta(role="assistant", tool_calls=(ToolCallDelta(0, "call_a", "get_weather", ""),))),
        expected_chunk(Delta(tool_calls=(ToolCallDelta(0, None, None, '{"city": '),))),
        expected_chunk(Delta(tool_calls=(ToolCallDelta(1, "call_b", "get_time", ""),))),
        expected_chunk(
            Delta(tool_calls=(ToolCallDelta(0, None, None, '"Paris"}'), ToolCallDelta(1, None, None, "{}")))
        ),
        expected_chunk(Delta(), "tool_calls"),
    ]


def test_tool_call_without_index_uses_position() -> None:
    stream = sse(
        chunk_json(
            {"tool_calls": [{"id": "a", "function": {"name": "f", "arguments": {"x": 1}}}]}, "tool_calls"
        )
    )
    assert parse_all(stream)[0].choices[0].delta.tool_calls == (ToolCallDelta(0, "a", "f", '{"x": 1}'),)


def test_usage_only_chunk() -> None:
    stream = sse(
        chunk_json({"content": "hi"}, "stop", usage=None),
        usage_json(
            prompt_tokens=11, completion_tokens=7, total_tokens=18, prompt_tokens_details={"cached_tokens": 3}
        ),
    )
    assert parse_all(stream) == [
        expected_chunk(Delta(content="hi"), "stop"),
        ChatChunk("chatcmpl-1", "gpt-4o-2024-08-06", (), Usage(11, 7, 18, cache_read_tokens=3), 1720000000),
    ]


def test_missing_id_and_model_fall_back() -> None:
    stream = sse({"choices": [{"delta": {"content": "x"}, "finish_reason": "stop"}]})
    assert parse_all(stream) == [
        ChatChunk("", "gpt-4o", (ChunkChoice(0, Delta(content="x"), "stop"),), None, 0)
    ]


def test_anything_after_done_is_ignored() -> None:
    parser = ADAPTER.stream_parser(REQUEST)
    assert parser.feed(sse(chunk_json({"content": "a"}))) == [expected_chunk(Delta(content="a"))]
    assert parser.feed(b"data: not json at all\n\n") == []
    assert parser.close() == []


def test_done_in_the_same_feed_stops_processing() -> None:
    stream = sse(chunk_json({"content": "a"})) + b"data: garbage\n\n"
    assert parse_all(stream) == [expected_chunk(Delta(content="a"))]


def test_unterminated_done_is_dispatched_on_close() -> None:
    stream = sse(chunk_json({"content": "a"}), done=False) + b"data: [DONE]"
    assert parse_all(stream) == [expected_chunk(Delta(content="a"))]


def test_unterminated_last_chunk_is_returned_by_close() -> None:
    parser = ADAPTER.stream_parser(REQUEST)
    assert parser.feed(b'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}') == []
    assert parser.close() == [ChatChunk("", "gpt-4o", (ChunkChoice(0, Delta(), "stop"),))]


def test_keepalive_comments_and_empty_data_are_skipped() -> None:
    stream = b": OPENROUTER PROCESSING\n\ndata:\n\n" + sse(chunk_json({"content": "a"}, "stop"))
    assert parse_all(stream) == [expected_chunk(Delta(content="a"), "stop")]


# ---------------------------------------------------------------- completeness


def test_stream_cut_without_done_or_finish_raises_on_close() -> None:
    parser = ADAPTER.stream_parser(REQUEST)
    assert parser.feed(sse(chunk_json({"content": "partial"}), done=False)) == [
        expected_chunk(Delta(content="partial"))
    ]
    with pytest.raises(StreamInterruptedError) as caught:
        parser.close()
    assert "stream ended before it was complete (no [DONE] and no finish_reason)" in caught.value.message
    assert caught.value.provider == "openai"


def test_empty_stream_raises_on_close() -> None:
    with pytest.raises(StreamInterruptedError):
        parse_all(b"")


def test_stream_cut_inside_a_tool_call_event_raises_interrupted() -> None:
    stream = sse(chunk_json({"tool_calls": [{"index": 0, "id": "c", "function": {"name": "f"}}]}), done=False)
    stream += b'data: {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"argu'
    parser = ADAPTER.stream_parser(REQUEST)
    assert len(parser.feed(stream)) == 1
    with pytest.raises(StreamInterruptedError, match="not complete JSON"):
        parser.close()


def test_finish_reason_without_done_is_complete() -> None:
    assert parse_all(sse(chunk_json({"content": "a"}, "length"), done=False)) == [
        expected_chunk(Delta(content="a"), "length")
    ]


def test_cut_trailing_usage_after_finish_is_dropped() -> None:
    stream = sse(chunk_json({"content": "a"}, "stop"), done=False) + b'data: {"choices": [], "usa'
    assert parse_all(stream) == [expected_chunk(Delta(content="a"), "stop")]


# ---------------------------------------------------------------- errors inside the stream


def test_error_payload_mid_stream_raises_from_feed() -> None:
    parser = ADAPTER.stream_parser(REQUEST)
    assert parser.feed(sse(chunk_json({"content": "a"}), done=False)) == [expected_chunk(Delta(content="a"))]
    with pytest.raises(RateLimitError) as caught:
        parser.feed(
            b'data: {"error": {"message": "Rate limit reached for requests", "type": "requests"}}\n\n'
        )
    assert caught.value.status_code == 429
    assert caught.value.message == "openai error: Rate limit reached for requests"


def test_error_event_mid_stream_raises_overloaded() -> None:
    stream = (
        b"event: error\n"
        b'data: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n'
    )
    with pytest.raises(OverloadedError) as caught:
        ADAPTER.stream_parser(REQUEST).feed(stream)
    assert caught.value.status_code == 529


def test_error_payload_with_carried_status() -> None:
    stream = b'data: {"error": {"code": 502, "message": "Provider returned error"}}\n\n'
    with pytest.raises(ServerError) as caught:
        ADAPTER.stream_parser(REQUEST).feed(stream)
    assert caught.value.status_code == 502


def test_error_payload_with_context_overflow_status_400() -> None:
    stream = b'data: {"error": {"message": "maximum context length exceeded", "status": 400}}\n\n'
    with pytest.raises(ContextWindowExceededError) as caught:
        ADAPTER.stream_parser(REQUEST).feed(stream)
    assert caught.value.status_code == 400


def test_error_payload_without_status_is_server_error() -> None:
    with pytest.raises(ServerError) as caught:
        ADAPTER.stream_parser(REQUEST).feed(b'data: {"error": "internal failure"}\n\n')
    assert caught.value.status_code == 500


def test_error_raised_even_in_unterminated_final_event() -> None:
    parser = ADAPTER.stream_parser(REQUEST)
    parser.feed(b'data: {"error": {"message": "Overloaded"}}')
    with pytest.raises(OverloadedError):
        parser.close()


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"data: <html>\n\n", "not complete JSON"),
        (b"data: [1, 2]\n\n", "not a JSON object"),
        (b'data: {"choices": [{"delta": {"content": 5}}]}\n\n', "unexpected shape"),
        (b'data: {"choices": 3}\n\n', "unexpected shape"),
    ],
)
def test_malformed_events_raise(data: bytes, problem: str) -> None:
    with pytest.raises(MalformedResponseError) as caught:
        ADAPTER.stream_parser(REQUEST).feed(data)
    assert problem in caught.value.message
    assert caught.value.provider == "openai"


# ---------------------------------------------------------------- arbitrary splits


REALISTIC_STREAM = (
    b": connected\r\n\r\n"
    + b"data: "
    + json.dumps(
        chunk_json({"role": "assistant", "reasoning_content": "Réfléchir 🤔"}), ensure_ascii=False
    ).encode()
    + b"\r\n\r\n"
    + b"data: "
    + json.dumps(chunk_json({"content": "Caf\u00e9 "}), ensure_ascii=False).encode()
    + b"\r\n\r\n"
    # one JSON object spread over three data lines (joined with "\n", which JSON allows)
    + b'data: {"id": "chatcmpl-1", "created": 1720000000, "model": "gpt-4o-2024-08-06",\r\n'
    + b'data: "choices": [{"index": 0, "delta": {"content": "\xf0\x9f\x98\x80"},\r\n'
    + b'data:"finish_reason": null}]}\r\n\r\n'
    + b": ping\n"
    + b"data: "
    + json.dumps(
        chunk_json(
            {"tool_calls": [{"index": 0, "id": "call_1", "function": {"name": "f", "arguments": '{"q": "é'}}]}
        )
    ).encode()
    + b"\n\n"
    + b"data: "
    + json.dumps(
        chunk_json({"tool_calls": [{"index": 0, "function": {"arguments": '"}'}}]}, "tool_calls")
    ).encode()
    + b"\r\n\r\n"
    + b"data: "
    + json.dumps(usage_json(prompt_tokens=3, completion_tokens=4, total_tokens=7)).encode()
    + b"\r\n\r\n"
    + b"data: [DONE]\r\n\r\n"
)

REALISTIC_CHUNKS = [
    expected_chunk(Delta(role="assistant", reasoning="Réfléchir 🤔")),
    expected_chunk(Delta(content="Café ")),
    expected_chunk(Delta(content="😀")),
    expected_chunk(Delta(tool_calls=(ToolCallDelta(0, "call_1", "f", '{"q": "é'),))),
    expected_chunk(Delta(tool_calls=(ToolCallDelta(0, None, None, '"}'),)), "tool_calls"),
    ChatChunk("chatcmpl-1", "gpt-4o-2024-08-06", (), Usage(3, 4, 7), 1720000000),
]


def test_realistic_stream_whole() -> None:
    assert parse_all(REALISTIC_STREAM) == REALISTIC_CHUNKS


@given(st.lists(st.integers(min_value=0, max_value=len(REALISTIC_STREAM)), max_size=60))
def test_realistic_stream_survives_any_split(cuts: list[int]) -> None:
    assert parse_in_pieces(REALISTIC_STREAM, cuts) == REALISTIC_CHUNKS


def test_realistic_stream_byte_by_byte() -> None:
    assert parse_in_pieces(REALISTIC_STREAM, list(range(len(REALISTIC_STREAM)))) == REALISTIC_CHUNKS
