"""Canonical answers -> Anthropic messages (blocks, stop reasons, usage), and error bodies."""

import json

import pytest

from strands_portkey.errors import (
    AuthenticationError,
    BadRequestError,
    ContextWindowExceededError,
    GuardrailDeniedError,
    InvalidRequestError,
    NotFoundError,
    OverloadedError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    StreamInterruptedError,
)
from strands_portkey.hook_results import HookResults
from strands_portkey.server.dataplane.messages_codec import (
    anthropic_error_body,
    message_from_response,
    tool_input,
)
from strands_portkey.types import ChatResponse, Choice, ResponseMessage, ToolCall, Usage

# --------------------------------------------------------------------------- answers


def answer(message: ResponseMessage, finish: str | None = "stop", usage: Usage | None = None) -> ChatResponse:
    return ChatResponse(
        id="chatcmpl-1", model="gpt-4o", choices=(Choice(0, message, finish),), usage=usage or Usage(7, 3, 10)
    )


def test_text_answer_as_an_anthropic_message() -> None:
    message = message_from_response(answer(ResponseMessage(content="hello")))
    assert message["id"].startswith("msg_")
    assert len(message["id"]) > 10
    assert {k: v for k, v in message.items() if k != "id"} == {
        "type": "message",
        "role": "assistant",
        "model": "gpt-4o",
        "content": [{"type": "text", "text": "hello"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 7, "output_tokens": 3},
    }
    assert message_from_response(ChatResponse("msg_abc", "", ()), model="asked")["id"] == "msg_abc"
    assert message_from_response(ChatResponse("msg_abc", "", ()), model="asked")["model"] == "asked"


def test_tool_calls_reasoning_and_cache_usage() -> None:
    reply = ResponseMessage(
        content="calling",
        tool_calls=(ToolCall("call_1", "f", '{"x": 1}'), ToolCall("", "g", "")),
        reasoning="thought",
        reasoning_signature="sig",
    )
    message = message_from_response(
        answer(reply, "tool_calls", Usage(100, 5, 105, cache_read_tokens=60, cache_write_tokens=30))
    )
    assert message["content"][0] == {"type": "thinking", "thinking": "thought", "signature": "sig"}
    assert message["content"][1] == {"type": "text", "text": "calling"}
    assert message["content"][2] == {"type": "tool_use", "id": "call_1", "name": "f", "input": {"x": 1}}
    assert message["content"][3]["id"].startswith("toolu_")
    assert message["content"][3]["input"] == {}
    assert message["stop_reason"] == "tool_use"
    assert message["usage"] == {
        "input_tokens": 10,
        "output_tokens": 5,
        "cache_creation_input_tokens": 30,
        "cache_read_input_tokens": 60,
    }


@pytest.mark.parametrize(
    ("finish", "reason"),
    [
        ("stop", "end_turn"),
        ("length", "max_tokens"),
        ("tool_calls", "tool_use"),
        ("content_filter", "refusal"),
        (None, "end_turn"),
        ("error", "end_turn"),
    ],
)
def test_stop_reasons(finish, reason) -> None:
    assert message_from_response(answer(ResponseMessage(content="x"), finish))["stop_reason"] == reason


def test_malformed_tool_arguments_keep_the_raw_text() -> None:
    assert tool_input('{"a": [1, 2]}') == {"a": [1, 2]}
    assert tool_input("  ") == {}
    assert tool_input('{"a": ') == {"_raw_arguments": '{"a": '}
    assert tool_input("[1]") == {"_raw_arguments": "[1]"}


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("error", "status", "kind"),
    [
        (InvalidRequestError("bad", path="messages"), 400, "invalid_request_error"),
        (BadRequestError("bad", status_code=422), 422, "invalid_request_error"),
        (ContextWindowExceededError("too long"), 400, "invalid_request_error"),
        (AuthenticationError("no"), 401, "authentication_error"),
        (AuthenticationError("no", status_code=403), 403, "permission_error"),
        (NotFoundError("no model"), 404, "not_found_error"),
        (RateLimitError("slow down"), 429, "rate_limit_error"),
        (OverloadedError("busy"), 529, "overloaded_error"),
        (ServerError("boom", status_code=503), 503, "api_error"),
        (RequestTimeoutError("slow"), 408, "api_error"),
        (StreamInterruptedError("cut"), 502, "api_error"),
        (
            GuardrailDeniedError("denied", hook_results=HookResults(), stage="input"),
            446,
            "invalid_request_error",
        ),
        (RuntimeError("secret sk-123 inside"), 500, "api_error"),
    ],
)
def test_error_bodies(error, status, kind) -> None:
    got_status, body = anthropic_error_body(error)
    assert got_status == status
    assert body["type"] == "error"
    assert body["error"]["type"] == kind
    assert "sk-123" not in json.dumps(body)
    if not isinstance(error, RuntimeError):
        assert body["error"]["message"] == error.message
