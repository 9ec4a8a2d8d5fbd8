"""PortkeyModel against a scripted upstream (httpx MockTransport): real Agents, real wire bytes."""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import BaseModel
from strands import Agent, ModelRetryStrategy, tool
from strands.types.exceptions import (
    ContextWindowOverflowException,
    ModelThrottledException,
    StructuredOutputException,
)

from strands_portkey import ConfigurationError, Gateway, PortkeyModel
from strands_portkey.errors import BadRequestError, OverloadedError, RateLimitError, StreamInterruptedError
from tests.unit.conftest import chunk, sse

USAGE = {
    "id": "c1",
    "model": "m",
    "choices": [],
    "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
}


def tool_call_chunks(*calls: tuple[int, str, str, dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for index, call_id, name, args in calls:
        text = json.dumps(args)
        out.append(
            chunk(
                tool_calls=[
                    {
                        "index": index,
                        "id": call_id,
                        "type": "function",
                        "function": {"name": name, "arguments": text[:5]},
                    }
                ]
            )
        )
        out.append(chunk(tool_calls=[{"index": index, "function": {"arguments": text[5:]}}]))
    out.append(chunk(finish="tool_calls"))
    return out


class Script:
    """Answers each request with the next scripted response; records request bodies."""

    def __init__(self, *responses: httpx.Response | Callable[[httpx.Request], httpx.Response]) -> None:
        self.responses = list(responses)
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        response = self.responses.pop(0)
        return response(request) if callable(response) else response

    def model(self, **config: Any) -> PortkeyModel:
        gateway = Gateway({"provider": "openai", "api_key": "sk-test"}, transport=httpx.MockTransport(self))
        return PortkeyModel(gateway=gateway, model_id="gpt-4o", **config)


HI = [{"role": "user", "content": [{"text": "x"}]}]


async def drain(events) -> list[dict[str, Any]]:
    return [event async for event in events]


def stream_of(*payloads: dict[str, Any], done: bool = True) -> httpx.Response:
    return httpx.Response(
        200, content=sse(*payloads, done=done), headers={"content-type": "text/event-stream"}
    )


def error(status: int, message: str, code: str | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": {"message": message, "code": code}})


# --------------------------------------------------------------------------- configuration


def test_config_is_a_plain_dict_that_strands_can_read() -> None:
    model = Script().model(params={"temperature": 0.5})
    assert model.get_config() == {"model_id": "gpt-4o", "params": {"temperature": 0.5}}
    assert model.config.get("model_id") == "gpt-4o"
    model.update_config(model_id="gpt-4o-mini", params={"temperature": 0.1})
    assert model.get_config() == {"model_id": "gpt-4o-mini", "params": {"temperature": 0.1}}


def test_unknown_config_keys_warn_not_raise() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = Script().model(temprature=0.3)
        model.update_config(nope=1)
    messages = [str(w.message) for w in caught]
    assert any("['temprature']" in m for m in messages)
    assert any("['nope']" in m for m in messages)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "model_id: model_id is required"),
        ({"model_id": ""}, "model_id: model_id is required"),
        ({"model_id": "m", "params": [1]}, "params: expected a dict"),
        ({"model_id": "m", "stream": "yes"}, "stream: expected True or False"),
    ],
)
def test_bad_model_config_is_a_clear_error(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        PortkeyModel(client_args={"provider": "ollama"}, **kwargs)


def test_client_args_and_gateway_are_exclusive() -> None:
    with pytest.raises(ConfigurationError, match="either client_args or gateway"):
        PortkeyModel({"provider": "ollama"}, gateway=Gateway({"provider": "ollama"}), model_id="m")


def test_seed_style_construction_with_client_args() -> None:
    model = PortkeyModel(client_args={"api_key": "pk-1", "virtual_key": "vk"}, model_id="gpt-4o")
    assert model.config["model_id"] == "gpt-4o"
    assert "pk-1" not in repr(model)


def test_context_window_limit_is_honoured() -> None:
    assert Script().model(context_window_limit=8192).context_window_limit == 8192


# --------------------------------------------------------------------------- agent round trips


def test_agent_runs_a_tool_and_finishes() -> None:
    script = Script(
        stream_of(*tool_call_chunks((0, "call_1", "get_weather", {"city": "Paris"})), USAGE),
        stream_of(chunk("Sunny in "), chunk("Paris."), chunk(finish="stop"), USAGE),
    )
    seen: list[str] = []

    @tool
    def get_weather(city: str) -> str:
        """Weather for a city.

        Args:
            city: City name.
        """
        seen.append(city)
        return f"sunny in {city}"

    agent = Agent(model=script.model(), tools=[get_weather], callback_handler=None)
    result = agent("weather in Paris?")
    assert seen == ["Paris"]
    assert str(result).strip() == "Sunny in Paris."
    assert result.metrics.accumulated_usage["totalTokens"] == 20
    second = script.bodies[1]["messages"]
    assert second[1]["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    assert second[2] == {"role": "tool", "tool_call_id": "call_1", "content": "sunny in Paris"}
    assert script.bodies[0]["tools"][0]["function"]["name"] == "get_weather"
    assert "tool_choice" not in script.bodies[0]


def test_agent_runs_parallel_tools_and_answers_once() -> None:
    script = Script(
        stream_of(
            *tool_call_chunks(
                (0, "call_a", "get_weather", {"city": "Paris"}),
                (1, "call_b", "get_weather", {"city": "Rome"}),
            )
        ),
        stream_of(chunk("Both sunny."), chunk(finish="stop")),
    )
    cities: list[str] = []

    @tool
    def get_weather(city: str) -> str:
        """Weather for a city.

        Args:
            city: City name.
        """
        cities.append(city)
        return city

    agent = Agent(model=script.model(), tools=[get_weather], callback_handler=None)
    agent("weather?")
    assert sorted(cities) == ["Paris", "Rome"]
    tool_messages = [m for m in script.bodies[1]["messages"] if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_messages] == ["call_a", "call_b"]


class Weather(BaseModel):
    """Weather report."""

    city: str
    celsius: int


def test_agent_structured_output_via_forced_tool() -> None:
    script = Script(
        stream_of(chunk("It is 21 degrees in Oslo."), chunk(finish="stop")),
        stream_of(*tool_call_chunks((0, "call_w", "Weather", {"city": "Oslo", "celsius": 21}))),
    )
    agent = Agent(model=script.model(), callback_handler=None)
    result = agent("weather in Oslo?", structured_output_model=Weather)
    assert result.structured_output == Weather(city="Oslo", celsius=21)
    assert script.bodies[1]["tool_choice"] == {"type": "function", "function": {"name": "Weather"}}
    assert [t["function"]["name"] for t in script.bodies[1]["tools"]] == ["Weather"]


async def test_model_structured_output_validates() -> None:
    script = Script(stream_of(*tool_call_chunks((0, "c", "Weather", {"city": "Oslo", "celsius": 3}))))
    events = [e async for e in script.model().structured_output(Weather, HI)]
    assert events[-1] == {"output": Weather(city="Oslo", celsius=3)}
    assert script.bodies[0]["tool_choice"] == {"type": "function", "function": {"name": "Weather"}}


async def test_model_structured_output_mismatch_raises_strands_error() -> None:
    script = Script(stream_of(*tool_call_chunks((0, "c", "Weather", {"city": "Oslo", "celsius": "warm"}))))
    with pytest.raises(StructuredOutputException, match="does not match the schema") as info:
        async for _ in script.model().structured_output(Weather, HI):
            pass
    assert info.value.__cause__ is not None


async def test_model_structured_output_without_tool_call_raises() -> None:
    script = Script(stream_of(chunk("no"), chunk(finish="stop")))
    with pytest.raises(StructuredOutputException, match="did not call"):
        async for _ in script.model().structured_output(Weather, HI):
            pass


# --------------------------------------------------------------------------- stream events


async def test_stream_event_sequence_with_real_latency() -> None:
    script = Script(stream_of(chunk("Hi"), chunk(finish="stop"), USAGE))
    events = [e async for e in script.model().stream(HI)]
    assert events[:5] == [
        {"messageStart": {"role": "assistant"}},
        {"contentBlockStart": {"start": {}}},
        {"contentBlockDelta": {"delta": {"text": "Hi"}}},
        {"contentBlockStop": {}},
        {"messageStop": {"stopReason": "end_turn"}},
    ]
    metadata = events[5]["metadata"]
    assert metadata["usage"] == {"inputTokens": 7, "outputTokens": 3, "totalTokens": 10}
    assert metadata["metrics"]["latencyMs"] >= 0
    assert len(events) == 6


async def test_non_streaming_mode_gives_the_same_events() -> None:
    completion = {
        "id": "r",
        "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Hi"}}],
        "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
    }
    script = Script(httpx.Response(200, json=completion))
    model = script.model(stream=False)
    events = [e async for e in model.stream(HI)]
    assert [next(iter(e)) for e in events] == [
        "messageStart",
        "contentBlockStart",
        "contentBlockDelta",
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    assert "stream" not in script.bodies[0]
    assert model.last_route is not None
    assert model.last_route.status_code == 200


async def test_system_prompt_content_and_tool_choice_reach_the_request() -> None:
    script = Script(stream_of(chunk("ok"), chunk(finish="stop")))
    spec = {
        "name": "f",
        "description": "d",
        "inputSchema": {"json": {"type": "object"}},
        "outputSchema": {"json": {}},
    }
    _ = [
        e
        async for e in script.model().stream(
            HI,
            [spec],
            "ignored",
            system_prompt_content=[{"text": "Be terse."}],
            tool_choice={"any": {}},
        )
    ]
    body = script.bodies[0]
    assert body["messages"][0] == {"role": "system", "content": "Be terse."}
    assert body["tool_choice"] == "required"
    assert body["tools"] == [
        {"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object"}}}
    ]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("response", "strands_error", "cause"),
    [
        (error(429, "Rate limit reached"), ModelThrottledException, RateLimitError),
        (error(529, "Overloaded"), ModelThrottledException, OverloadedError),
        (
            error(400, "This model's maximum context length is 8192 tokens", "context_length_exceeded"),
            ContextWindowOverflowException,
            BadRequestError,
        ),
    ],
)
async def test_request_time_errors_map_to_strands(response, strands_error, cause) -> None:
    model = Script(response).model()
    with pytest.raises(strands_error) as info:
        async for _ in model.stream(HI):
            pass
    assert isinstance(info.value.__cause__, cause)


