"""Canonical chunks -> Strands StreamEvents (contract sections 5, 7, 10.2): full event lists."""

from __future__ import annotations

import re
from typing import Any

import pytest

from strands_portkey._strands_codec import StreamConverter, response_to_events, usage_to_strands
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


def chunk(
    content: str | None = None,
    *,
    reasoning: str | None = None,
    signature: str | None = None,
    tools: tuple[ToolCallDelta, ...] = (),
    finish: str | None = None,
    index: int = 0,
) -> ChatChunk:
    delta = Delta(content=content, reasoning=reasoning, reasoning_signature=signature, tool_calls=tools)
    return ChatChunk(
        id="c1", model="m", choices=(ChunkChoice(index=index, delta=delta, finish_reason=finish),)
    )


def usage_chunk(prompt: int, completion: int, total: int, **cache: int) -> ChatChunk:
    return ChatChunk(id="c1", model="m", usage=Usage(prompt, completion, total, **cache))


def frag(index: int, arguments: str = "", id: str | None = None, name: str | None = None) -> ToolCallDelta:
    return ToolCallDelta(index=index, id=id, name=name, arguments=arguments)


def run(chunks: list[ChatChunk], latency_ms: int = 0) -> list[Any]:
    converter = StreamConverter()
    events: list[Any] = []
    for item in chunks:
        events.extend(converter.feed(item))
    events.extend(converter.finish(latency_ms))
    return events


START = {"messageStart": {"role": "assistant"}}
OPEN = {"contentBlockStart": {"start": {}}}
STOP = {"contentBlockStop": {}}


def text(value: str) -> dict[str, Any]:
    return {"contentBlockDelta": {"delta": {"text": value}}}


def think(value: str) -> dict[str, Any]:
    return {"contentBlockDelta": {"delta": {"reasoningContent": {"text": value}}}}


def tool_start(tool_id: str, name: str) -> dict[str, Any]:
    return {"contentBlockStart": {"start": {"toolUse": {"toolUseId": tool_id, "name": name}}}}


def tool_input(value: str) -> dict[str, Any]:
    return {"contentBlockDelta": {"delta": {"toolUse": {"input": value}}}}


def message_stop(reason: str) -> dict[str, Any]:
    return {"messageStop": {"stopReason": reason}}


def metadata(prompt: int, completion: int, total: int, latency: int, **cache: int) -> dict[str, Any]:
    usage = {"inputTokens": prompt, "outputTokens": completion, "totalTokens": total, **cache}
    return {"metadata": {"usage": usage, "metrics": {"latencyMs": latency}}}


def test_text_only() -> None:
    """Contract 5.2."""
    events = run(
        [
            chunk("The capital of France "),
            chunk("is Paris."),
            chunk(finish="stop"),
            usage_chunk(12, 8, 20),
        ],
        latency_ms=310,
    )
    assert events == [
        START,
        OPEN,
        text("The capital of France "),
        text("is Paris."),
        STOP,
        message_stop("end_turn"),
        metadata(12, 8, 20, 310),
    ]


def test_text_then_tool_call_closes_text_first() -> None:
    """Contract 5.3: the text block is closed before the tool block opens."""
    events = run(
        [
            chunk("Let me check "),
            chunk("the weather."),
            chunk(tools=(frag(0, "", id="tooluse_1", name="get_weather"),)),
            chunk(tools=(frag(0, '{"city": '),)),
            chunk(tools=(frag(0, '"Paris"}'),)),
            chunk(finish="tool_calls"),
            usage_chunk(10, 5, 15),
        ],
        latency_ms=42,
    )
    assert events == [
        START,
        OPEN,
        text("Let me check "),
        text("the weather."),
        STOP,
        tool_start("tooluse_1", "get_weather"),
        tool_input('{"city": '),
        tool_input('"Paris"}'),
        STOP,
        message_stop("tool_use"),
        metadata(10, 5, 15, 42),
    ]


