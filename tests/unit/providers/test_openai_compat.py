from __future__ import annotations

import json
from typing import Any

import pytest

from strands_portkey.errors import (
    InvalidRequestError,
    MalformedResponseError,
    OverloadedError,
    RateLimitError,
)
from strands_portkey.providers._headers import secret_header_values
from strands_portkey.providers.base import Adapter, Target
from strands_portkey.providers.openai_compat import (
    OPENAI_COMPATIBLE_HOSTS,
    HostSpec,
    OpenAICompatAdapter,
)
from strands_portkey.types import ChatRequest, ChatResponse, Choice, ResponseMessage, ToolCall, Usage
from strands_portkey.wire import HttpResponse, Secret

MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": "Be terse."},
    {"role": "user", "content": [{"type": "text", "text": "weather?"}]},
]
TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


def make_request(**body: Any) -> ChatRequest:
    return ChatRequest.from_body({"model": "gpt-4o", "messages": MESSAGES, **body})


def response(payload: Any, status: int = 200) -> HttpResponse:
    content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return HttpResponse(status, {"content-type": "application/json"}, content)


ADAPTER = OpenAICompatAdapter("openai", "https://api.openai.com/v1")
TARGET = Target("openai", "https://api.openai.com/v1", api_key=Secret("sk-test-123456"))


def test_adapter_satisfies_protocol() -> None:
    adapter: Adapter = ADAPTER
    assert adapter.name == "openai"


# ---------------------------------------------------------------- build_request


def test_streaming_request_exact() -> None:
    request = make_request(tools=TOOLS, tool_choice="required", temperature=0, stream=True)
    http = ADAPTER.build_request(request, TARGET)
    assert http.method == "POST"
    assert http.url == "https://api.openai.com/v1/chat/completions"
    assert dict(http.headers) == {
        "content-type": "application/json",
        "accept": "text/event-stream",
        "authorization": "Bearer sk-test-123456",
    }
    assert http.json == {
        "model": "gpt-4o",
        "messages": MESSAGES,
        "tools": TOOLS,
        "tool_choice": "required",
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    assert http.secrets == ("sk-test-123456",)
    assert "sk-test" not in repr(http)


def test_non_streaming_request_exact() -> None:
    http = ADAPTER.build_request(make_request(max_tokens=5), TARGET)
    assert dict(http.headers)["accept"] == "application/json"
    assert http.json == {"model": "gpt-4o", "messages": MESSAGES, "max_tokens": 5}


def test_caller_stream_options_are_kept() -> None:
    request = make_request(stream=True, stream_options={"include_usage": False})
    assert ADAPTER.build_request(request, TARGET).json["stream_options"] == {"include_usage": False}


def test_request_body_does_not_mutate_request() -> None:
    request = make_request(stream=True)
    ADAPTER.build_request(request, TARGET)
    assert "stream_options" not in request.params


def test_custom_host_replaces_default_and_trailing_slash_dropped() -> None:
    target = Target("openai", "http://127.0.0.1:9999/v1/", api_key=None)
    http = ADAPTER.build_request(make_request(), target)
    assert http.url == "http://127.0.0.1:9999/v1/chat/completions"
    assert "authorization" not in http.headers
    assert http.secrets == ()


def test_default_base_url_used_when_target_has_none() -> None:
    adapter = OpenAICompatAdapter("ollama", "http://127.0.0.1:11434/v1")
    http = adapter.build_request(make_request(), Target("ollama", ""))
    assert http.url == "http://127.0.0.1:11434/v1/chat/completions"


def test_no_base_url_at_all_is_an_error() -> None:
    with pytest.raises(InvalidRequestError, match="no base URL for provider 'custom'"):
        OpenAICompatAdapter("custom").build_request(make_request(), Target("custom", ""))


def test_target_headers_are_lowercased_and_win() -> None:
    target = Target(
        "openai",
        "https://api.openai.com/v1",
        api_key=Secret("sk-test-123456"),
        headers={"OpenAI-Organization": "org-1", "Authorization": "Bearer sk-other-999999"},
    )
    http = ADAPTER.build_request(make_request(), target)
    assert dict(http.headers) == {
        "content-type": "application/json",
        "accept": "application/json",
        "authorization": "Bearer sk-other-999999",
        "openai-organization": "org-1",
    }
    assert http.secrets == ("sk-other-999999",)


def test_secret_header_values() -> None:
    headers = {
        "authorization": "Bearer abc12345",
        "x-api-key": "k-2",
        "x-portkey-api-key": "abc12345",
        "x-portkey-trace-id": "t",
        "api-key": "",
    }
    assert secret_header_values(headers) == ("abc12345", "k-2")


def test_trace_and_metadata_are_ignored_by_plain_hosts() -> None:
    http = ADAPTER.build_request(make_request(), TARGET, trace_id="t1", metadata={"u": "1"})
    assert not any(name.startswith("x-portkey") for name in http.headers)


def test_host_table_rows() -> None:
    by_name = {spec.name: spec for spec in OPENAI_COMPATIBLE_HOSTS}
    assert by_name["openai"] == HostSpec("openai", "https://api.openai.com/v1", "OPENAI_API_KEY", True)
    assert by_name["together-ai"].aliases == ("together",)
    assert by_name["ollama"].requires_key is False
    assert by_name["vllm"].api_key_env == "VLLM_API_KEY"
    assert by_name["llama-cpp"] == HostSpec(
        "llama-cpp", "http://127.0.0.1:8080/v1", None, False, ("llamacpp",), accepts_null_content=False
    )
    assert by_name["google-openai"] == HostSpec(
        "google-openai",
        "https://generativelanguage.googleapis.com/v1beta/openai",
        "GEMINI_API_KEY",
        True,
        ("gemini-openai",),
    )
    assert len(by_name) == len(OPENAI_COMPATIBLE_HOSTS) == 11


# ---------------------------------------------------------------- parse_response


FULL_RESPONSE = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1720000000,
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "reasoning_content": "need weather",
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'},
                    },
                    {
                        "id": "call_2",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                    },
                ],
            },
            "finish_reason": "tool_calls",
        }
    ],
    "usage": {
        "prompt_tokens": 11,
        "completion_tokens": 7,
        "total_tokens": 18,
        "prompt_tokens_details": {"cached_tokens": 3, "cache_write_tokens": 2},
    },
}


