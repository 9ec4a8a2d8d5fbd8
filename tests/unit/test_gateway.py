import asyncio
import json
import logging

import httpx
import pytest

from strands_portkey import (
    AuthenticationError,
    ConfigurationError,
    ContextWindowExceededError,
    Gateway,
    GatewayError,
    InvalidRequestError,
    MalformedResponseError,
    OverloadedError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    StreamInterruptedError,
    UpstreamConnectionError,
)
from strands_portkey.transport import Transport
from tests.unit.conftest import chunk, completion, sse

BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
OPENAI = {"provider": "openai", "api_key": "sk-test-1234"}


def json_response(payload: object, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=payload, headers=headers)


def sse_response(body: bytes) -> httpx.Response:
    return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})


async def test_chat_sends_the_openai_request_and_reports_the_route(upstream) -> None:
    up = upstream(lambda r: json_response(completion("hello")))
    gw = Gateway(OPENAI, transport=up.transport)
    response = await gw.chat(BODY, trace_id="t-1", metadata={"user": "u1"})
    request = up.requests[0]
    assert str(request.url) == "https://api.openai.com/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test-1234"
    assert up.body() == BODY
    assert response.text == "hello"
    assert response.usage.total_tokens == 5
    route = response.route
    assert route is not None
    assert (route.trace_id, route.provider, route.last_used_option_index) == ("t-1", "openai", "config")
    assert (route.retry_attempt_count, route.cache_status, route.status_code) == (0, "DISABLED", 200)
    assert [a.status_code for a in route.attempts] == [200]
    assert route.to_headers()["x-portkey-trace-id"] == "t-1"


async def test_trace_id_is_generated_when_absent(upstream) -> None:
    up = upstream(lambda r: json_response(completion()))
    response = await Gateway(OPENAI, transport=up.transport).chat(BODY)
    assert response.route is not None
    assert len(response.route.trace_id) == 32


async def test_override_params_win_over_the_request(upstream) -> None:
    up = upstream(lambda r: json_response(completion()))
    config = {**OPENAI, "override_params": {"model": "gpt-4o-mini", "temperature": 0}}
    await Gateway(config, transport=up.transport).chat({**BODY, "temperature": 1})
    assert up.body()["model"] == "gpt-4o-mini"
    assert up.body()["temperature"] == 0