def test_parallel_tool_calls() -> None:
    """Contract 5.4: two complete tool blocks, no text block at all."""
    events = run(
        [
            chunk(
                tools=(
                    frag(0, '{"city": "Paris"}', id="call_a", name="get_weather"),
                    frag(1, '{"city": "Rome"}', id="call_b", name="get_weather"),
                ),
                finish="tool_calls",
            ),
            usage_chunk(30, 24, 54),
        ],
        latency_ms=95,
    )
    assert events == [
        START,
        tool_start("call_a", "get_weather"),
        tool_input('{"city": "Paris"}'),
        STOP,
        tool_start("call_b", "get_weather"),
        tool_input('{"city": "Rome"}'),
        STOP,
        message_stop("tool_use"),
        metadata(30, 24, 54, 95),
    ]


def test_reasoning_then_text_with_signature() -> None:
    """Contract 5.5: reasoning and text in separate blocks, signature as a reasoning delta."""
    events = run(
        [
            chunk(reasoning="think "),
            chunk(reasoning="more"),
            chunk(signature="sig123"),
            chunk("42", finish="stop"),
            usage_chunk(9, 40, 49),
        ],
        latency_ms=800,
    )
    assert events == [
        START,
        OPEN,
        think("think "),
        think("more"),
        {"contentBlockDelta": {"delta": {"reasoningContent": {"signature": "sig123"}}}},
        STOP,
        OPEN,
        text("42"),
        STOP,
        message_stop("end_turn"),
        metadata(9, 40, 49, 800),
    ]


def test_text_then_reasoning_again_switches_blocks() -> None:
    events = run([chunk("a"), chunk(reasoning="r"), chunk("b"), chunk(finish="stop")])
    assert events == [
        START,
        OPEN,
        text("a"),
        STOP,
        OPEN,
        think("r"),
        STOP,
        OPEN,
        text("b"),
        STOP,
        message_stop("end_turn"),
        metadata(0, 0, 0, 0),
    ]


def test_contract_10_2_sequence() -> None:
    """Reasoning, text, a two-fragment tool call and a trailing usage chunk with cached tokens."""
    events = run(
        [
            chunk(reasoning="thinking..."),
            chunk("Let me "),
            chunk("check."),
            chunk(tools=(frag(0, "", id="call_1", name="get_weather"),)),
            chunk(tools=(frag(0, '{"city": '),)),
            chunk(tools=(frag(0, '"Paris"}'),), finish="tool_calls"),
            usage_chunk(11, 7, 18, cache_read_tokens=3),
        ]
    )
    assert events == [
        START,
        OPEN,
        think("thinking..."),
        STOP,
        OPEN,
        text("Let me "),
        text("check."),
        STOP,
        tool_start("call_1", "get_weather"),
        tool_input('{"city": '),
        tool_input('"Paris"}'),
        STOP,
        message_stop("tool_use"),
        metadata(11, 7, 18, 0, cacheReadInputTokens=3),
    ]


def test_tool_fragments_interleaved_across_two_indices() -> None:
    events = run(
        [
            chunk(tools=(frag(0, "", id="call_a", name="f"),)),
            chunk(tools=(frag(1, '{"y"', id="call_b", name="g"),)),
            chunk(tools=(frag(0, '{"x": 1}'),)),
            chunk(tools=(frag(1, ": 2}"),)),
            chunk(finish="tool_calls"),
        ]
    )
    assert events == [
        START,
        tool_start("call_a", "f"),
        tool_input('{"x": 1}'),
        STOP,
        tool_start("call_b", "g"),
        tool_input('{"y"'),
        tool_input(": 2}"),
        STOP,
        message_stop("tool_use"),
        metadata(0, 0, 0, 0),
    ]


def test_id_and_name_come_from_the_first_fragment_that_has_them() -> None:
    events = run(
        [
            chunk(tools=(frag(0, '{"a"'),)),
            chunk(tools=(frag(0, ": 1}", id="call_late", name="late"),)),
            chunk(tools=(frag(0, "", id="call_late", name="ignored"),)),
            chunk(finish="tool_calls"),
        ]
    )
    assert events[1:5] == [tool_start("call_late", "late"), tool_input('{"a"'), tool_input(": 1}"), STOP]