async def test_other_errors_pass_through_unchanged() -> None:
    model = Script(error(400, "invalid tool schema")).model()
    with pytest.raises(BadRequestError, match="invalid tool schema"):
        async for _ in model.stream(HI):
            pass


async def test_mid_stream_errors_map_to_strands_too() -> None:
    overloaded = {"error": {"message": "Overloaded", "type": "overloaded_error"}}
    model = Script(stream_of(chunk("partial"), overloaded)).model()
    events: list[dict[str, Any]] = []

    async def consume() -> None:
        async for event in model.stream(HI):
            events.append(event)

    with pytest.raises(ModelThrottledException) as info:
        await consume()
    assert isinstance(info.value.__cause__, OverloadedError)
    assert not any("messageStop" in e for e in events)


async def test_cut_stream_is_never_a_finished_answer() -> None:
    model = Script(stream_of(chunk("partial"), done=False)).model()
    events: list[dict[str, Any]] = []

    async def consume() -> None:
        async for event in model.stream(HI):
            events.append(event)

    with pytest.raises(StreamInterruptedError, match="ended before it was complete"):
        await consume()
    assert not any("messageStop" in e for e in events)


class BreaksAfter(httpx.AsyncByteStream):
    """A streamed body that delivers ``parts``, then loses its connection."""

    def __init__(self, *parts: bytes) -> None:
        self._parts = parts

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        for part in self._parts:
            yield part
        raise httpx.ReadError("connection reset by peer")


