"""A real Strands agent through PortkeyModel and the gateway, against the real local model.

SmolLM2-135M (llama-cpp-python on 127.0.0.1) is deterministic at temperature 0 and calls a tool
only when forced by name; these tests assert structure (events, stop reasons, tool execution,
validation), and wording only where the reference shows it is stable.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from pydantic import BaseModel
from strands import Agent, ModelRetryStrategy, tool
from strands.hooks import AfterToolCallEvent

from strands_portkey import Gateway, PortkeyModel

pytestmark = pytest.mark.integ

CAPITAL = [{"role": "user", "content": [{"text": "What is the capital of France?"}]}]


class City(BaseModel):
    """A city and its country."""

    name: str
    country: str


def local_portkey_model(server, **params) -> PortkeyModel:
    return PortkeyModel(
        client_args={"provider": "llama-cpp", "custom_host": server.base_url, "trace_id": "integ"},
        model_id=server.model,
        params={"temperature": 0, "max_tokens": 48, **params},
    )


def test_plain_answer(local_model) -> None:
    model = local_portkey_model(local_model)
    agent = Agent(model=model, callback_handler=None, retry_strategy=None)
    result = agent("What is the capital of France?")
    assert result.stop_reason == "end_turn"
    assert "Paris" in str(result)
    assert result.metrics.accumulated_metrics["latencyMs"] > 0
    route = model.last_route
    assert route is not None
    assert (route.provider, route.last_used_option_index, route.trace_id) == ("llama-cpp", "config", "integ")
    assert route.attempts[0].status_code == 200


def test_streamed_answer_deltas_add_up_to_the_final_text(local_model) -> None:
    agent = Agent(model=local_portkey_model(local_model), callback_handler=None, retry_strategy=None)

    async def run() -> tuple[list[str], str]:
        deltas, final = [], ""
        async for event in agent.stream_async("What is the capital of France?"):
            if "data" in event:
                deltas.append(event["data"])
            if "result" in event:
                final = str(event["result"])
        return deltas, final

    deltas, final = asyncio.run(run())
    assert len(deltas) > 1
    assert "".join(deltas).strip() == final.strip()
    assert "Paris" in final


def test_non_streaming_mode_gives_the_same_answer(local_model) -> None:
    streamed = Agent(model=local_portkey_model(local_model), callback_handler=None)(
        "What is the capital of France?"
    )
    model = local_portkey_model(local_model)
    model.update_config(stream=False)
    whole = Agent(model=model, callback_handler=None)("What is the capital of France?")
    assert str(whole).strip() == str(streamed).strip()


def test_forced_tool_call_is_executed_by_the_agent(local_model) -> None:
    calls: list[str] = []

    @tool
    def get_weather(city: str) -> str:
        """Get the weather for a city.

        Args:
            city: City name.
        """
        calls.append(city)
        return f"Sunny in {city}"

    plain = {"temperature": 0, "max_tokens": 256}
    forced = {"type": "function", "function": {"name": "get_weather"}}
    model = local_portkey_model(local_model, max_tokens=256, tool_choice=forced)
    agent = Agent(
        model=model,
        tools=[get_weather],
        callback_handler=None,
        retry_strategy=None,
        system_prompt="You are a helpful assistant. Answer in one short sentence.",
    )
    agent.add_hook(lambda event: model.update_config(params=plain), AfterToolCallEvent)
    result = agent("What is the weather in Paris?")

    assert len(calls) == 1
    assert calls[0].strip()
    assert result.stop_reason == "end_turn"
    kinds = [next(iter(block)) for message in agent.messages for block in message["content"]]
    assert "toolUse" in kinds
    assert "toolResult" in kinds
    assert result.metrics.cycle_count == 2


def test_agent_structured_output_through_the_forced_tool(local_model) -> None:
    agent = Agent(
        model=local_portkey_model(local_model, max_tokens=64),
        callback_handler=None,
        retry_strategy=ModelRetryStrategy(initial_delay=0, max_attempts=2),
    )
    result = agent(
        "Paris is the capital of France. Give the city and its country.", structured_output_model=City
    )
    assert isinstance(result.structured_output, City)
    assert result.structured_output.name.strip()


def test_model_structured_output(local_model) -> None:
    model = local_portkey_model(local_model, max_tokens=64)

    async def run() -> list[dict]:
        return [event async for event in model.structured_output(City, CAPITAL)]

    events = asyncio.run(run())
    assert isinstance(events[-1]["output"], City)


def test_cancellation_stops_the_stream_and_closes_the_connection(local_model) -> None:
    model = local_portkey_model(local_model, max_tokens=400)
    cancel = threading.Event()
    prompt = [{"role": "user", "content": [{"text": "Write a long story about a dragon."}]}]

    async def run() -> list[dict]:
        events = []
        async for event in model.stream(prompt, cancel_signal=cancel):
            events.append(event)
            if "contentBlockDelta" in event:
                cancel.set()
        return events

    started = time.perf_counter()
    events = asyncio.run(run())
    elapsed = time.perf_counter() - started
    assert sum("contentBlockDelta" in e for e in events) == 1
    assert not any("messageStop" in e for e in events)
    assert elapsed < 30
    # The connection was closed, so the server stopped generating and answers the next call.
    follow_up = Agent(model=local_portkey_model(local_model), callback_handler=None)(
        "What is the capital of France?"
    )
    assert "Paris" in str(follow_up)


def test_agent_cancel_reports_cancelled(local_model) -> None:
    agent = Agent(model=local_portkey_model(local_model, max_tokens=400), callback_handler=None)

    async def run() -> str:
        async for event in agent.stream_async("Write a long story about a dragon."):
            if "data" in event:
                agent.cancel()
            if "result" in event:
                return event["result"].stop_reason
        return "missing"

    assert asyncio.run(run()) == "cancelled"


def test_gateway_chat_and_stream_against_the_real_server(local_model) -> None:
    gateway = Gateway({"provider": "openai", "custom_host": local_model.base_url, "api_key": "unused"})
    body = {
        "model": local_model.model,
        "messages": [{"role": "user", "content": "What is the capital of France?"}],
        "max_tokens": 32,
        "temperature": 0,
    }

    async def run() -> tuple[str, str]:
        whole = await gateway.chat(body)
        parts = []
        async with gateway.stream(body) as stream:
            async for chunk in stream:
                parts.extend(c.delta.content or "" for c in chunk.choices)
        await gateway.aclose()
        return whole.text, "".join(parts)

    whole, streamed = asyncio.run(run())
    assert "Paris" in whole
    assert "Paris" in streamed
