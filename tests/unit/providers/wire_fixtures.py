"""Wire fixtures for every provider format, written from each provider's API reference.

One :class:`WireFormat` per family (OpenAI chat completions, Anthropic Messages, Bedrock
Converse, Gemini generateContent) produces the same scenarios in that provider's own bytes:
a text answer, a tool call, parallel tool calls, a JSON answer, usage with cache counts,
error answers by class, and the same as streams (SSE or AWS event-stream frames).

A call is ``(id, name, arguments-dict)``. The conformance suite asserts that every adapter turns
these into the same canonical answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strands_portkey.providers._eventstream import encode_message

Call = tuple[str, str, dict[str, Any]]
ErrorAnswer = tuple[int, dict[str, str], bytes]

TEXT_PIECES = ("Hello", " there", "!")
TEXT = "".join(TEXT_PIECES)
WEATHER = ("call_1", "get_weather", {"city": "Paris"})
TIME = ("call_2", "get_time", {"zone": "CET"})
ANSWER = {"name": "Paris", "country": "France"}
# usage: 10 uncached input tokens, 7 output tokens, 5 read from cache, 3 written to cache
USAGE = {"input": 10, "output": 7, "read": 5, "write": 3}


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def sse_events(*events: tuple[str | None, object], crlf: bool = False) -> bytes:
    """SSE text: ``event:`` lines where named, ``data:`` JSON payloads (or raw strings)."""
    end = "\r\n" if crlf else "\n"
    out = []
    for name, payload in events:
        data = payload if isinstance(payload, str) else _dumps(payload)
        out.append((f"event: {name}{end}" if name else "") + f"data: {data}{end}{end}")
    return "".join(out).encode()


@dataclass(frozen=True)
class WireFormat:
    """How one family of providers speaks; every method returns that provider's bytes."""

    name: str
    stream_content_type: str
    text: Callable[[bool], bytes]
    text_stream: Callable[[bool], bytes]
    calls: Callable[[list[Call]], bytes]
    calls_stream: Callable[[list[Call]], bytes]
    json_answer: Callable[[dict[str, Any]], bytes]
    errors: dict[str, ErrorAnswer]
    stream_error: bytes  # a stream that reports an overloaded/throttled error mid-way
    reports_cache_write: bool
    forced_tool: Callable[[dict[str, Any]], str | None]  # the forced tool's name in a sent body


# --------------------------------------------------------------------------- OpenAI chat completions


def _oa_usage(with_cache: bool) -> dict[str, Any]:
    prompt = USAGE["input"] + (USAGE["read"] if with_cache else 0)
    usage: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": USAGE["output"]}
    usage["total_tokens"] = prompt + USAGE["output"]
    if with_cache:
        usage["prompt_tokens_details"] = {"cached_tokens": USAGE["read"]}
    return usage


def _oa_completion(message: dict[str, Any], finish: str, with_cache: bool = False) -> bytes:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1720000000,
        "model": "m-2024",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}],
        "usage": _oa_usage(with_cache),
    }
    return _dumps(body).encode()


def _oa_chunk(delta: dict[str, Any], finish: str | None = None, usage: dict[str, Any] | None = None) -> dict:
    chunk: dict[str, Any] = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1720000000}
    chunk["model"] = "m-2024"
    chunk["choices"] = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    if usage is not None:
        chunk["usage"] = usage
    return chunk


def _oa_stream(chunks: list[dict[str, Any]], with_cache: bool = False) -> bytes:
    events = [(None, c) for c in chunks]
    events.append((None, _oa_chunk(None, usage=_oa_usage(with_cache))))  # type: ignore[arg-type]
    return sse_events(*events, (None, "[DONE]"))


def _oa_tool_calls(calls: list[Call]) -> list[dict[str, Any]]:
    return [
        {"id": i, "type": "function", "function": {"name": n, "arguments": _dumps(a)}} for i, n, a in calls
    ]


def _oa_calls_stream(calls: list[Call]) -> bytes:
    chunks = [_oa_chunk({"role": "assistant", "content": None})]
    for index, (call_id, name, args) in enumerate(calls):
        text = _dumps(args)
        head = {
            "index": index,
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }
        chunks.append(_oa_chunk({"tool_calls": [head]}))
        for piece in (text[: len(text) // 2], text[len(text) // 2 :]):
            chunks.append(_oa_chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}))
    chunks.append(_oa_chunk({}, "tool_calls"))
    return _oa_stream(chunks)


