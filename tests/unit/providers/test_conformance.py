"""One conformance suite for every registered adapter, offline, through the Gateway and MockTransport.

Each provider id in the registry is mapped to the wire format it speaks (``wire_fixtures``); the
same scenarios must give the same canonical answers whatever the provider. A provider whose
adapter type has no wire format fails :func:`test_every_registered_adapter_has_a_wire_format`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from strands_portkey import Gateway
from strands_portkey.errors import (
    AuthenticationError,
    BadRequestError,
    ContextWindowExceededError,
    GatewayError,
    MalformedResponseError,
    OverloadedError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
)
from strands_portkey.providers import get_adapter, known_providers
from strands_portkey.providers.anthropic import AnthropicAdapter
from strands_portkey.providers.bedrock import BedrockAdapter
from strands_portkey.providers.gemini import GeminiAdapter
from strands_portkey.providers.openai_compat import OpenAICompatAdapter
from strands_portkey.types import ChatChunk, ChatResponse

from .wire_fixtures import ANSWER, FORMATS, TEXT, TIME, USAGE, WEATHER, WireFormat

PROVIDERS = known_providers()
_FORMAT_BY_TYPE: list[tuple[type, str]] = [
    (OpenAICompatAdapter, "openai"),  # includes Portkey and Azure OpenAI
    (AnthropicAdapter, "anthropic"),
    (BedrockAdapter, "bedrock"),
    (GeminiAdapter, "gemini"),
]
_CONFIG: dict[str, dict[str, Any]] = {
    "azure-openai": {"api_key": "az-test-key", "azure_resource_name": "res", "azure_deployment_id": "dep"},
    "bedrock": {
        "aws_access_key_id": "AKIDEXAMPLE",
        "aws_secret_access_key": "wJalrXUtnFEMI",
        "aws_region": "eu-west-1",
    },
}
_PATH = {
    "openai": "/chat/completions",
    "anthropic": "/messages",
    "bedrock": "/converse",
    "gemini": ":generateContent",
}
_STREAM_ERROR = {
    "openai": RateLimitError,
    "anthropic": OverloadedError,
    "bedrock": RateLimitError,
    "gemini": OverloadedError,
}
_ERROR_CLASSES = {
    "throttled": RateLimitError,
    "overloaded": OverloadedError,
    "context": ContextWindowExceededError,
    "auth": AuthenticationError,
    "bad_request": BadRequestError,
    "server": ServerError,
}
TOOLS = [
    {
        "type": "function",
        "function": {"name": n, "description": n, "parameters": {"type": "object", "properties": {}}},
    }
    for n in ("get_weather", "get_time")
]


def wire_format(provider: str) -> WireFormat:
    adapter = get_adapter(provider)
    for adapter_type, name in _FORMAT_BY_TYPE:
        if isinstance(adapter, adapter_type):
            return FORMATS[name]
    raise AssertionError(f"no wire format for {provider} ({type(adapter).__name__})")


class Upstream:
    """Answers every request with one scripted response, delivered in small pieces; records requests."""

    def __init__(
        self, status: int, body: bytes, headers: dict[str, str] | None = None, piece: int = 7
    ) -> None:
        self.status, self.body, self.headers, self.piece = status, body, headers or {}, piece
        self.requests: list[httpx.Request] = []

    async def _pieces(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.body), self.piece):
            yield self.body[start : start + self.piece]

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, headers=self.headers, content=self._pieces())

    def sent(self) -> dict[str, Any]:
        return json.loads(self.requests[-1].content)


def gateway(provider: str, upstream: Upstream) -> Gateway:
    config = {"provider": provider, "api_key": "test-key-123", **_CONFIG.get(provider, {})}
    if provider == "bedrock":
        config.pop("api_key")
    return Gateway(config, transport=httpx.MockTransport(upstream.handler), env={})


def body(**extra: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": "What is the weather in Paris?"}], **extra}


async def chat(provider: str, upstream: Upstream, **extra: Any) -> ChatResponse:
    async with gateway(provider, upstream) as gw:
        return await gw.chat(body(**extra))


async def stream(provider: str, upstream: Upstream, **extra: Any) -> list[ChatChunk]:
    async with gateway(provider, upstream) as gw, gw.stream(body(**extra)) as answer:
        return [chunk async for chunk in answer]


def streamed_text(chunks: list[ChatChunk]) -> str:
    return "".join(c.delta.content or "" for chunk in chunks for c in chunk.choices)


def streamed_calls(chunks: list[ChatChunk]) -> list[tuple[str, str, dict[str, Any]]]:
    calls: dict[int, list[Any]] = {}
    for chunk in chunks:
        for choice in chunk.choices:
            for delta in choice.delta.tool_calls:
                call = calls.setdefault(delta.index, [None, None, ""])
                call[0] = call[0] or delta.id
                call[1] = call[1] or delta.name
                call[2] += delta.arguments
    return [(i, n, json.loads(a)) for i, n, a in calls.values()]


def finish(chunks: list[ChatChunk]) -> str | None:
    reasons = [c.finish_reason for chunk in chunks for c in chunk.choices if c.finish_reason]
    assert len(reasons) == 1, reasons
    return reasons[0]


def final_usage(chunks: list[ChatChunk]) -> Any:
    usages = [chunk.usage for chunk in chunks if chunk.usage is not None]
    return usages[-1]


def test_every_registered_adapter_has_a_wire_format() -> None:
    assert {wire_format(p).name for p in PROVIDERS} == set(FORMATS)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_plain_text(provider: str) -> None:
    fmt = wire_format(provider)
    upstream = Upstream(200, fmt.text(False))
    response = await chat(provider, upstream)
    assert response.text == TEXT
    assert response.finish_reason == "stop"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (
        USAGE["input"],
        USAGE["output"],
    )
    assert response.usage.total_tokens == USAGE["input"] + USAGE["output"]
    assert _PATH[fmt.name] in str(upstream.requests[0].url)
    assert response.route is not None
    assert response.route.provider == provider


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_streamed_text(provider: str) -> None:
    fmt = wire_format(provider)
    upstream = Upstream(200, fmt.text_stream(False), {"content-type": fmt.stream_content_type})
    chunks = await stream(provider, upstream)
    assert streamed_text(chunks) == TEXT
    assert sum(1 for chunk in chunks for c in chunk.choices if c.delta.content) == 3  # one chunk per piece
    assert finish(chunks) == "stop"
    assert final_usage(chunks).completion_tokens == USAGE["output"]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_one_tool_call(provider: str) -> None:
    fmt = wire_format(provider)
    response = await chat(provider, Upstream(200, fmt.calls([WEATHER])), tools=TOOLS, tool_choice="auto")
    calls = [(c.id, c.name, json.loads(c.arguments)) for c in response.message.tool_calls]
    assert calls == [WEATHER]
    assert response.finish_reason == "tool_calls"
    chunks = await stream(provider, Upstream(200, fmt.calls_stream([WEATHER])), tools=TOOLS)
    assert streamed_calls(chunks) == [WEATHER]
    assert finish(chunks) == "tool_calls"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_parallel_tool_calls(provider: str) -> None:
    fmt = wire_format(provider)
    response = await chat(provider, Upstream(200, fmt.calls([WEATHER, TIME])), tools=TOOLS)
    assert [(c.id, c.name, json.loads(c.arguments)) for c in response.message.tool_calls] == [WEATHER, TIME]
    chunks = await stream(provider, Upstream(200, fmt.calls_stream([WEATHER, TIME])), tools=TOOLS)
    assert streamed_calls(chunks) == [WEATHER, TIME]
    assert finish(chunks) == "tool_calls"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_structured_output_by_forced_tool(provider: str) -> None:
    """Strands' structured output forces a tool by name; every provider must honour the choice."""
    fmt = wire_format(provider)
    upstream = Upstream(200, fmt.calls([WEATHER]))
    forced = {"type": "function", "function": {"name": "get_weather"}}
    response = await chat(provider, upstream, tools=TOOLS, tool_choice=forced)
    assert fmt.forced_tool(upstream.sent()) == "get_weather"
    assert json.loads(response.message.tool_calls[0].arguments) == WEATHER[2]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_structured_output_by_response_format(provider: str) -> None:
    fmt = wire_format(provider)
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "country": {"type": "string"}}}
    response_format = {"type": "json_schema", "json_schema": {"name": "json_output", "schema": schema}}
    response = await chat(provider, Upstream(200, fmt.json_answer(ANSWER)), response_format=response_format)
    assert json.loads(response.text) == ANSWER
    assert response.finish_reason == "stop"
    assert not response.message.tool_calls


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_usage_with_cache_tokens(provider: str) -> None:
    fmt = wire_format(provider)
    write = USAGE["write"] if fmt.reports_cache_write else 0
    expected_prompt = USAGE["input"] + USAGE["read"] + write
    response = await chat(provider, Upstream(200, fmt.text(True)))
    streamed = final_usage(await stream(provider, Upstream(200, fmt.text_stream(True))))
    for usage in (response.usage, streamed):
        assert (usage.cache_read_tokens, usage.cache_write_tokens) == (USAGE["read"], write)
        assert usage.prompt_tokens == expected_prompt
        assert usage.total_tokens == expected_prompt + USAGE["output"]


