"""The codec against the real Strands SDK: events through process_stream, and the error mapping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from strands.event_loop.streaming import process_stream
from strands.types.exceptions import ContextWindowOverflowException, ModelThrottledException

from strands_portkey._strands_codec import StreamConverter, response_to_events, to_strands_exception
from strands_portkey.errors import (
    AuthenticationError,
    BadRequestError,
    ContextWindowExceededError,
    GatewayError,
    InvalidRequestError,
    MalformedResponseError,
    NotFoundError,
    OverloadedError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    StreamInterruptedError,
    UpstreamConnectionError,
)
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


def chunk(content: str | None = None, **delta: Any) -> ChatChunk:
    finish = delta.pop("finish", None)
    choice = ChunkChoice(index=0, delta=Delta(content=content, **delta), finish_reason=finish)
    return ChatChunk(id="c", model="m", choices=(choice,))


async def replay(events: list[Any]) -> AsyncIterator[Any]:
    for event in events:
        yield event


async def strands_result(events: list[Any]) -> tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Feed events to Strands' own stream processor; return (stop_reason, message, usage, metrics)."""
    stop: Any = None
    async for event in process_stream(replay(events)):
        if "stop" in event:
            stop = event["stop"]
    assert stop is not None
    return stop


def convert(chunks: list[ChatChunk], latency_ms: int) -> list[Any]:
    converter = StreamConverter()
    events: list[Any] = [event for item in chunks for event in converter.feed(item)]
    return events + converter.finish(latency_ms)


async def test_reasoning_text_and_tool_call_build_the_expected_message() -> None:
    events = convert(
        [
            chunk(reasoning="think "),
            chunk(reasoning="more", reasoning_signature="sig123"),
            chunk("Let me "),
            chunk("check."),
            chunk(tool_calls=(ToolCallDelta(0, id="call_1", name="get_weather"),)),
            chunk(tool_calls=(ToolCallDelta(0, arguments='{"city": '),)),
            chunk(tool_calls=(ToolCallDelta(0, arguments='"Paris"}'),), finish="tool_calls"),
            ChatChunk(id="c", model="m", usage=Usage(11, 7, 18, cache_read_tokens=3)),
        ],
        latency_ms=42,
    )
    stop_reason, message, usage, metrics = await strands_result(events)
    assert stop_reason == "tool_use"
    assert message == {
        "role": "assistant",
        "content": [
            {"reasoningContent": {"reasoningText": {"text": "think more", "signature": "sig123"}}},
            {"text": "Let me check."},
            {"toolUse": {"toolUseId": "call_1", "name": "get_weather", "input": {"city": "Paris"}}},
        ],
    }
    assert usage == {"inputTokens": 11, "outputTokens": 7, "totalTokens": 18, "cacheReadInputTokens": 3}
    assert metrics["latencyMs"] == 42


async def test_parallel_tool_calls_become_two_tool_uses() -> None:
    events = convert(
        [
            chunk(
                tool_calls=(
                    ToolCallDelta(0, id="call_a", name="get_weather", arguments='{"city": "Paris"}'),
                    ToolCallDelta(1, name="get_weather", arguments='{"city": "Rome"}'),
                ),
                finish="tool_calls",
            )
        ],
        latency_ms=1,
    )
    stop_reason, message, _, _ = await strands_result(events)
    generated = message["content"][1]["toolUse"]["toolUseId"]
    assert generated.startswith("call_")
    assert stop_reason == "tool_use"
    assert message["content"] == [
        {"toolUse": {"toolUseId": "call_a", "name": "get_weather", "input": {"city": "Paris"}}},
        {"toolUse": {"toolUseId": generated, "name": "get_weather", "input": {"city": "Rome"}}},
    ]


async def test_cut_tool_call_reports_max_tokens_to_strands() -> None:
    events = convert(
        [chunk(tool_calls=(ToolCallDelta(0, id="c", name="f", arguments='{"x": '),)), chunk(finish="length")],
        1,
    )
    stop_reason, message, _, _ = await strands_result(events)
    assert stop_reason == "max_tokens"
    assert message["content"] == [{"toolUse": {"toolUseId": "c", "name": "f", "input": {}}}]


async def test_empty_answer_is_a_clean_end_turn() -> None:
    stop_reason, message, usage, _ = await strands_result(convert([], 0))
    assert (stop_reason, message) == ("end_turn", {"role": "assistant", "content": []})
    assert usage == {"inputTokens": 0, "outputTokens": 0, "totalTokens": 0}


async def test_non_streamed_response_builds_the_same_message() -> None:
    message = ResponseMessage(
        content="Checking.",
        reasoning="plan",
        tool_calls=(ToolCall("call_a", "get_weather", '{"city": "Rome"}'),),
    )
    answer = ChatResponse(
        id="r", model="m", choices=(Choice(0, message, "tool_calls"),), usage=Usage(3, 4, 7)
    )
    stop_reason, built, usage, metrics = await strands_result(response_to_events(answer, 9))
    assert stop_reason == "tool_use"
    assert built["content"] == [
        {"reasoningContent": {"reasoningText": {"text": "plan"}}},
        {"text": "Checking."},
        {"toolUse": {"toolUseId": "call_a", "name": "get_weather", "input": {"city": "Rome"}}},
    ]
    assert (usage, metrics["latencyMs"]) == ({"inputTokens": 3, "outputTokens": 4, "totalTokens": 7}, 9)


# --------------------------------------------------------------------------- error mapping


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            RateLimitError("slow down", retry_after=2.0, provider="openai", status_code=429),
            ModelThrottledException,
        ),
        (OverloadedError("overloaded", provider="anthropic"), ModelThrottledException),
        (
            ContextWindowExceededError("prompt too long", code="context_length_exceeded"),
            ContextWindowOverflowException,
        ),
    ],
)
def test_strands_relevant_errors_are_mapped(error: GatewayError, expected: type[Exception]) -> None:
    mapped = to_strands_exception(error)
    assert type(mapped) is expected
    assert str(mapped) == str(error)
    assert mapped.__cause__ is error


@pytest.mark.parametrize(
    "error",
    [
        BadRequestError("invalid tool schema"),
        AuthenticationError("bad key"),
        NotFoundError("no such model"),
        ServerError("boom"),
        UpstreamConnectionError("refused"),
        RequestTimeoutError("slow"),
        MalformedResponseError("not json"),
        StreamInterruptedError("cut"),
        InvalidRequestError("bad", path="request.model"),
        GatewayError("generic"),
    ],
)
def test_other_errors_pass_through_unchanged(error: GatewayError) -> None:
    assert to_strands_exception(error) is error


def test_mapped_error_chains_when_raised() -> None:
    error = RateLimitError("429 from upstream", status_code=429)
    mapped = to_strands_exception(error)
    with pytest.raises(ModelThrottledException) as caught:
        raise mapped from error
    assert caught.value.__cause__ is error
    assert caught.value.message == "429 from upstream (status=429)"