async def test_stream_yields_chunks_and_asks_for_usage(upstream) -> None:
    body = sse(
        chunk("Hel"),
        chunk("lo"),
        chunk(finish="stop"),
        {
            "id": "c1",
            "model": "m",
            "choices": [],
            "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
        },
    )
    up = upstream(lambda r: sse_response(body))
    gw = Gateway(OPENAI, transport=up.transport)
    async with gw.stream(BODY, trace_id="s-1") as stream:
        chunks = [c async for c in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == 3
    assert up.body()["stream"] is True
    assert up.body()["stream_options"] == {"include_usage": True}
    assert stream.route.trace_id == "s-1"
    assert stream.route.last_used_option_index == "config"


async def test_stream_can_be_iterated_without_async_with(upstream) -> None:
    up = upstream(lambda r: sse_response(sse(chunk("x"), chunk(finish="stop"))))
    chunks = [c async for c in Gateway(OPENAI, transport=up.transport).stream(BODY)]
    assert len(chunks) == 2


@pytest.mark.parametrize(
    ("status", "payload", "headers", "error_type"),
    [
        (429, {"error": {"message": "Rate limit reached"}}, {"retry-after": "2"}, RateLimitError),
        (
            400,
            {"error": {"message": "too long", "code": "context_length_exceeded"}},
            {},
            ContextWindowExceededError,
        ),
        (500, {"error": {"message": "boom"}}, {}, ServerError),
    ],
)
async def test_error_statuses_are_mapped_and_tagged(upstream, status, payload, headers, error_type) -> None:
    up = upstream(lambda r: json_response(payload, status, **headers))
    gw = Gateway(OPENAI, transport=up.transport)
    with pytest.raises(error_type) as info:
        await gw.chat(BODY)
    assert info.value.status_code == status
    assert info.value.provider == "openai"
    assert info.value.option_index == "config"
    with pytest.raises(error_type):
        async with gw.stream(BODY):
            pass


async def test_rate_limit_carries_retry_after(upstream) -> None:
    up = upstream(lambda r: json_response({"error": {"message": "slow down"}}, 429, **{"retry-after": "2"}))
    with pytest.raises(RateLimitError) as info:
        await Gateway(OPENAI, transport=up.transport).chat(BODY)
    assert info.value.retry_after == 2


async def test_non_json_answer_is_a_malformed_response(upstream) -> None:
    up = upstream(lambda r: httpx.Response(200, content=b"<html>oops</html>"))
    with pytest.raises(MalformedResponseError, match="openai"):
        await Gateway(OPENAI, transport=up.transport).chat(BODY)


async def test_cut_stream_raises_after_the_delivered_chunks(upstream) -> None:
    up = upstream(lambda r: sse_response(sse(chunk("partial"), done=False)))
    received = []

    async def consume() -> None:
        async with Gateway(OPENAI, transport=up.transport).stream(BODY) as stream:
            async for c in stream:
                received.append(c)

    with pytest.raises(StreamInterruptedError) as info:
        await consume()
    assert len(received) == 1
    assert info.value.option_index == "config"


async def test_error_event_before_any_chunk_fails_the_open(upstream) -> None:
    up = upstream(
        lambda r: sse_response(sse({"error": {"message": "Overloaded", "type": "overloaded_error"}}))
    )
    gw = Gateway(OPENAI, transport=up.transport)
    stream = gw.stream(BODY)
    with pytest.raises(OverloadedError):
        await stream.open()
    assert [a.error_type for a in stream.route.attempts] == ["OverloadedError"]


async def test_connection_failure_is_mapped(upstream) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(
        UpstreamConnectionError, match=r"could not reach https://api\.openai\.com/v1/chat/completions"
    ):
        await Gateway(OPENAI, transport=upstream(refuse).transport).chat(BODY)


async def test_request_timeout_bounds_the_attempt() -> None:
    never = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        await never.wait()
        return httpx.Response(200)

    gw = Gateway({**OPENAI, "request_timeout": 1}, transport=httpx.MockTransport(hang))
    with pytest.raises(RequestTimeoutError) as info:
        await gw.chat(BODY)
    assert info.value.status_code == 408
    with pytest.raises(RequestTimeoutError):
        await gw.stream(BODY).open()


def test_one_gateway_serves_several_event_loops(upstream) -> None:
    up = upstream(lambda r: json_response(completion("again")))
    gw = Gateway(OPENAI, transport=up.transport)
    first = asyncio.run(gw.chat(BODY))
    second = asyncio.run(gw.chat(BODY))
    assert (first.text, second.text) == ("again", "again")


async def test_portkey_target_gets_the_header_contract(upstream) -> None:
    up = upstream(lambda r: json_response(completion()))
    gw = Gateway(
        client_args={"api_key": "pk-live-1", "virtual_key": "openai-vk", "metadata": {"env": "prod"}},
        transport=up.transport,
        env={},
    )
    await gw.chat(BODY, trace_id="trace-9", metadata={"user": "u1"})
    request = up.requests[0]
    assert str(request.url) == "https://api.portkey.ai/v1/chat/completions"
    assert request.headers["x-portkey-api-key"] == "pk-live-1"
    assert request.headers["x-portkey-virtual-key"] == "openai-vk"
    assert request.headers["x-portkey-trace-id"] == "trace-9"
    assert json.loads(request.headers["x-portkey-metadata"]) == {"env": "prod", "user": "u1"}


async def test_a_portkey_targets_own_api_key_is_used_and_scrubbed(upstream) -> None:
    up = upstream(lambda r: json_response({"error": {"message": "bad key pk-canary-target-77"}}, 401))
    config = {
        "strategy": {"mode": "fallback"},
        "targets": [{"provider": "portkey", "api_key": "pk-canary-target-77", "virtual_key": "vk"}],
    }
    gw = Gateway(config, transport=up.transport, env={"PORTKEY_API_KEY": "pk-from-env"})
    with pytest.raises(GatewayError) as info:
        await gw.chat(BODY)
    assert up.requests[0].headers["x-portkey-api-key"] == "pk-canary-target-77"
    assert "pk-canary" not in str(info.value)
    assert "pk-canary" not in repr(gw)


async def test_provider_key_is_read_from_the_environment(upstream) -> None:
    up = upstream(lambda r: json_response(completion()))
    gw = Gateway(client_args={"provider": "groq"}, transport=up.transport, env={"GROQ_API_KEY": "gsk-env"})
    await gw.chat(BODY)
    assert str(up.requests[0].url) == "https://api.groq.com/openai/v1/chat/completions"
    assert up.requests[0].headers["authorization"] == "Bearer gsk-env"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"provider": "opnai"}, "config.provider: unknown provider 'opnai'"),
        ({"provider": "openai"}, "config.api_key: no API key for provider 'openai'"),
        ({}, "config: a target needs a 'provider'"),
        ({"virtual_key": "vk-1"}, "config.virtual_key: virtual key 'vk-1' is not in the local vault"),
    ],
)
def test_bad_targets_fail_at_construction(config, message) -> None:
    with pytest.raises(ConfigurationError) as info:
        Gateway(config, env={})
    assert message in str(info.value)


