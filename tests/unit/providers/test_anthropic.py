from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from strands_portkey.errors import InvalidRequestError, MalformedResponseError, StreamInterruptedError
from strands_portkey.providers.anthropic import AnthropicAdapter
from strands_portkey.providers.base import Target
from strands_portkey.types import ChatRequest
from strands_portkey.wire import Secret

from .wire_fixtures import ANTHROPIC, TEXT, WEATHER, sse_events

ADAPTER = AnthropicAdapter()
TARGET = Target("anthropic", "https://api.anthropic.com/v1", Secret("sk-ant-canary-123"))
PNG = base64.b64encode(b"\x89PNG fake").decode()


def build(body: dict[str, Any], target: Target = TARGET) -> tuple[dict[str, Any], Any]:
    http = ADAPTER.build_request(ChatRequest.from_body({"model": "claude", **body}), target)
    return http.json, http


def test_headers_url_and_secrets() -> None:
    target = Target(
        "anthropic", "http://127.0.0.1:9/v1/", Secret("sk-ant-canary-123"), {}, {"anthropic_beta": ["a", "b"]}
    )
    sent, http = build({"messages": [{"role": "user", "content": "hi"}], "stream": True}, target)
    assert http.url == "http://127.0.0.1:9/v1/messages"
    assert http.headers["x-api-key"] == "sk-ant-canary-123"
    assert http.headers["anthropic-version"] == "2023-06-01"
    assert http.headers["anthropic-beta"] == "a,b"
    assert http.headers["accept"] == "text/event-stream"
    assert "sk-ant-canary-123" in http.secrets
    assert "canary" not in repr(http) + repr(target)
    assert sent["stream"] is True
    assert sent["max_tokens"] == 4096


def test_system_tools_turns_and_parameters() -> None:
    sent, _ = build(
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "look"},
                        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                    ],
                },
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                        },
                        {"id": "c2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "Sunny"},
                {"role": "tool", "tool_call_id": "c2", "content": "Error: no clock"},
                {"role": "user", "content": "thanks"},
            ],
            "tools": [
                {
                    "type": "function",
                    "function": {"name": "get_weather", "description": "w", "parameters": {"type": "object"}},
                }
            ],
            "tool_choice": "required",
            "parallel_tool_calls": False,
            "max_tokens": 100,
            "stop": "END",
            "user": "u1",
            "top_k": 5,
            "seed": 1,
            "stream_options": {"include_usage": True},
        }
    )
    assert sent["system"] == "Be brief."
    assert [turn["role"] for turn in sent["messages"]] == ["user", "assistant", "user"]
    assert sent["messages"][0]["content"][1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": PNG},
    }
    assert sent["messages"][1]["content"] == [
        {"type": "tool_use", "id": "c1", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "c2", "name": "get_time", "input": {}},
    ]
    results = sent["messages"][2]["content"]
    assert results[0] == {"type": "tool_result", "tool_use_id": "c1", "content": "Sunny"}
    assert results[1]["is_error"] is True
    assert results[2] == {"type": "text", "text": "thanks"}
    assert sent["tools"] == [{"name": "get_weather", "input_schema": {"type": "object"}, "description": "w"}]
    assert sent["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}
    assert (sent["max_tokens"], sent["stop_sequences"], sent["metadata"], sent["top_k"]) == (
        100,
        ["END"],
        {"user_id": "u1"},
        5,
    )
    assert not {"seed", "stream_options", "stop", "user", "parallel_tool_calls"} & set(sent)


def test_cache_control_keeps_system_blocks() -> None:
    sent, _ = build(
        {
            "messages": [
                {
                    "role": "system",
                    "content": [{"type": "text", "text": "long", "cache_control": {"type": "ephemeral"}}],
                },
                {"role": "user", "content": "q"},
            ]
        }
    )
    assert sent["system"] == [{"type": "text", "text": "long", "cache_control": {"type": "ephemeral"}}]


def test_signed_thinking_goes_back_and_unsigned_reasoning_does_not() -> None:
    signed = {"type": "thinking", "thinking": "hmm", "signature": "sig-1"}
    redacted = {"type": "redacted_thinking", "data": base64.b64encode(b"opaque").decode()}
    sent, _ = build(
        {
            "messages": [
                {"role": "user", "content": "q"},
                {
                    "role": "assistant",
                    "content": "a",
                    "reasoning_content": "hmm",
                    "thinking_blocks": [signed, redacted],
                },
                {"role": "user", "content": "q2"},
                {"role": "assistant", "content": "b", "reasoning_content": "from another provider"},
                {"role": "user", "content": "q3"},
            ]
        }
    )
    assert sent["messages"][1]["content"] == [
        signed,
        {"type": "redacted_thinking", "data": "opaque"},
        {"type": "text", "text": "a"},
    ]
    assert sent["messages"][3]["content"] == [{"type": "text", "text": "b"}]


def test_documents() -> None:
    text = base64.b64encode(b"hello doc").decode()
    sent, _ = build(
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "file",
                            "file": {"file_data": f"data:text/plain;base64,{text}", "filename": "a.txt"},
                        },
                        {
                            "type": "file",
                            "file": {"file_data": f"data:application/pdf;base64,{PNG}", "filename": "b.pdf"},
                        },
                    ],
                }
            ]
        }
    )
    blocks = sent["messages"][0]["content"]
    assert blocks[0]["source"] == {"type": "text", "media_type": "text/plain", "data": "hello doc"}
    assert blocks[1]["source"]["media_type"] == "application/pdf"
    with pytest.raises(InvalidRequestError, match=r"request.messages\[0\].content\[0\].file.file_data"):
        build(
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "file", "file": {"file_data": f"data:application/zip;base64,{PNG}"}}
                        ],
                    }
                ]
            }
        )