async def test_a_stream_broken_after_its_first_chunk_leaves_a_failed_last_route() -> None:
    model = Script(httpx.Response(200, stream=BreaksAfter(sse(chunk("partial"), done=False)))).model()
    events: list[dict[str, Any]] = []

    async def consume() -> None:
        async for event in model.stream(HI):
            events.append(event)

    with pytest.raises(StreamInterruptedError, match="broke") as info:
        await consume()
    assert any("contentBlockDelta" in e for e in events)  # the first chunk reached the agent
    route = model.last_route
    assert route is not None
    assert route is info.value.route
    assert route.status_code == info.value.status_code == 502
    assert [(a.status_code, a.error_type) for a in route.attempts] == [(502, "StreamInterruptedError")]


def test_agent_retries_a_throttled_turn() -> None:
    script = Script(error(429, "Rate limit reached"), stream_of(chunk("fine"), chunk(finish="stop")))
    agent = Agent(
        model=script.model(),
        callback_handler=None,
        retry_strategy=ModelRetryStrategy(initial_delay=0, max_attempts=3),
    )
    assert str(agent("hi")).strip() == "fine"
    assert len(script.bodies) == 2


async def test_cancel_signal_set_before_the_call_sends_nothing_and_ends_quietly() -> None:
    script = Script()
    cancel = threading.Event()
    cancel.set()
    events = [e async for e in script.model().stream(HI, cancel_signal=cancel)]
    assert not any("messageStop" in e for e in events)


async def test_cancel_signal_between_chunks_stops_the_stream() -> None:
    script = Script(stream_of(chunk("a"), chunk("b"), chunk("c"), chunk(finish="stop")))
    cancel = threading.Event()
    events = []
    async for event in script.model().stream(HI, cancel_signal=cancel):
        events.append(event)
        if "contentBlockDelta" in event:
            cancel.set()
    deltas = [e for e in events if "contentBlockDelta" in e]
    assert len(deltas) == 1
    assert not any("messageStop" in e for e in events)