def test_parse_full_response() -> None:
    parsed = ADAPTER.parse_response(response(FULL_RESPONSE), make_request())
    assert parsed == ChatResponse(
        id="chatcmpl-1",
        model="gpt-4o-2024-08-06",
        choices=(
            Choice(
                index=0,
                message=ResponseMessage(
                    content=None,
                    tool_calls=(
                        ToolCall("call_1", "get_weather", '{"city":"Rome"}'),
                        ToolCall("call_2", "get_weather", '{"city":"Paris"}'),
                    ),
                    reasoning="need weather",
                ),
                finish_reason="tool_calls",
            ),
        ),
        usage=Usage(11, 7, 18, cache_read_tokens=3, cache_write_tokens=2),
        created=1720000000,
    )


def test_parse_minimal_response_tolerates_missing_fields() -> None:
    payload = {
        "choices": [
            {
                "message": {
                    "content": [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}],
                    "reasoning": "r",
                }
            }
        ]
    }
    parsed = ADAPTER.parse_response(response(payload), make_request())
    assert parsed == ChatResponse(
        id="",
        model="gpt-4o",
        choices=(Choice(0, ResponseMessage(content="Hello", reasoning="r"), None),),
        usage=Usage(),
        created=0,
    )


def test_parse_usage_with_anthropic_cache_creation_and_dict_arguments() -> None:
    payload = {
        "id": "x",
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {
                    "content": "",
                    "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": {"a": 1}}}],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {
            "prompt_tokens": 5,
            "completion_tokens": 1,
            "total_tokens": 6,
            "cache_creation_input_tokens": 4,
        },
    }
    parsed = ADAPTER.parse_response(response(payload), make_request())
    assert parsed.message.tool_calls == (ToolCall("c", "f", '{"a": 1}'),)
    assert parsed.text == ""
    assert parsed.usage == Usage(5, 1, 6, cache_read_tokens=0, cache_write_tokens=4)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"<html>oops</html>", "is not JSON"),
        (b"[1, 2]", "is not a JSON object"),
        (b'{"id": "x"}', "has no 'choices' list"),
        (b'{"choices": [{"message": {"content": 5}}]}', "unexpected shape"),
        (b'{"choices": ["nope"]}', "unexpected shape"),
    ],
)
def test_malformed_responses(content: bytes, problem: str) -> None:
    with pytest.raises(MalformedResponseError) as caught:
        ADAPTER.parse_response(response(content), make_request())
    assert caught.value.provider == "openai"
    assert problem in caught.value.message
    assert caught.value.message.startswith("openai returned a response that")


def test_malformed_message_has_short_snippet() -> None:
    with pytest.raises(MalformedResponseError) as caught:
        ADAPTER.parse_response(response(b"<" * 1000), make_request())
    assert "'" + "<" * 200 + "...'" in caught.value.message
    assert len(caught.value.message) < 300


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"error": {"message": "Rate limit exceeded"}}, RateLimitError),
        ({"error": {"message": "Overloaded", "type": "overloaded_error"}}, OverloadedError),
    ],
)
def test_error_inside_a_200_body_is_raised(payload: dict[str, Any], expected: type[Exception]) -> None:
    with pytest.raises(expected):
        ADAPTER.parse_response(response(payload), make_request())


# ---------------------------------------------------------------- map_error


def test_map_error_classifies_and_scrubs() -> None:
    body = json.dumps(
        {"error": {"message": "Rate limit for key sk-test-123456", "code": "rate_limit_exceeded"}}
    )
    error = ADAPTER.map_error(429, {"retry-after": "3"}, body.encode(), secrets=("sk-test-123456",))
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 3.0
    assert error.message == "openai error: Rate limit for key [REDACTED]"
    assert error.code == "rate_limit_exceeded"


def test_map_error_uses_adapter_name() -> None:
    error = OpenAICompatAdapter("groq").map_error(500, {}, b"")
    assert error.provider == "groq"
    assert error.message.startswith("groq error: ")


def test_llama_cpp_gets_empty_string_instead_of_null_assistant_content() -> None:
    from strands_portkey.providers import get_adapter
    from strands_portkey.providers.base import Target
    from strands_portkey.types import ChatRequest

    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    request = ChatRequest.from_body(
        {
            "model": "m",
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "c1", "content": "ok"},
            ],
        }
    )
    target = Target(provider="x", base_url="http://127.0.0.1:1/v1")
    llama = get_adapter("llama-cpp").build_request(request, target).json
    openai = get_adapter("openai").build_request(request, target).json
    assert llama["messages"][1] == {"role": "assistant", "content": "", "tool_calls": [call]}
    assert openai["messages"][1]["content"] is None
    assert request.messages[1]["content"] is None  # the caller's request is not mutated