def test_distinct_ids_at_the_same_index_are_separate_calls() -> None:
    events = run(
        [
            chunk(tools=(frag(0, "{}", id="call_a", name="f"),)),
            chunk(tools=(frag(0, '{"q": 1}', id="call_b", name="g"),)),
            chunk(finish="tool_calls"),
        ]
    )
    assert events == [
        START,
        tool_start("call_a", "f"),
        tool_input("{}"),
        STOP,
        tool_start("call_b", "g"),
        tool_input('{"q": 1}'),
        STOP,
        message_stop("tool_use"),
        metadata(0, 0, 0, 0),
    ]


def test_missing_tool_id_is_generated() -> None:
    events = run([chunk(tools=(frag(0, "", name="now"),), finish="tool_calls")])
    tool_id = events[1]["contentBlockStart"]["start"]["toolUse"]["toolUseId"]
    assert re.fullmatch(r"call_[0-9a-f]{32}", tool_id)
    assert events == [
        START,
        tool_start(tool_id, "now"),
        tool_input(""),  # no argument text at all: still exactly one (empty) delta
        STOP,
        message_stop("tool_use"),
        metadata(0, 0, 0, 0),
    ]


def test_length_with_a_pending_tool_call_reports_max_tokens() -> None:
    """#4135: a cut tool call must not run; the truncated block is still emitted (see module doc)."""
    events = run(
        [
            chunk("Calling."),
            chunk(tools=(frag(0, '{"city": "Pa', id="call_1", name="get_weather"),)),
            chunk(finish="length"),
        ]
    )
    assert events == [
        START,
        OPEN,
        text("Calling."),
        STOP,
        tool_start("call_1", "get_weather"),
        tool_input('{"city": "Pa'),
        STOP,
        message_stop("max_tokens"),
        metadata(0, 0, 0, 0),
    ]


def test_empty_answer_still_has_start_stop_and_metadata() -> None:
    assert run([]) == [START, message_stop("end_turn"), metadata(0, 0, 0, 0)]
    assert run([chunk(""), chunk(finish="stop")]) == [START, message_stop("end_turn"), metadata(0, 0, 0, 0)]


def test_stream_without_finish_reason_is_closed_by_finish() -> None:
    events = run([chunk("hi"), chunk(tools=(frag(0, "{}", id="c", name="f"),))], latency_ms=5)
    assert events == [
        START,
        OPEN,
        text("hi"),
        STOP,
        tool_start("c", "f"),
        tool_input("{}"),
        STOP,
        message_stop("tool_use"),
        metadata(0, 0, 0, 5),
    ]


def test_usage_with_cache_tokens_and_usage_before_finish() -> None:
    events = run(
        [
            usage_chunk(1, 1, 2),
            chunk("x", finish="stop"),
            usage_chunk(100, 5, 105, cache_read_tokens=80, cache_write_tokens=20),
        ]
    )
    assert events[-1] == metadata(100, 5, 105, 0, cacheReadInputTokens=80, cacheWriteInputTokens=20)


def test_content_after_the_finish_reason_is_ignored_and_other_choices_too() -> None:
    events = run([chunk("a", finish="stop"), chunk("late"), chunk("other choice", index=1)])
    assert events == [START, OPEN, text("a"), STOP, message_stop("end_turn"), metadata(0, 0, 0, 0)]


def test_a_text_chunk_costs_one_event() -> None:
    converter = StreamConverter()
    converter.feed(chunk("first"))
    assert converter.feed(chunk("second")) == [text("second")]


def test_finish_twice_returns_nothing_the_second_time() -> None:
    converter = StreamConverter()
    converter.feed(chunk("a"))
    assert converter.finish(1)[-1] == metadata(0, 0, 0, 1)
    assert converter.finish(2) == []


