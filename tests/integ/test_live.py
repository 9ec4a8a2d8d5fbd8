"""Live tests against hosted providers: run with `hatch run test-integ`; skipped without keys.

OPENAI_API_KEY enables the OpenAI tests (model: $STRANDS_PORTKEY_LIVE_OPENAI_MODEL, default
gpt-4o-mini). PORTKEY_API_KEY plus PORTKEY_VIRTUAL_KEY (an OpenAI virtual key in your Portkey
account) enables the hosted-Portkey tests.
"""

from __future__ import annotations

import os

import pytest
from strands import Agent, tool

from strands_portkey import PortkeyModel

pytestmark = pytest.mark.live

OPENAI_MODEL = os.environ.get("STRANDS_PORTKEY_LIVE_OPENAI_MODEL", "gpt-4o-mini")
needs_openai = pytest.mark.skipif(not os.environ.get("OPENAI_API_KEY"), reason="OPENAI_API_KEY is not set")
needs_portkey = pytest.mark.skipif(
    not (os.environ.get("PORTKEY_API_KEY") and os.environ.get("PORTKEY_VIRTUAL_KEY")),
    reason="PORTKEY_API_KEY and PORTKEY_VIRTUAL_KEY are not both set",
)


@tool
def get_weather(city: str) -> str:
    """Get the weather for a city.

    Args:
        city: City name.
    """
    return f"Sunny, 22C in {city}"


def _check_tool_round_trip(model: PortkeyModel) -> None:
    agent = Agent(model=model, tools=[get_weather], callback_handler=None)
    result = agent("Use the tool to get the weather in Paris, then answer in one sentence.")
    assert result.stop_reason == "end_turn"
    assert any("toolResult" in block for message in agent.messages for block in message["content"])
    assert result.metrics.accumulated_usage["totalTokens"] > 0
    assert model.last_route is not None
    assert model.last_route.status_code == 200


@needs_openai
def test_openai_direct_tool_round_trip() -> None:
    model = PortkeyModel(client_args={"provider": "openai"}, model_id=OPENAI_MODEL, params={"temperature": 0})
    _check_tool_round_trip(model)
    assert model.last_route is not None
    assert model.last_route.provider == "openai"


@needs_portkey
def test_hosted_portkey_tool_round_trip() -> None:
    model = PortkeyModel(
        client_args={
            "api_key": os.environ["PORTKEY_API_KEY"],
            "virtual_key": os.environ["PORTKEY_VIRTUAL_KEY"],
            "trace_id": "strands-portkey-live",
            "metadata": {"suite": "live"},
        },
        model_id=OPENAI_MODEL,
        params={"temperature": 0},
    )
    _check_tool_round_trip(model)
    assert model.last_route is not None
    assert model.last_route.provider == "portkey"