def test_bad_tool_arguments_name_the_path() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{not json"}}
    with pytest.raises(
        InvalidRequestError, match=r"request.messages\[1\].tool_calls\[0\].function.arguments"
    ):
        build(
            {
                "messages": [
                    {"role": "user", "content": "q"},
                    {"role": "assistant", "content": None, "tool_calls": [call]},
                ]
            }
        )


def test_thinking_response_and_stream_with_signature() -> None:
    request = ChatRequest.from_body({"model": "claude", "messages": [{"role": "user", "content": "q"}]})
    body = json.dumps(
        {
            "id": "m",
            "model": "claude",
            "stop_reason": "end_turn",
            "usage": {},
            "content": [
                {"type": "thinking", "thinking": "let me see", "signature": "sig"},
                {"type": "text", "text": "42"},
            ],
        }
    ).encode()
    from strands_portkey.wire import HttpResponse

    message = ADAPTER.parse_response(HttpResponse(200, {}, body), request).message
    assert (message.reasoning, message.reasoning_signature, message.content) == ("let me see", "sig", "42")
    stream = sse_events(
        (
            "message_start",
            {
                "type": "message_start",
                "message": {"id": "m", "model": "claude", "usage": {"input_tokens": 3}},
            },
        ),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "thinking", "thinking": ""},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "thinking_delta", "thinking": "let me see"},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "signature_delta", "signature": "sig"},
            },
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 4}},
        ),
        ("message_stop", {"type": "message_stop"}),
    )
    parser = ADAPTER.stream_parser(request)
    chunks = parser.feed(stream) + parser.close()
    deltas = [c.delta for chunk in chunks for c in chunk.choices]
    assert "".join(d.reasoning or "" for d in deltas) == "let me see"
    assert [d.reasoning_signature for d in deltas if d.reasoning_signature] == ["sig"]
    assert chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (3, 4)


def parse(stream: bytes) -> list[Any]:
    parser = ADAPTER.stream_parser(
        ChatRequest.from_body({"model": "c", "messages": [{"role": "user", "content": "q"}]})
    )
    return parser.feed(stream) + parser.close()


def test_pings_are_skipped_and_any_split_gives_the_same_chunks() -> None:
    whole = ANTHROPIC.text_stream(False)
    expected = parse(whole)
    assert "".join(c.delta.content or "" for chunk in expected for c in chunk.choices) == TEXT
    for size in (1, 3, 64):
        parser = ADAPTER.stream_parser(
            ChatRequest.from_body({"model": "c", "messages": [{"role": "user", "content": "q"}]})
        )
        chunks = []
        for start in range(0, len(whole), size):
            chunks += parser.feed(whole[start : start + size])
        assert chunks + parser.close() == expected


@pytest.mark.parametrize(
    ("event", "match"),
    [
        (
            ("mystery_event", {"type": "mystery_event"}),
            "anthropic sent an unknown event type 'mystery_event'",
        ),
        (
            (
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "laser_delta"}},
            ),
            "unknown delta type 'laser_delta'",
        ),
        (
            (
                "content_block_delta",
                {"type": "content_block_delta", "index": 7, "delta": {"type": "text_delta", "text": "x"}},
            ),
            "content block 7, which never started",
        ),
        (
            ("content_block_start", {"type": "content_block_start", "index": 1}),
            "content_block_start event of unexpected shape",
        ),
        (("content_block_delta", "{not json"), "not complete JSON"),
    ],
)
def test_unexpected_events_are_clear_errors(event: tuple[str, Any], match: str) -> None:
    start = ("message_start", {"type": "message_start", "message": {"id": "m", "usage": {}}})
    block = (
        "content_block_start",
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text"}},
    )
    with pytest.raises(MalformedResponseError, match=match):
        parse(sse_events(start, block, event))


def test_stream_without_stop_is_interrupted() -> None:
    whole = ANTHROPIC.calls_stream([WEATHER])
    cut = whole[: whole.index(b"event: message_delta")]
    with pytest.raises(StreamInterruptedError, match="anthropic stream ended before it was complete"):
        parse(cut)


def test_response_format_json_tool_streams_as_text() -> None:
    request = ChatRequest.from_body(
        {
            "model": "c",
            "messages": [{"role": "user", "content": "q"}],
            "stream": True,
            "response_format": {"type": "json_object"},
        }
    )
    sent = ADAPTER.build_request(request, TARGET).json
    assert sent["tool_choice"] == {"type": "tool", "name": "json_output"}
    stream = ANTHROPIC.calls_stream([("toolu_1", "json_output", {"a": 1})]).replace(
        b'"tool_use"}', b'"end_turn"}'
    )
    parser = ADAPTER.stream_parser(request)
    chunks = parser.feed(stream) + parser.close()
    assert json.loads("".join(c.delta.content or "" for chunk in chunks for c in chunk.choices)) == {"a": 1}
    assert not any(c.delta.tool_calls for chunk in chunks for c in chunk.choices)
