"""The real ``anthropic`` SDK against the codec, over a Gateway whose upstream speaks OpenAI.

The SDK's HTTP client is an ``httpx.MockTransport`` whose handler plays the ``/v1/messages``
route (the codec's public functions, as the server calls them); the Gateway's upstream is another
MockTransport scripted as an OpenAI-format provider. So a Claude-style client is served by GPT.
"""

import json

import anthropic
import httpx
import pytest

from strands_portkey import Gateway
from strands_portkey.errors import GatewayError
from strands_portkey.server.dataplane.messages_codec import (
    anthropic_error_body,
    chat_request_from_messages,
    message_from_response,
)
from strands_portkey.server.dataplane.messages_stream import message_events
from tests.unit.conftest import chunk, completion, sse

try:  # the SDK's own HTTP library: httpx2 from anthropic 2 on, httpx before
    import httpx2 as sdk_http  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - older SDKs
    sdk_http = httpx

ENV: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path, monkeypatch) -> None:
    """Gateways here look for a control plane in a fresh, empty data directory (none is created)."""
    monkeypatch.setitem(ENV, "STRANDS_PORTKEY_HOME", str(tmp_path))


OPENAI = {"provider": "openai", "api_key": "sk-test-1234"}
TOOL = {
    "name": "weather",
    "description": "Weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}
TOOL_CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "weather", "arguments": '{"city": "Paris"}'},
}


def messages_route(gateway: Gateway):
    """What the server's /v1/messages route does, with the codec's public functions."""

    async def handle(request):
        assert request.url.path == "/v1/messages"
        try:
            chat = chat_request_from_messages(json.loads(request.content))
            if chat.stream:
                stream = gateway.stream(chat)
                await stream.open()
                return sdk_http.Response(
                    200,
                    headers={"content-type": "text/event-stream"},
                    content=message_events(stream, model=chat.model),
                )
            answer = await gateway.chat(chat)
        except GatewayError as error:
            status, body = anthropic_error_body(error)
            return sdk_http.Response(status, json=body)
        return sdk_http.Response(200, json=message_from_response(answer, model=chat.model))

    return handle


def client_for(gateway: Gateway) -> anthropic.AsyncAnthropic:
    transport = sdk_http.MockTransport(messages_route(gateway))
    return anthropic.AsyncAnthropic(
        base_url="http://gateway.test",
        api_key="x",
        max_retries=0,
        http_client=sdk_http.AsyncClient(transport=transport),
    )


def sse_response(body: bytes) -> httpx.Response:
    return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})


async def test_create_text(upstream) -> None:
    up = upstream(lambda r: httpx.Response(200, json=completion("Bonjour")))
    client = client_for(Gateway(OPENAI, transport=up.transport, env=ENV))
    message = await client.messages.create(
        model="gpt-4o", max_tokens=64, system="Speak French.", messages=[{"role": "user", "content": "Hello"}]
    )
    assert message.content[0].type == "text"
    assert message.content[0].text == "Bonjour"
    assert message.stop_reason == "end_turn"
    assert message.role == "assistant"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (3, 2)
    assert message.id.startswith("msg_")
    assert up.body() == {
        "model": "gpt-4o",
        "messages": [{"role": "system", "content": "Speak French."}, {"role": "user", "content": "Hello"}],
        "max_tokens": 64,
    }


async def test_create_tool_use(upstream) -> None:
    up = upstream(
        lambda r: httpx.Response(200, json=completion(None, finish="tool_calls", tool_calls=[TOOL_CALL]))
    )
    client = client_for(Gateway(OPENAI, transport=up.transport, env=ENV))
    message = await client.messages.create(
        model="gpt-4o",
        max_tokens=64,
        tools=[TOOL],
        messages=[{"role": "user", "content": "Weather in Paris?"}],
    )
    assert message.stop_reason == "tool_use"
    [block] = message.content
    assert block.type == "tool_use"
    assert (block.id, block.name, block.input) == (
        "call_1",
        "weather",
        {"city": "Paris"},
    )


