"""A Strands ``Agent`` with ``PortkeyModel`` over a fallback config: our spans nest in Strands' trace."""

from __future__ import annotations

import json
from typing import Any

import httpx
from opentelemetry.trace import SpanKind, StatusCode
from strands import Agent

from strands_portkey import Gateway, PortkeyModel
from tests.unit.conftest import chunk, sse
from tests.unit.telemetry.conftest import Spans

CANARY = "sk-canary-agent-9191"
CONFIG = {
    "strategy": {"mode": "fallback"},
    "targets": [
        {"provider": "openai", "api_key": CANARY, "custom_host": "http://down.example/v1"},
        {"provider": "openai", "api_key": CANARY},
    ],
}
USAGE = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}


def respond(request: httpx.Request) -> httpx.Response:
    if request.url.host == "down.example":
        return httpx.Response(503, json={"error": {"message": "unavailable"}})
    last = {**chunk(), "usage": USAGE}
    body = sse(chunk("Hi ", role="assistant"), chunk("there."), chunk(finish="stop"), last)
    return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})


def attrs(span: Any) -> dict[str, Any]:
    return dict(span.attributes or {})


def test_gateway_spans_nest_below_strands_chat_span_and_usage_is_counted_once(spans: Spans) -> None:
    gateway = Gateway(CONFIG, transport=httpx.MockTransport(respond))
    agent = Agent(model=PortkeyModel(model_id="gpt-4o", gateway=gateway), callback_handler=None)
    result = agent("hello")
    assert str(result).strip() == "Hi there."

    strands_chat = spans.one("chat")  # Strands' own model-invoke span
    request = spans.one("strands_portkey.request")
    attempts = spans.named("chat gpt-4o")
    assert request.parent is not None
    assert request.parent.span_id == strands_chat.context.span_id
    assert len(attempts) == 2
    assert all(a.parent is not None and a.parent.span_id == request.context.span_id for a in attempts)
    assert {span.context.trace_id for span in spans.all} == {strands_chat.context.trace_id}
    assert spans.one("execute_event_loop_cycle").context.span_id == strands_chat.parent.span_id  # type: ignore[union-attr]
    assert [a.kind for a in attempts] == [SpanKind.CLIENT, SpanKind.CLIENT]
    failed, answered = sorted(attempts, key=lambda span: span.start_time or 0)
    assert failed.status.status_code is StatusCode.ERROR
    assert attrs(failed)["error.type"] == "ServerError"

    # Strands' chat span carries the call's usage; ours keep theirs in our namespace only
    assert attrs(strands_chat)["gen_ai.usage.input_tokens"] == 7
    genai_usage = [s.name for s in spans.all if "gen_ai.usage.input_tokens" in attrs(s)]
    assert "chat gpt-4o" not in genai_usage
    assert "strands_portkey.request" not in genai_usage
    assert attrs(answered)["strands_portkey.usage.input_tokens"] == 7
    assert attrs(answered)["gen_ai.response.time_to_first_chunk"] >= 0
    assert attrs(request)["strands_portkey.fallback.rescued"] is True
    for span in spans.all:
        assert CANARY not in json.dumps(attrs(span), default=str)
