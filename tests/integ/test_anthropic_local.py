"""The Anthropic adapter against a real Anthropic-format server: llama.cpp's llama-server on loopback.

llama-server (built by `hatch run llama-server ensure`) serves SmolLM2-135M with `/v1/messages`
and genuine SSE. The model calls no tools here (its template has none), so tool calls come from
the OpenAI-compatible local model (llama-cpp-python, forced by name) and the cross-provider tests
check that the *history* one provider produced is accepted by the other, in one agent.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from strands import Agent, tool
from strands.hooks import AfterToolCallEvent

from strands_portkey import Gateway, PortkeyModel
from strands_portkey.errors import ContextWindowExceededError

pytestmark = pytest.mark.integ

QUESTION = "What is the capital of France?"
SYSTEM = "You are a helpful assistant. Answer in one short sentence."


def anthropic_config(server: Any) -> dict[str, Any]:
    return {"provider": "anthropic", "custom_host": server.base_url, "api_key": "unused-local-key"}


def anthropic_model(server: Any, **params: Any) -> PortkeyModel:
    return PortkeyModel(
        gateway=Gateway(anthropic_config(server)),
        model_id=server.model,
        params={"temperature": 0, "max_tokens": 48, **params},
    )


def openai_model(server: Any, **params: Any) -> PortkeyModel:
    return PortkeyModel(
        client_args={"provider": "llama-cpp", "custom_host": server.base_url},
        model_id=server.model,
        params={"temperature": 0, "max_tokens": 48, **params},
    )


def test_gateway_chat_and_stream_through_v1_messages(llama_server) -> None:
    gateway = Gateway(anthropic_config(llama_server))
    body = {
        "model": llama_server.model,
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}],
        "max_tokens": 32,
        "temperature": 0,
    }

    async def run() -> tuple[Any, list[Any], Any]:
        whole = await gateway.chat(body)
        async with gateway.stream(body) as stream:
            chunks = [chunk async for chunk in stream]
            route = stream.route
        await gateway.aclose()
        return whole, chunks, route

    whole, chunks, route = asyncio.run(run())
    assert "Paris" in whole.text
    assert whole.finish_reason == "stop"
    assert whole.usage.prompt_tokens > 0
    assert whole.usage.completion_tokens > 0
    assert whole.route is not None
    assert whole.route.provider == "anthropic"
    text_chunks = [c.delta.content for chunk in chunks for c in chunk.choices if c.delta.content]
    assert len(text_chunks) > 1  # genuinely streamed, one delta per token
    assert "".join(text_chunks) == whole.text  # temperature 0: the same answer both ways
    finishes = [c.finish_reason for chunk in chunks for c in chunk.choices if c.finish_reason]
    assert finishes == ["stop"]
    usage = [chunk.usage for chunk in chunks if chunk.usage is not None][-1]
    assert usage.completion_tokens == whole.usage.completion_tokens
    assert route.attempts[0].status_code == 200


def test_max_tokens_maps_to_length(llama_server) -> None:
    gateway = Gateway(anthropic_config(llama_server))
    body = {"model": llama_server.model, "messages": [{"role": "user", "content": "Tell me a story."}]}

    async def run() -> Any:
        try:
            return await gateway.chat({**body, "max_tokens": 3})
        finally:
            await gateway.aclose()

    response = asyncio.run(run())
    assert response.finish_reason == "length"
    assert response.usage.completion_tokens == 3


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_agent_through_the_anthropic_adapter(llama_server, stream: bool) -> None:
    model = anthropic_model(llama_server)
    model.update_config(stream=stream)
    agent = Agent(model=model, system_prompt=SYSTEM, callback_handler=None, retry_strategy=None)
    result = agent(QUESTION)
    assert result.stop_reason == "end_turn"
    assert "Paris" in str(result)
    usage = result.metrics.accumulated_usage
    assert usage["inputTokens"] > 0
    assert usage["outputTokens"] > 0
    assert model.last_route is not None
    assert model.last_route.provider == "anthropic"


def test_context_overflow_is_mapped(llama_server) -> None:
    """A real error answer from /v1/messages: far more tokens than the 4096-token context."""
    gateway = Gateway(anthropic_config(llama_server))
    long_text = "word " * 6000
    body = {
        "model": llama_server.model,
        "messages": [{"role": "user", "content": long_text}],
        "max_tokens": 8,
    }

    async def run() -> None:
        try:
            await gateway.chat(body)
        finally:
            await gateway.aclose()

    with pytest.raises(ContextWindowExceededError) as caught:
        asyncio.run(run())
    assert caught.value.provider == "anthropic"
    assert caught.value.status_code == 400


def _weather_tool(calls: list[str]) -> Any:
    @tool
    def get_weather(city: str) -> str:
        """Get the weather for a city.

        Args:
            city: City name.
        """
        calls.append(city)
        return f"Sunny, 22C in {city}"

    return get_weather


def _kinds(agent: Agent) -> list[str]:
    return [next(iter(block)) for message in agent.messages for block in message["content"]]


def test_openai_turn_with_tools_then_anthropic_turn(local_model, llama_server) -> None:
    """Turn 1 on the OpenAI-format server makes a tool call; turn 2 on /v1/messages takes that history."""
    calls: list[str] = []
    forced = {"type": "function", "function": {"name": "get_weather"}}
    first = openai_model(local_model, max_tokens=256, tool_choice=forced)
    agent = Agent(model=first, tools=[_weather_tool(calls)], system_prompt=SYSTEM, callback_handler=None)
    agent.add_hook(
        lambda event: first.update_config(params={"temperature": 0, "max_tokens": 48}), AfterToolCallEvent
    )
    agent("What is the weather in Paris?")
    assert len(calls) == 1
    assert {"toolUse", "toolResult"} <= set(_kinds(agent))

    second = anthropic_model(llama_server)
    agent.model = second
    result = agent("Thanks. And what is the capital of France?")
    assert result.stop_reason == "end_turn"
    assert str(result).strip()
    assert second.last_route is not None
    assert second.last_route.provider == "anthropic"
    assert second.last_route.status_code == 200


def test_anthropic_turn_then_openai_turn_with_tools(local_model, llama_server) -> None:
    """Turn 1 on /v1/messages; turn 2 on the OpenAI-format server calls a tool with that history;
    turn 3 goes back to /v1/messages with tool calls and results in the history."""
    calls: list[str] = []
    agent = Agent(
        model=anthropic_model(llama_server),
        tools=[_weather_tool(calls)],
        system_prompt=SYSTEM,
        callback_handler=None,
    )
    first = agent(QUESTION)
    assert "Paris" in str(first)

    forced = {"type": "function", "function": {"name": "get_weather"}}
    middle = openai_model(local_model, max_tokens=256, tool_choice=forced)
    agent.model = middle
    agent.add_hook(
        lambda event: middle.update_config(params={"temperature": 0, "max_tokens": 48}), AfterToolCallEvent
    )
    agent("What is the weather there?")
    assert len(calls) == 1

    last = anthropic_model(llama_server)
    agent.model = last
    result = agent("Thank you.")
    assert result.stop_reason == "end_turn"
    kinds = _kinds(agent)
    assert kinds.count("toolUse") == 1
    assert kinds.count("toolResult") == 1
    assert last.last_route is not None
    assert last.last_route.status_code == 200
    json.dumps(agent.messages, default=str)  # the whole history stays serialisable


class _FailingProxy:
    """Forwards to ``target`` until ``fail`` is set, then answers 503 (a primary that went down)."""

    def __init__(self, target: str) -> None:
        import http.server
        import threading

        import httpx

        proxy = self
        self.fail = False
        self.hits = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                proxy.hits += 1
                if proxy.fail:
                    payload, status, kind = (
                        b'{"error": {"message": "primary is down"}}',
                        503,
                        "application/json",
                    )
                else:
                    upstream = httpx.post(
                        target + self.path.removeprefix("/v1"),
                        content=body,
                        headers={"content-type": "application/json"},
                        timeout=120,
                    )
                    payload, status = upstream.content, upstream.status_code
                    kind = upstream.headers.get("content-type", "application/json")
                self.send_response(status)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                return None

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def test_a_fallback_config_hands_a_tool_conversation_from_openai_format_to_anthropic(
    local_model, llama_server
) -> None:
    """One model, one fallback config: the OpenAI-format primary makes a tool call, then goes down;
    the next turn falls back to /v1/messages and carries on with the tool history."""
    proxy = _FailingProxy(local_model.base_url)
    try:
        config = {
            "strategy": {"mode": "fallback"},
            "targets": [
                {"provider": "llama-cpp", "custom_host": proxy.base_url},
                anthropic_config(llama_server),
            ],
        }
        forced = {"type": "function", "function": {"name": "get_weather"}}
        model = PortkeyModel(
            client_args={"config": config},
            model_id=local_model.model,
            params={"temperature": 0, "max_tokens": 256, "tool_choice": forced},
        )
        calls: list[str] = []
        agent = Agent(model=model, tools=[_weather_tool(calls)], system_prompt=SYSTEM, callback_handler=None)
        agent.add_hook(
            lambda event: model.update_config(params={"temperature": 0, "max_tokens": 48}), AfterToolCallEvent
        )
        agent("What is the weather in Paris?")
        assert len(calls) == 1
        assert model.last_route is not None
        assert model.last_route.last_used_option_index == "config.targets[0]"

        proxy.fail = True
        result = agent("Thanks. And what is the capital of France?")
        assert result.stop_reason == "end_turn"
        assert str(result).strip()
        route = model.last_route
        assert route is not None
        assert (route.last_used_option_index, route.provider) == ("config.targets[1]", "anthropic")
        assert [a.status_code for a in route.attempts] == [503, 200]
        assert {"toolUse", "toolResult"} <= set(_kinds(agent))
    finally:
        proxy.close()