def _error_cases() -> list[tuple[str, str]]:
    return [(p, kind) for p in PROVIDERS for kind in wire_format(p).errors]


@pytest.mark.parametrize(("provider", "kind"), _error_cases())
async def test_error_classes(provider: str, kind: str) -> None:
    status, headers, payload = wire_format(provider).errors[kind]
    expected = _ERROR_CLASSES[kind]
    with pytest.raises(GatewayError) as caught:
        await chat(provider, Upstream(status, payload, headers))
    assert type(caught.value) is expected, caught.value
    assert caught.value.provider == provider
    with pytest.raises(expected):
        await stream(provider, Upstream(status, payload, headers))


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_malformed_body(provider: str) -> None:
    with pytest.raises(MalformedResponseError, match=provider):
        await chat(provider, Upstream(200, b"<html>502 Bad Gateway</html>"))
    with pytest.raises(MalformedResponseError, match=provider):
        await chat(provider, Upstream(200, b'{"unexpected": "shape"}'))


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_broken_stream(provider: str) -> None:
    fmt = wire_format(provider)
    whole = fmt.text_stream(False)
    for cut in (len(whole) // 3, len(whole) * 2 // 3):  # both before the finish
        with pytest.raises(StreamInterruptedError, match=provider):
            await stream(provider, Upstream(200, whole[:cut]))


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_error_reported_inside_a_stream(provider: str) -> None:
    fmt = wire_format(provider)
    with pytest.raises(_STREAM_ERROR[fmt.name]) as caught:
        await stream(provider, Upstream(200, fmt.stream_error))
    assert caught.value.provider == provider


CANARY = "canary-credential-31337"
_ECHO = json.dumps(
    {"error": {"message": f"bad key {CANARY} / {CANARY}-token", "type": "authentication_error"}}
)
# (status, body): the upstream quotes the credential back, in an error or in a hostile body that
# does not decode (nested past the recursion limit), whose start an error message would quote.
_ECHOES = {
    "error": (401, _ECHO.encode()),
    "deep-answer": (200, f'{{"note": "{CANARY} {CANARY}-token", "x": '.encode() + b"[" * 100_000),
    "deep-error": (500, f'{{"error": "{CANARY} {CANARY}-token", "x": '.encode() + b"[" * 100_000),
}


# A portkey leaf's own api_key is not used (targets.py takes Portkey's key from client_args/env),
# so it is not a credential of the request; reported to the lead rather than worked around here.
@pytest.mark.parametrize("echo", sorted(_ECHOES))
@pytest.mark.parametrize("provider", [p for p in PROVIDERS if p != "portkey"])
async def test_credentials_never_leak_even_when_the_upstream_echoes_them(provider: str, echo: str) -> None:
    """The upstream quotes the credential back; no output of ours may contain it (chat or stream)."""
    config: dict[str, Any] = {"provider": provider, **_CONFIG.get(provider, {}), "api_key": CANARY}
    if provider == "bedrock":
        config.update(aws_secret_access_key=CANARY, aws_session_token=CANARY + "-token")
        config.pop("api_key")
    status, payload = _ECHOES[echo]
    upstream = Upstream(status, payload, piece=4096)
    gw = Gateway(config, transport=httpx.MockTransport(upstream.handler), env={})
    with pytest.raises(GatewayError) as caught:
        await gw.chat(body())
    with pytest.raises(GatewayError) as streamed:
        async with gw.stream(body()) as answer:
            [chunk async for chunk in answer]
    await gw.aclose()
    sent = upstream.requests[0]
    if provider != "bedrock":  # Bedrock signs with the key instead of sending it
        assert any(CANARY in value for value in sent.headers.values())  # it really was sent
    outputs = [
        text
        for error in (caught.value, streamed.value)
        for text in (str(error), repr(error), repr(error.args), str(error.__dict__))
    ]
    outputs.append(repr(gw))
    assert not any(CANARY in text for text in outputs), outputs