async def test_sdk_history_with_tools_makes_the_right_canonical_request(upstream) -> None:
    up = upstream(lambda r: httpx.Response(200, json=completion("It is sunny.")))
    client = client_for(Gateway(OPENAI, transport=up.transport, env=ENV))
    await client.messages.create(
        model="gpt-4o",
        max_tokens=50,
        extra_body={"temperature": 0.1},
        stop_sequences=["STOP"],
        metadata={"user_id": "user-7"},
        tools=[TOOL],
        tool_choice={"type": "auto", "disable_parallel_tool_use": True},
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "toolu_9", "name": "weather", "input": {"city": "Paris"}}
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_9",
                        "content": [{"type": "text", "text": "sunny, 21C"}],
                    }
                ],
            },
        ],
    )
    sent = up.body()
    assert sent["messages"] == [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "toolu_9",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_9", "content": "sunny, 21C"},
    ]
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "weather",
                "description": "Weather in a city",
                "parameters": TOOL["input_schema"],
            },
        }
    ]
    assert sent["tool_choice"] == "auto"
    assert sent["parallel_tool_calls"] is False
    assert (sent["max_tokens"], sent["temperature"], sent["stop"], sent["user"]) == (
        50,
        0.1,
        ["STOP"],
        "user-7",
    )


async def test_stream_text_events_and_final_message(upstream) -> None:
    body = sse(
        chunk("Hel"),
        chunk("lo"),
        chunk(finish="stop"),
        {
            "id": "c1",
            "model": "m",
            "choices": [],
            "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
        },
    )
    up = upstream(lambda r: sse_response(body))
    client = client_for(Gateway(OPENAI, transport=up.transport, env=ENV))
    async with client.messages.stream(
        model="gpt-4o", max_tokens=32, messages=[{"role": "user", "content": "Hi"}]
    ) as stream:
        texts = [text async for text in stream.text_stream]
        final = await stream.get_final_message()
    assert texts == ["Hel", "lo"]
    assert final.content[0].text == "Hello"
    assert final.stop_reason == "end_turn"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (9, 2)
    assert up.body()["stream"] is True


async def test_stream_tool_use_events(upstream) -> None:
    def call(index, arguments, **extra):
        return chunk(
            tool_calls=[
                {"index": index, "function": {"arguments": arguments, **extra.pop("function", {})}, **extra}
            ]
        )

    body = sse(
        chunk("Checking."),
        call(0, "", id="call_1", type="function", function={"name": "weather"}),
        call(0, '{"city": '),
        call(0, '"Paris"}'),
        call(1, '{"city": "Rome"}', id="call_2", type="function", function={"name": "weather"}),
        chunk(finish="tool_calls"),
    )
    up = upstream(lambda r: sse_response(body))
    client = client_for(Gateway(OPENAI, transport=up.transport, env=ENV))
    seen = []
    async with client.messages.stream(
        model="gpt-4o", max_tokens=32, tools=[TOOL], messages=[{"role": "user", "content": "Paris and Rome?"}]
    ) as stream:
        async for event in stream:
            seen.append(event.type)
        final = await stream.get_final_message()
    assert "input_json" in seen
    assert seen[-1] == "message_stop"
    assert [block.type for block in final.content] == ["text", "tool_use", "tool_use"]
    assert [(b.id, b.input) for b in final.content[1:]] == [
        ("call_1", {"city": "Paris"}),
        ("call_2", {"city": "Rome"}),
    ]
    assert final.stop_reason == "tool_use"


async def test_failure_mid_stream_raises_in_the_sdk(upstream) -> None:
    up = upstream(lambda r: sse_response(sse(chunk("partial"), done=False)))  # cut before a finish
    client = client_for(Gateway(OPENAI, transport=up.transport, env=ENV))

    async def consume() -> None:
        async with client.messages.stream(
            model="gpt-4o", max_tokens=32, messages=[{"role": "user", "content": "Hi"}]
        ) as stream:
            async for _ in stream:
                pass

    with pytest.raises(anthropic.APIStatusError) as raised:
        await consume()
    assert "ended" in str(raised.value) or "complete" in str(raised.value)


async def test_errors_reach_the_sdk_as_its_exceptions(upstream) -> None:
    up = upstream(
        lambda r: httpx.Response(429, json={"error": {"message": "slow down", "type": "rate_limit"}})
    )
    client = client_for(Gateway(OPENAI, transport=up.transport, env=ENV))
    with pytest.raises(anthropic.RateLimitError) as raised:
        await client.messages.create(
            model="gpt-4o", max_tokens=8, messages=[{"role": "user", "content": "Hi"}]
        )
    assert raised.value.body["error"]["type"] == "rate_limit_error"
    with pytest.raises(anthropic.BadRequestError, match="max_tokens"):
        await client.messages.create(
            model="gpt-4o", max_tokens=0, messages=[{"role": "user", "content": "Hi"}]
        )
    assert len(up.requests) == 1  # the refused request never reached the upstream
