"""Hostile upstream bodies, for every registered adapter, through the Gateway and MockTransport.

A body nested ``[`` x 100,000 deep (as a 200 answer, a stream event, an error body or an error
event) must become an error of the tree, tagged with its route: a fallback then moves on to its
healthy second target, whose answer the caller gets, and the route lists the failed attempt.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from strands_portkey import Gateway
from strands_portkey.errors import GatewayError, MalformedResponseError, ServerError
from strands_portkey.providers._eventstream import encode_message
from strands_portkey.types import RouteInfo, Usage

from .test_conformance import _CONFIG, CANARY, PROVIDERS, Upstream, body, chat, stream, wire_format
from .wire_fixtures import FORMATS, TEXT, br_event, sse_events

DEEP = b"[" * 100_000
HEALTHY = "healthy.test"


def _bedrock_frame(kind: str, payload: bytes, **headers: str) -> bytes:
    return encode_message({":message-type": kind, ":content-type": "application/json", **headers}, payload)


def _anthropic_start() -> bytes:
    message = {"id": "msg_01", "type": "message", "role": "assistant", "model": "claude", "usage": {}}
    block = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    return sse_events(
        ("message_start", {"type": "message_start", "message": message}), ("content_block_start", block)
    )


# A complete first text chunk ("Hel") in each wire format: the stream commits on it.
GOOD_START: dict[str, bytes] = {
    "openai": sse_events(
        (None, {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"content": "Hel"}}]})
    ),
    "anthropic": _anthropic_start()
    + sse_events(
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hel"}},
        )
    ),
    "bedrock": br_event("messageStart", {"role": "assistant"})
    + br_event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hel"}}),
    "gemini": sse_events((None, {"candidates": [{"content": {"parts": [{"text": "Hel"}]}, "index": 0}]})),
}


def data_event(name: str, data: bytes) -> bytes:
    """A stream event carrying ``data`` (a text delta, were it well formed) in wire format ``name``."""
    if name == "bedrock":
        return _bedrock_frame("event", data, **{":event-type": "contentBlockDelta"})
    if name == "anthropic":
        return b"event: content_block_delta\ndata: " + data + b"\n\n"
    return b"data: " + data + b"\r\n\r\n"


DEEP_EVENT = {name: data_event(name, DEEP) for name in FORMATS}
# The provider's own way to report an error inside a stream, carrying the deep body (Gemini has
# none: its in-stream errors are ordinary JSON events, covered by DEEP_EVENT).
DEEP_ERROR_EVENT: dict[str, bytes] = {
    "openai": b"event: error\ndata: " + DEEP + b"\n\n",
    "anthropic": b"event: error\ndata: " + DEEP + b"\n\n",
    "bedrock": _bedrock_frame("exception", DEEP, **{":exception-type": "internalServerException"}),
}


async def pieces(*parts: bytes) -> AsyncIterator[bytes]:
    """A body arriving in these pieces (each read separately, as from a socket)."""
    for part in parts:
        yield part


def failed_attempts(route: RouteInfo | None) -> list[tuple[str, int | None, str | None]]:
    assert route is not None
    return [(a.option_index, a.status_code, a.error_type) for a in route.attempts]


def leaf(provider: str) -> dict[str, Any]:
    config: dict[str, Any] = {"provider": provider, "api_key": "test-key-123", **_CONFIG.get(provider, {})}
    if provider == "bedrock":
        config.pop("api_key")
    return config


async def no_wait(seconds: float) -> None:
    """Retries back off without really sleeping."""


def fallback(provider: str, answer: Callable[[], httpx.Response], **first: Any) -> Gateway:
    """``provider`` answers with ``answer``; the second target, an OpenAI host, answers well."""
    openai = FORMATS["openai"]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host != HEALTHY:
            return answer()
        streamed = b'"stream":true' in request.content
        return httpx.Response(200, content=openai.text_stream(False) if streamed else openai.text(False))

    config = {
        "strategy": {"mode": "fallback"},
        "targets": [
            {**leaf(provider), **first},
            {"provider": "openai", "api_key": "sk-second", "custom_host": f"http://{HEALTHY}/v1"},
        ],
    }
    return Gateway(config, transport=httpx.MockTransport(handler), env={}, sleep=no_wait)


async def fallback_chat(gw: Gateway) -> tuple[str, RouteInfo | None]:
    async with gw:
        response = await gw.chat(body())
    return response.text, response.route


async def fallback_stream(gw: Gateway) -> tuple[str, RouteInfo | None]:
    async with gw, gw.stream(body()) as answer:
        text = "".join([c.delta.content or "" async for chunk in answer for c in chunk.choices])
    return text, answer.route


FAILED_FIRST = [("config.targets[0]", 502, "MalformedResponseError"), ("config.targets[1]", 200, None)]


# --------------------------------------------------------------------------- a deep 200 answer


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_deep_answer_is_a_malformed_response_with_its_route(provider: str) -> None:
    with pytest.raises(
        MalformedResponseError, match=f"{provider} returned a response that is JSON nested"
    ) as caught:
        await chat(provider, Upstream(200, DEEP))
    assert caught.value.provider == provider
    assert failed_attempts(caught.value.route) == [("config", 502, "MalformedResponseError")]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_deep_first_stream_event_is_a_malformed_response_with_its_route(provider: str) -> None:
    fmt = wire_format(provider)
    with pytest.raises(MalformedResponseError, match=f"{provider} sent .*nested deeper") as caught:
        await stream(provider, Upstream(200, DEEP_EVENT[fmt.name]))
    assert failed_attempts(caught.value.route) == [("config", 502, "MalformedResponseError")]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_fallback_moves_on_from_a_deep_answer(provider: str) -> None:
    text, route = await fallback_chat(fallback(provider, lambda: httpx.Response(200, content=DEEP)))
    assert text == TEXT
    assert failed_attempts(route) == FAILED_FIRST
    assert route is not None
    assert route.last_used_option_index == "config.targets[1]"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_fallback_moves_on_from_a_deep_first_stream_event(provider: str) -> None:
    event = DEEP_EVENT[wire_format(provider).name]
    text, route = await fallback_stream(fallback(provider, lambda: httpx.Response(200, content=event)))
    assert text == TEXT
    assert failed_attempts(route) == FAILED_FIRST


async def test_a_deep_answer_is_retried_as_the_502_it_is_mapped_to() -> None:
    gw = fallback("openai", lambda: httpx.Response(200, content=DEEP), retry={"attempts": 1})
    text, route = await fallback_chat(gw)
    assert text == TEXT
    assert failed_attempts(route) == [FAILED_FIRST[0], FAILED_FIRST[0], FAILED_FIRST[1]]


# --------------------------------------------------------------------------- a deep event after a good one


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_deep_event_after_the_first_chunk_fails_the_stream_and_its_route(provider: str) -> None:
    name = wire_format(provider).name
    received: list[str] = []
    gw = fallback(provider, lambda: httpx.Response(200, content=pieces(GOOD_START[name], DEEP_EVENT[name])))
    answer = gw.stream(body())

    async def consume() -> None:
        async with gw, answer:
            async for chunk in answer:
                received.extend(c.delta.content or "" for c in chunk.choices)

    with pytest.raises(MalformedResponseError) as caught:
        await consume()
    assert "".join(received) == "Hel"  # delivered before the failure; no fallback after it
    route = caught.value.route
    assert route is answer.route
    assert failed_attempts(route) == [("config.targets[0]", 502, "MalformedResponseError")]
    assert answer.route.status_code == 502


# --------------------------------------------------------------------------- deep error bodies and events


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_deep_error_body_is_classified_by_its_status(provider: str) -> None:
    with pytest.raises(ServerError) as caught:
        await chat(provider, Upstream(500, DEEP))
    assert caught.value.provider == provider
    assert failed_attempts(caught.value.route) == [("config", 500, "ServerError")]
    with pytest.raises(ServerError) as streamed:
        await stream(provider, Upstream(500, DEEP))
    assert failed_attempts(streamed.value.route) == [("config", 500, "ServerError")]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_fallback_moves_on_from_a_deep_error_body(provider: str) -> None:
    for run in (fallback_chat, fallback_stream):
        text, route = await run(fallback(provider, lambda: httpx.Response(500, content=DEEP)))
        assert text == TEXT
        assert failed_attempts(route) == [("config.targets[0]", 500, "ServerError"), FAILED_FIRST[1]]


@pytest.mark.parametrize("provider", [p for p in PROVIDERS if wire_format(p).name in DEEP_ERROR_EVENT])
async def test_a_deep_error_event_is_an_upstream_error_and_falls_back(provider: str) -> None:
    event = DEEP_ERROR_EVENT[wire_format(provider).name]
    with pytest.raises(GatewayError) as caught:
        await stream(provider, Upstream(200, event))
    assert type(caught.value) is ServerError
    assert caught.value.route is not None
    text, route = await fallback_stream(fallback(provider, lambda: httpx.Response(200, content=event)))
    assert text == TEXT
    assert failed_attempts(route) == [("config.targets[0]", 500, "ServerError"), FAILED_FIRST[1]]


@pytest.mark.parametrize("provider", [p for p in PROVIDERS if p != "portkey"])
async def test_a_credential_echoed_in_a_hostile_event_mid_stream_never_leaks(provider: str) -> None:
    """The error quotes the start of the event it could not decode; the key there is scrubbed."""
    name = wire_format(provider).name
    config = {**leaf(provider), "api_key": CANARY}
    if provider == "bedrock":
        config.pop("api_key")
        config["aws_secret_access_key"] = CANARY
    hostile = data_event(name, f'{{"echo": "{CANARY}", "v": '.encode() + DEEP)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=pieces(GOOD_START[name], hostile))

    gw = Gateway(config, transport=httpx.MockTransport(handler), env={})
    with pytest.raises(MalformedResponseError) as caught:
        async with gw, gw.stream(body()) as answer:
            [chunk async for chunk in answer]
    error = caught.value
    assert "echo" in error.message  # the snippet was quoted...
    outputs = [str(error), repr(error), repr(error.args), str(error.__dict__), repr(answer.route)]
    assert not any(CANARY in text for text in outputs), outputs  # ...without the key


# --------------------------------------------------------------------------- hostile usage counts

_BIG = "1" + "0" * 30  # too large for a database integer
HOSTILE_USAGE: dict[str, str] = {
    "openai": '{"id": "r", "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", '
    '"content": "hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": %s, "completion_tokens": "7", '
    '"total_tokens": -3, "prompt_tokens_details": {"cached_tokens": 1e999}}}',
    "anthropic": '{"id": "m1", "type": "message", "role": "assistant", "model": "c", "content": [{"type": '
    '"text", "text": "hi"}], "stop_reason": "end_turn", "usage": {"input_tokens": %s, "output_tokens": '
    '"7", "cache_read_input_tokens": true}}',
    "bedrock": '{"output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}}, "stopReason": '
    '"end_turn", "usage": {"inputTokens": %s, "outputTokens": "7", "totalTokens": -3, '
    '"cacheReadInputTokens": NaN}}',
    "gemini": '{"candidates": [{"content": {"parts": [{"text": "hi"}]}, "finishReason": "STOP"}], '
    '"usageMetadata": {"promptTokenCount": %s, "candidatesTokenCount": "7", "totalTokenCount": -3, '
    '"cachedContentTokenCount": [1]}}',
}


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_usage_counts_that_are_not_counts_are_zero(provider: str) -> None:
    """Strings, negatives, NaN, 1e999, booleans or huge numbers never travel on as token counts."""
    answer = HOSTILE_USAGE[wire_format(provider).name] % _BIG
    response = await chat(provider, Upstream(200, answer.encode(), piece=4096))
    assert response.text == "hi"
    assert response.usage == Usage()


# --------------------------------------------------------------------------- fields of the wrong type


def _openai_answer(**fields: Any) -> bytes:
    message = {"role": "assistant", "content": "hi", **fields.pop("message", {})}
    choice = {"index": 0, "message": message, "finish_reason": fields.pop("finish_reason", "stop")}
    return json.dumps({"id": "r1", "model": "m-1", "created": 1, "choices": [choice], **fields}).encode()


def _openai_chunks(**fields: Any) -> bytes:
    delta = {"content": "hi", **fields.pop("delta", {})}
    first = {"id": "r1", "model": "m-1", "choices": [{"index": 0, "delta": delta}], **fields}
    last = {"id": "r1", "model": "m-1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    return sse_events((None, first), (None, last), (None, "[DONE]"))


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"model": ["x"], "id": {"a": 1}, "created": "yesterday"}, ("", "m", 0)),
        ({"created": 1720000000.75}, ("r1", "m-1", 1720000000)),
    ],
)
async def test_informational_fields_of_the_wrong_type_are_replaced(
    fields: dict[str, Any], expected: tuple[str, str, int]
) -> None:
    """A model name that is a list would otherwise reach an analytics row (and lose its batch)."""
    response = await chat("openai", Upstream(200, _openai_answer(**fields)))
    assert (response.id, response.model, response.created) == expected
    assert response.route is not None
    assert response.route.model == expected[1]
    chunks = await stream("openai", Upstream(200, _openai_chunks(**fields)))
    assert (chunks[0].id, chunks[0].model, chunks[0].created) == expected


@pytest.mark.parametrize(
    "fields",
    [
        {"finish_reason": {"type": "stop"}},
        {"finish_reason": 7},
        {
            "message": {
                "content": None,
                "tool_calls": [{"id": "c1", "function": {"name": ["f"], "arguments": ""}}],
            }
        },
        {"message": {"content": None, "tool_calls": [{"id": {"x": 1}, "function": {"name": "f"}}]}},
    ],
)
async def test_fields_the_caller_acts_on_must_be_strings(fields: dict[str, Any]) -> None:
    """A finish reason or tool name of another type is a malformed answer, not a TypeError later."""
    with pytest.raises(MalformedResponseError, match="must be a string"):
        await chat("openai", Upstream(200, _openai_answer(**fields)))


@pytest.mark.parametrize(
    "delta",
    [{"role": ["assistant"]}, {"tool_calls": [{"index": 0, "id": "c1", "function": {"name": {"n": 1}}}]}],
)
async def test_stream_fields_the_caller_acts_on_must_be_strings(delta: dict[str, Any]) -> None:
    with pytest.raises(MalformedResponseError, match="must be a string"):
        await stream("openai", Upstream(200, _openai_chunks(delta=delta)))