def _oa_error(status: int, message: str, kind: str, code: str | None) -> ErrorAnswer:
    return (
        status,
        {},
        _dumps({"error": {"message": message, "type": kind, "param": None, "code": code}}).encode(),
    )


def _oa_forced(body: dict[str, Any]) -> str | None:
    choice = body.get("tool_choice")
    return choice["function"]["name"] if isinstance(choice, dict) else None


OPENAI = WireFormat(
    name="openai",
    stream_content_type="text/event-stream",
    text=lambda cache: _oa_completion({"content": TEXT}, "stop", cache),
    text_stream=lambda cache: _oa_stream(
        [_oa_chunk({"role": "assistant", "content": ""})]
        + [_oa_chunk({"content": p}) for p in TEXT_PIECES]
        + [_oa_chunk({}, "stop")],
        cache,
    ),
    calls=lambda calls: _oa_completion({"content": None, "tool_calls": _oa_tool_calls(calls)}, "tool_calls"),
    calls_stream=_oa_calls_stream,
    json_answer=lambda answer: _oa_completion({"content": _dumps(answer)}, "stop"),
    errors={
        "throttled": _oa_error(429, "Rate limit reached for requests", "requests", "rate_limit_exceeded"),
        "context": _oa_error(
            400,
            "This model's maximum context length is 128000 tokens.",
            "invalid_request_error",
            "context_length_exceeded",
        ),
        "auth": _oa_error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
        "bad_request": _oa_error(400, "Invalid value for 'temperature'.", "invalid_request_error", None),
        "server": _oa_error(500, "The server had an error processing your request.", "server_error", None),
    },
    stream_error=sse_events(
        (None, _oa_chunk({"role": "assistant", "content": "Hel"})),
        (
            "error",
            {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}},
        ),
    ),
    reports_cache_write=False,
    forced_tool=_oa_forced,
)


# --------------------------------------------------------------------------- Anthropic Messages


def _an_usage(with_cache: bool) -> dict[str, Any]:
    usage = {"input_tokens": USAGE["input"], "output_tokens": USAGE["output"]}
    if with_cache:
        usage |= {"cache_read_input_tokens": USAGE["read"], "cache_creation_input_tokens": USAGE["write"]}
    return usage


def _an_message(content: list[dict[str, Any]], stop: str, with_cache: bool = False) -> bytes:
    body = {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": _an_usage(with_cache),
    }
    return _dumps(body).encode()


def _an_stream(
    blocks: list[tuple[dict[str, Any], list[dict[str, Any]]]], stop: str, with_cache: bool = False
) -> bytes:
    start_usage = {**_an_usage(with_cache), "output_tokens": 1}
    message = {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": start_usage,
    }
    events: list[tuple[str | None, object]] = [
        ("message_start", {"type": "message_start", "message": message})
    ]
    for index, (block, deltas) in enumerate(blocks):
        events.append(
            ("content_block_start", {"type": "content_block_start", "index": index, "content_block": block})
        )
        if index == 0:
            events.append(("ping", {"type": "ping"}))
        for delta in deltas:
            events.append(
                ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
            )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": USAGE["output"]},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return sse_events(*events)


def _an_tool_blocks(calls: list[Call]) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    blocks = []
    for call_id, name, args in calls:
        text = _dumps(args)
        deltas = [{"type": "input_json_delta", "partial_json": p} for p in ("", text[:5], text[5:])]
        blocks.append(({"type": "tool_use", "id": call_id, "name": name, "input": {}}, deltas))
    return blocks


def _an_error(status: int, kind: str, message: str) -> ErrorAnswer:
    return status, {}, _dumps({"type": "error", "error": {"type": kind, "message": message}}).encode()


def _an_forced(body: dict[str, Any]) -> str | None:
    choice = body.get("tool_choice") or {}
    return choice.get("name") if choice.get("type") == "tool" else None