@pytest.mark.parametrize(
    ("finish", "with_tool", "expected"),
    [
        ("stop", False, "end_turn"),
        (None, False, "end_turn"),
        ("tool_calls", False, "end_turn"),  # nothing to run: Strands would loop back with no tool
        ("length", False, "max_tokens"),
        ("content_filter", False, "content_filtered"),
        ("error", False, "end_turn"),
        ("something_new", False, "end_turn"),
        ("end_turn", False, "end_turn"),
        ("max_tokens", False, "max_tokens"),
        ("stop_sequence", False, "stop_sequence"),
        ("tool_calls", True, "tool_use"),
        ("stop", True, "tool_use"),
        (None, True, "tool_use"),
        ("something_new", True, "tool_use"),
        ("length", True, "max_tokens"),
        ("content_filter", True, "content_filtered"),
        ("tool_use", True, "tool_use"),
    ],
)
def test_finish_reason_table(finish: str | None, with_tool: bool, expected: str) -> None:
    tools = (frag(0, "{}", id="c", name="f"),) if with_tool else ()
    events = run([chunk("x", tools=tools, finish=finish)])
    assert [e for e in events if "messageStop" in e] == [message_stop(expected)]


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        (Usage(3, 4, 7), {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7}),
        (Usage(3, 4, 0), {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7}),
        (Usage(0, 0, 0), {"inputTokens": 0, "outputTokens": 0, "totalTokens": 0}),
        (
            Usage(10, 2, 12, cache_read_tokens=6),
            {"inputTokens": 10, "outputTokens": 2, "totalTokens": 12, "cacheReadInputTokens": 6},
        ),
        (
            Usage(10, 2, 12, cache_read_tokens=0, cache_write_tokens=9),
            {"inputTokens": 10, "outputTokens": 2, "totalTokens": 12, "cacheWriteInputTokens": 9},
        ),
    ],
)
def test_usage_to_strands(usage: Usage, expected: dict[str, int]) -> None:
    assert usage_to_strands(usage) == expected


# --------------------------------------------------------------------------- non-streamed responses


def response(message: ResponseMessage, finish: str | None, usage: Usage) -> ChatResponse:
    return ChatResponse(
        id="r1", model="m", choices=(Choice(index=0, message=message, finish_reason=finish),), usage=usage
    )


def test_response_to_events_text_matches_the_stream_path() -> None:
    events = response_to_events(response(ResponseMessage(content="Hello."), "stop", Usage(5, 2, 7)), 12)
    streamed = run([chunk("Hello."), chunk(finish="stop"), usage_chunk(5, 2, 7)], latency_ms=12)
    assert (
        events
        == streamed
        == [START, OPEN, text("Hello."), STOP, message_stop("end_turn"), metadata(5, 2, 7, 12)]
    )


def test_response_to_events_tool_calls_match_the_stream_path() -> None:
    message = ResponseMessage(
        content="Checking.",
        reasoning="need weather",
        reasoning_signature="sig",
        tool_calls=(
            ToolCall("call_a", "get_weather", '{"city": "Paris"}'),
            ToolCall("call_b", "get_time", ""),
        ),
    )
    events = response_to_events(response(message, "tool_calls", Usage(8, 9, 17, cache_read_tokens=4)), 30)
    streamed = run(
        [
            chunk(reasoning="need weather", signature="sig"),
            chunk("Checking."),
            chunk(tools=(frag(0, '{"city": "Paris"}', id="call_a", name="get_weather"),)),
            chunk(tools=(frag(1, "", id="call_b", name="get_time"),)),
            chunk(finish="tool_calls"),
            usage_chunk(8, 9, 17, cache_read_tokens=4),
        ],
        latency_ms=30,
    )
    assert events == streamed
    assert events == [
        START,
        OPEN,
        think("need weather"),
        {"contentBlockDelta": {"delta": {"reasoningContent": {"signature": "sig"}}}},
        STOP,
        OPEN,
        text("Checking."),
        STOP,
        tool_start("call_a", "get_weather"),
        tool_input('{"city": "Paris"}'),
        STOP,
        tool_start("call_b", "get_time"),
        tool_input(""),
        STOP,
        message_stop("tool_use"),
        metadata(8, 9, 17, 30, cacheReadInputTokens=4),
    ]


def test_response_without_choices() -> None:
    empty = ChatResponse(id="r", model="m", choices=(), usage=Usage(4, 0, 4))
    assert response_to_events(empty, 3) == [START, message_stop("end_turn"), metadata(4, 0, 4, 3)]


def test_response_length_maps_to_max_tokens() -> None:
    events = response_to_events(response(ResponseMessage(content="cut"), "length", Usage()), 1)
    assert events == [START, OPEN, text("cut"), STOP, message_stop("max_tokens"), metadata(0, 0, 0, 1)]