async def test_bad_requests_name_the_field() -> None:
    gw = Gateway(OPENAI)
    with pytest.raises(InvalidRequestError, match=r"request.model: 'model' is required"):
        await gw.chat({"messages": [{"role": "user", "content": "hi"}]})
    with pytest.raises(InvalidRequestError, match=r"request.messages: 'messages' must be a non-empty list"):
        await gw.chat({"model": "m", "messages": []})


async def test_canary_key_never_leaks(upstream, caplog) -> None:
    canary = "sk-canary-7f3a9b2c4d"
    echo = {"error": {"message": f"Incorrect API key provided: {canary}. Bearer {canary}"}}
    up = upstream(lambda r: json_response(echo, 401))
    caplog.set_level(logging.DEBUG)
    gw = Gateway({"provider": "openai", "api_key": canary}, transport=up.transport)
    with pytest.raises(AuthenticationError) as info:
        await gw.chat(BODY)
    stream = gw.stream(BODY)
    with pytest.raises(AuthenticationError) as stream_info:
        await stream.open()
    outputs = [
        str(info.value),
        repr(info.value),
        repr(info.value.args),
        str(stream_info.value),
        repr(gw),
        repr(stream.route),
        caplog.text,
    ]
    assert up.requests[0].headers["authorization"] == f"Bearer {canary}"  # it was really sent
    for text in outputs:
        assert canary not in text
    assert "Incorrect API key provided" in str(info.value)


def test_virtual_key_without_a_portkey_key_fails_at_construction() -> None:
    with pytest.raises(
        ConfigurationError, match=r"config.virtual_key: virtual key 'vk' is not in the local vault"
    ):
        Gateway(client_args={"virtual_key": "vk"}, env={})
    self_hosted = Gateway(client_args={"virtual_key": "vk", "base_url": "http://127.0.0.1:8787/v1"}, env={})
    assert "portkey" in repr(self_hosted)


async def test_gateways_share_a_transport_without_closing_it() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        return json_response(completion("shared"))

    shared = Transport(httpx.MockTransport(handler))
    first = Gateway(
        {"provider": "openai", "api_key": "sk-a", "custom_host": "http://one.test/v1"}, transport=shared
    )
    second = Gateway(
        {"provider": "openai", "api_key": "sk-b", "custom_host": "http://two.test/v1"}, transport=shared
    )
    await first.chat({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    backend = shared._state().backend
    await first.aclose()  # not the owner: the shared pool stays open
    assert not backend.is_closed
    await second.chat({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    assert seen == ["one.test", "two.test"]
    await shared.aclose()
    assert backend.is_closed
