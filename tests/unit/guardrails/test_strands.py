"""How a guardrail decision reaches a Strands agent: stop reason ``guardrail_intervened`` + redactContent."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from strands import Agent

from strands_portkey import Gateway, PortkeyModel
from tests.unit.conftest import chunk, completion, sse

NO_SECRET = {"default.contains": {"operator": "none", "words": ["secret"]}, "deny": True}


class Upstream:
    def __init__(self, reply: httpx.Response) -> None:
        self.reply = reply
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        return self.reply


def streamed(*texts: str) -> httpx.Response:
    body = sse(*[chunk(t) for t in texts], chunk(finish="stop"))
    return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})


def agent_for(config: dict[str, Any], upstream: Upstream, *, stream: bool = True) -> Agent:
    gateway = Gateway(
        {"provider": "openai", "api_key": "sk-test", **config}, transport=httpx.MockTransport(upstream)
    )
    return Agent(model=PortkeyModel(gateway=gateway, model_id="gpt-4o", stream=stream), callback_handler=None)


@pytest.mark.parametrize("stream", [True, False])
def test_input_denial_stops_the_agent_and_redacts_the_prompt(stream: bool) -> None:
    upstream = Upstream(streamed("never"))
    agent = agent_for({"input_guardrails": [NO_SECRET]}, upstream, stream=stream)
    result = agent("tell me the secret")
    assert result.stop_reason == "guardrail_intervened"
    assert upstream.bodies == []
    assert "blocked by guardrail" in str(result)
    assert "default.contains" in str(result)
    assert agent.messages[0]["content"] == [{"text": "[User input redacted.]"}]


def test_output_denial_mid_stream_replaces_the_streamed_text() -> None:
    upstream = Upstream(streamed("the secret ", "is 42"))
    agent = agent_for({"output_guardrails": [NO_SECRET]}, upstream)
    result = agent("hello")
    assert result.stop_reason == "guardrail_intervened"
    assert "secret" not in json.dumps(agent.messages[-1]["content"]).replace("blocked by guardrail", "")
    assert agent.messages[-1]["content"][0]["text"].startswith("[The answer was blocked")


def test_output_denial_without_streaming_never_shows_the_answer() -> None:
    upstream = Upstream(httpx.Response(200, json=completion("the secret is 42")))
    agent = agent_for({"output_guardrails": [NO_SECRET]}, upstream, stream=False)
    result = agent("hello")
    assert result.stop_reason == "guardrail_intervened"
    assert "42" not in str(result)


def test_input_redaction_by_a_mutator_also_redacts_the_agent_history() -> None:
    upstream = Upstream(streamed("noted"))
    agent = agent_for({"input_mutators": [{"default.detectPII": {"categories": ["email"]}}]}, upstream)
    result = agent("my mail is jane@example.org")
    assert result.stop_reason == "end_turn"
    assert upstream.bodies[0]["messages"][-1]["content"] == "my mail is [REDACTED_EMAIL]"
    assert agent.messages[0]["content"] == [{"text": "my mail is [REDACTED_EMAIL]"}]


def test_flagged_answer_246_is_delivered_normally() -> None:
    upstream = Upstream(streamed("fine"))
    agent = agent_for(
        {"input_guardrails": [{"default.contains": {"operator": "none", "words": ["hello"]}}]}, upstream
    )
    result = agent("hello")
    assert (result.stop_reason, str(result).strip()) == ("end_turn", "fine")
    assert agent.model.last_route is not None
    assert agent.model.last_route.status_code == 246