ANTHROPIC = WireFormat(
    name="anthropic",
    stream_content_type="text/event-stream",
    text=lambda cache: _an_message([{"type": "text", "text": TEXT}], "end_turn", cache),
    text_stream=lambda cache: _an_stream(
        [({"type": "text", "text": ""}, [{"type": "text_delta", "text": p} for p in TEXT_PIECES])],
        "end_turn",
        cache,
    ),
    calls=lambda calls: _an_message(
        [{"type": "text", "text": "Let me check."}]
        + [{"type": "tool_use", "id": i, "name": n, "input": a} for i, n, a in calls],
        "tool_use",
    ),
    calls_stream=lambda calls: _an_stream(_an_tool_blocks(calls), "tool_use"),
    json_answer=lambda answer: _an_message(
        [{"type": "tool_use", "id": "toolu_json", "name": "json_output", "input": answer}], "tool_use"
    ),
    errors={
        "throttled": _an_error(429, "rate_limit_error", "Number of requests has exceeded your rate limit"),
        "overloaded": _an_error(529, "overloaded_error", "Overloaded"),
        "context": _an_error(
            400, "invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum"
        ),
        "auth": _an_error(401, "authentication_error", "invalid x-api-key"),
        "bad_request": _an_error(400, "invalid_request_error", "temperature: range: 0..1"),
        "server": _an_error(500, "api_error", "Internal server error"),
    },
    stream_error=sse_events(
        (
            "message_start",
            {"type": "message_start", "message": {"id": "msg_01", "model": "claude", "usage": {}}},
        ),
        ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    ),
    reports_cache_write=True,
    forced_tool=_an_forced,
)


# --------------------------------------------------------------------------- Bedrock Converse


def _br_usage(with_cache: bool) -> dict[str, Any]:
    usage = {"inputTokens": USAGE["input"], "outputTokens": USAGE["output"]}
    if with_cache:
        usage |= {"cacheReadInputTokens": USAGE["read"], "cacheWriteInputTokens": USAGE["write"]}
    usage["totalTokens"] = sum(usage.values())
    return usage


def _br_answer(content: list[dict[str, Any]], stop: str, with_cache: bool = False) -> bytes:
    body = {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": _br_usage(with_cache),
        "metrics": {"latencyMs": 420},
    }
    return _dumps(body).encode()


def br_event(event: str, payload: dict[str, Any]) -> bytes:
    """One ConverseStream event frame (with the ``p`` padding field the service adds)."""
    headers = {":event-type": event, ":content-type": "application/json", ":message-type": "event"}
    return encode_message(headers, _dumps({**payload, "p": "abcdefgh"}).encode())


def br_exception(kind: str, message: str) -> bytes:
    headers = {":exception-type": kind, ":content-type": "application/json", ":message-type": "exception"}
    return encode_message(headers, _dumps({"message": message}).encode())


def _br_stream(
    blocks: list[tuple[dict[str, Any] | None, list[dict[str, Any]]]], stop: str, with_cache: bool = False
) -> bytes:
    frames = [br_event("messageStart", {"role": "assistant"})]
    for index, (start, deltas) in enumerate(blocks):
        if start is not None:
            frames.append(br_event("contentBlockStart", {"contentBlockIndex": index, "start": start}))
        frames += [br_event("contentBlockDelta", {"contentBlockIndex": index, "delta": d}) for d in deltas]
        frames.append(br_event("contentBlockStop", {"contentBlockIndex": index}))
    frames.append(br_event("messageStop", {"stopReason": stop}))
    frames.append(br_event("metadata", {"usage": _br_usage(with_cache), "metrics": {"latencyMs": 420}}))
    return b"".join(frames)


def _br_tool_blocks(calls: list[Call]) -> list[tuple[dict[str, Any] | None, list[dict[str, Any]]]]:
    blocks: list[tuple[dict[str, Any] | None, list[dict[str, Any]]]] = []
    for call_id, name, args in calls:
        text = _dumps(args)
        deltas = [{"toolUse": {"input": p}} for p in (text[:5], text[5:])]
        blocks.append(({"toolUse": {"toolUseId": call_id, "name": name}}, deltas))
    return blocks


