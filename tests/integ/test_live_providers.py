"""Live tests of the native providers: `hatch run test-integ`; each skips, saying why, without its keys.

Provider, what it needs, and the model used:

- anthropic: ANTHROPIC_API_KEY; $STRANDS_PORTKEY_LIVE_ANTHROPIC_MODEL (claude-3-5-haiku-latest)
- bedrock: AWS_REGION plus AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or AWS_BEARER_TOKEN_BEDROCK);
  $STRANDS_PORTKEY_LIVE_BEDROCK_MODEL (us.anthropic.claude-3-5-haiku-20241022-v1:0)
- azure-openai: AZURE_OPENAI_API_KEY, AZURE_OPENAI_RESOURCE, AZURE_OPENAI_DEPLOYMENT (its model)
- google and google-openai: GEMINI_API_KEY; $STRANDS_PORTKEY_LIVE_GEMINI_MODEL (gemini-2.5-flash)
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from strands import Agent, tool

from strands_portkey import Gateway, PortkeyModel

pytestmark = pytest.mark.live

ENV = os.environ
GEMINI_MODEL = ENV.get("STRANDS_PORTKEY_LIVE_GEMINI_MODEL", "gemini-2.5-flash")


def _missing(*names: str) -> str | None:
    absent = [name for name in names if not ENV.get(name)]
    return f"{', '.join(absent)} not set" if absent else None


def _bedrock_missing() -> str | None:
    if not ENV.get("AWS_REGION"):
        return "AWS_REGION not set"
    if ENV.get("AWS_BEARER_TOKEN_BEDROCK"):
        return None
    return _missing("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


CASES: list[tuple[str, dict[str, Any], str, str | None]] = [
    (
        "anthropic",
        {"provider": "anthropic"},
        ENV.get("STRANDS_PORTKEY_LIVE_ANTHROPIC_MODEL", "claude-3-5-haiku-latest"),
        _missing("ANTHROPIC_API_KEY"),
    ),
    (
        "bedrock",
        {"provider": "bedrock"},
        ENV.get("STRANDS_PORTKEY_LIVE_BEDROCK_MODEL", "us.anthropic.claude-3-5-haiku-20241022-v1:0"),
        _bedrock_missing(),
    ),
    (
        "azure-openai",
        {
            "provider": "azure-openai",
            "azure_resource_name": ENV.get("AZURE_OPENAI_RESOURCE", ""),
            "azure_deployment_id": ENV.get("AZURE_OPENAI_DEPLOYMENT", ""),
        },
        ENV.get("AZURE_OPENAI_DEPLOYMENT", ""),
        _missing("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_RESOURCE", "AZURE_OPENAI_DEPLOYMENT"),
    ),
    ("google", {"provider": "google"}, GEMINI_MODEL, _missing("GEMINI_API_KEY")),
    ("google-openai", {"provider": "google-openai"}, GEMINI_MODEL, _missing("GEMINI_API_KEY")),
]


@tool
def get_weather(city: str) -> str:
    """Get the weather for a city.

    Args:
        city: City name.
    """
    return f"Sunny, 22C in {city}"


def _case(provider: str, config: dict[str, Any], model: str, why: str | None) -> Any:
    return pytest.param(
        provider, config, model, id=provider, marks=pytest.mark.skipif(why is not None, reason=why or "")
    )


@pytest.mark.parametrize(("provider", "config", "model"), [_case(*case) for case in CASES])
@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_tool_round_trip(provider: str, config: dict[str, Any], model: str, stream: bool) -> None:
    portkey_model = PortkeyModel(
        gateway=Gateway(config), model_id=model, params={"temperature": 0, "max_tokens": 300}
    )
    portkey_model.update_config(stream=stream)
    agent = Agent(model=portkey_model, tools=[get_weather], callback_handler=None)
    result = agent("Use the tool to get the weather in Paris, then answer in one sentence.")
    assert result.stop_reason == "end_turn"
    assert any("toolResult" in block for message in agent.messages for block in message["content"])
    assert result.metrics.accumulated_usage["totalTokens"] > 0
    assert portkey_model.last_route is not None
    assert portkey_model.last_route.provider == provider