def _br_error(status: int, kind: str, message: str) -> ErrorAnswer:
    headers = {"x-amzn-errortype": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"}
    return status, headers, _dumps({"message": message}).encode()


def _br_forced(body: dict[str, Any]) -> str | None:
    choice = (body.get("toolConfig") or {}).get("toolChoice") or {}
    return (choice.get("tool") or {}).get("name")


BEDROCK = WireFormat(
    name="bedrock",
    stream_content_type="application/vnd.amazon.eventstream",
    text=lambda cache: _br_answer([{"text": TEXT}], "end_turn", cache),
    text_stream=lambda cache: _br_stream([(None, [{"text": p} for p in TEXT_PIECES])], "end_turn", cache),
    calls=lambda calls: _br_answer(
        [{"toolUse": {"toolUseId": i, "name": n, "input": a}} for i, n, a in calls], "tool_use"
    ),
    calls_stream=lambda calls: _br_stream(_br_tool_blocks(calls), "tool_use"),
    json_answer=lambda answer: _br_answer(
        [{"toolUse": {"toolUseId": "tooluse_json", "name": "json_output", "input": answer}}], "tool_use"
    ),
    errors={
        "throttled": _br_error(
            429, "ThrottlingException", "Too many requests, please wait before trying again."
        ),
        "context": _br_error(400, "ValidationException", "Input is too long for requested model."),
        "auth": _br_error(
            403, "UnrecognizedClientException", "The security token included in the request is invalid."
        ),
        "bad_request": _br_error(
            400, "ValidationException", "Malformed input request: temperature must be <= 1"
        ),
        "server": _br_error(500, "InternalServerException", "The server encountered an internal error."),
    },
    stream_error=br_event("messageStart", {"role": "assistant"})
    + br_exception("throttlingException", "Too many tokens, please wait before trying again."),
    reports_cache_write=True,
    forced_tool=_br_forced,
)


# --------------------------------------------------------------------------- Gemini generateContent


def _ge_usage(with_cache: bool) -> dict[str, Any]:
    prompt = USAGE["input"] + (USAGE["read"] if with_cache else 0)
    usage = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": USAGE["output"],
        "totalTokenCount": prompt + USAGE["output"],
    }
    if with_cache:
        usage["cachedContentTokenCount"] = USAGE["read"]
    return usage


def _ge_response(
    parts: list[dict[str, Any]], finish: str | None, usage: dict[str, Any] | None
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    body: dict[str, Any] = {
        "candidates": [candidate],
        "modelVersion": "gemini-2.5-flash",
        "responseId": "resp-1",
    }
    if usage is not None:
        body["usageMetadata"] = usage
    return body


def _ge_calls(calls: list[Call]) -> list[dict[str, Any]]:
    return [{"functionCall": {"id": i, "name": n, "args": a}} for i, n, a in calls]


def _ge_forced(body: dict[str, Any]) -> str | None:
    config = (body.get("toolConfig") or {}).get("functionCallingConfig") or {}
    names = config.get("allowedFunctionNames") or [None]
    return names[0] if config.get("mode") == "ANY" else None


def _ge_error(status: int, kind: str, message: str, reason: str | None = None) -> ErrorAnswer:
    error: dict[str, Any] = {"code": status, "message": message, "status": kind}
    if reason:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "googleapis.com",
            }
        ]
    return status, {}, _dumps({"error": error}).encode()


GEMINI = WireFormat(
    name="gemini",
    stream_content_type="text/event-stream",
    text=lambda cache: _dumps(_ge_response([{"text": TEXT}], "STOP", _ge_usage(cache))).encode(),
    text_stream=lambda cache: sse_events(
        *[(None, _ge_response([{"text": p}], None, None)) for p in TEXT_PIECES[:-1]],
        (None, _ge_response([{"text": TEXT_PIECES[-1]}], "STOP", _ge_usage(cache))),
        crlf=True,
    ),
    calls=lambda calls: _dumps(_ge_response(_ge_calls(calls), "STOP", _ge_usage(False))).encode(),
    calls_stream=lambda calls: sse_events(
        (None, _ge_response(_ge_calls(calls[:1]), None, None)),
        (None, _ge_response(_ge_calls(calls[1:]), "STOP", _ge_usage(False))),
        crlf=True,
    ),
    json_answer=lambda answer: _dumps(
        _ge_response([{"text": _dumps(answer)}], "STOP", _ge_usage(False))
    ).encode(),
    errors={
        "throttled": _ge_error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
        "context": _ge_error(
            400,
            "INVALID_ARGUMENT",
            "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
        ),
        "auth": _ge_error(
            400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", "API_KEY_INVALID"
        ),
        "bad_request": _ge_error(400, "INVALID_ARGUMENT", "Invalid value at 'generation_config.temperature'"),
        "server": _ge_error(500, "INTERNAL", "An internal error has occurred."),
    },
    stream_error=sse_events(
        (None, _ge_response([{"text": "Hel"}], None, None)),
        (
            None,
            {
                "error": {
                    "code": 503,
                    "message": "The model is overloaded. Please try again later.",
                    "status": "UNAVAILABLE",
                }
            },
        ),
        crlf=True,
    ),
    reports_cache_write=False,
    forced_tool=_ge_forced,
)

FORMATS = {fmt.name: fmt for fmt in (OPENAI, ANTHROPIC, BEDROCK, GEMINI)}
