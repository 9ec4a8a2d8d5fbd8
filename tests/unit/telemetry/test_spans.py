"""Gateway spans with the real SDK: the request span, one GenAI CLIENT span per attempt, propagation."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from strands_portkey import Gateway
from strands_portkey.errors import ServerError
from strands_portkey.telemetry import Telemetry
from tests.unit.conftest import chunk, completion, sse
from tests.unit.telemetry.conftest import Spans

CANARY = "sk-canary-telemetry-4242"
HI = [{"role": "user", "content": "say hi"}]
FALLBACK = {
    "strategy": {"mode": "fallback"},
    "targets": [
        {"provider": "openai", "api_key": CANARY, "custom_host": "http://down.example:8080/v1"},
        {"provider": "anthropic", "api_key": CANARY, "trace_propagation": False},
        {"provider": "openai", "api_key": CANARY},
    ],
}


def upstream(seen: list[httpx.Request], *, stream: bool = False) -> httpx.MockTransport:
    """``down.example`` answers 500, Anthropic 529, OpenAI answers (as JSON or SSE)."""

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "down.example":
            return httpx.Response(500, json={"error": {"message": f"bad key {CANARY}"}})
        if request.url.host == "api.anthropic.com":
            return httpx.Response(529, json={"type": "error", "error": {"type": "overloaded_error"}})
        if stream:
            usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
            body = sse(
                chunk("hel", role="assistant"), chunk("lo", finish="stop"), {**chunk(), "usage": usage}
            )
            return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})
        return httpx.Response(200, json=completion("hello"))

    return httpx.MockTransport(respond)


def attrs(span: Any) -> dict[str, Any]:
    return dict(span.attributes or {})


async def test_a_fallback_request_is_one_request_span_with_one_client_span_per_attempt(spans: Spans) -> None:
    seen: list[httpx.Request] = []
    async with Gateway(FALLBACK, transport=upstream(seen)) as gw:
        response = await gw.chat({"model": "gpt-4o", "messages": HI, "max_tokens": 20, "temperature": 0.5})

    request = spans.one("strands_portkey.request")
    attempts = spans.named("chat gpt-4o")
    assert len(attempts) == 3
    assert all(
        span.parent is not None and span.parent.span_id == request.context.span_id for span in attempts
    )
    assert all(span.kind is SpanKind.CLIENT for span in attempts)
    assert all(span.context.trace_id == request.context.trace_id for span in attempts)
    first, second, third = sorted(attempts, key=lambda span: span.start_time or 0)

    assert attrs(first)["server.address"] == "down.example"
    assert attrs(first)["server.port"] == 8080
    assert attrs(first)["error.type"] == "ServerError"
    assert first.status.status_code is StatusCode.ERROR
    assert attrs(second)["gen_ai.provider.name"] == "anthropic"
    assert attrs(second)["strands_portkey.option_path"] == "config.targets[1]"
    ok = attrs(third)
    assert ok["gen_ai.operation.name"] == "chat"
    assert ok["gen_ai.provider.name"] == "openai"
    assert ok["gen_ai.request.model"] == "gpt-4o"
    assert ok["gen_ai.request.max_tokens"] == 20
    assert ok["gen_ai.request.temperature"] == 0.5
    assert ok["gen_ai.response.id"] == "r1"
    assert ok["gen_ai.response.model"] == "m"
    assert ok["gen_ai.response.finish_reasons"] == ("stop",)
    assert (ok["gen_ai.usage.input_tokens"], ok["gen_ai.usage.output_tokens"]) == (3, 2)
    assert (ok["server.address"], ok["server.port"]) == ("api.openai.com", 443)
    assert third.status.status_code is StatusCode.UNSET

    top = attrs(request)
    assert top["strands_portkey.config.strategy"] == "fallback"
    assert top["strands_portkey.option_path"] == "config.targets[2]"
    assert top["strands_portkey.attempts"] == 3
    assert top["strands_portkey.fallback.rescued"] is True
    assert top["strands_portkey.cache_status"] == "DISABLED"
    assert top["strands_portkey.status_code"] == 200
    assert not any(key.startswith("gen_ai.") for key in top)  # usage counted once: on the attempt
    # no trace id given: ours is the OpenTelemetry trace id, one id in the record, header and trace
    assert response.route is not None
    assert response.route.trace_id == f"{request.context.trace_id:032x}" == top["strands_portkey.trace_id"]


async def test_traceparent_goes_to_upstreams_unless_the_target_turns_it_off(spans: Spans) -> None:
    seen: list[httpx.Request] = []
    async with Gateway(FALLBACK, transport=upstream(seen)) as gw:
        await gw.chat({"model": "gpt-4o", "messages": HI})
    attempts = sorted(spans.named("chat gpt-4o"), key=lambda span: span.start_time or 0)
    by_host = {request.url.host: request.headers.get("traceparent") for request in seen}
    assert by_host["api.anthropic.com"] is None  # "trace_propagation": false
    for host, span in (("down.example", attempts[0]), ("api.openai.com", attempts[2])):
        parent = by_host[host]
        assert parent is not None
        assert parent.split("-")[1:3] == [f"{span.context.trace_id:032x}", f"{span.context.span_id:016x}"]


async def test_no_traceparent_and_no_span_without_an_sdk() -> None:
    seen: list[httpx.Request] = []
    async with Gateway(FALLBACK, transport=upstream(seen)) as gw:
        response = await gw.chat({"model": "gpt-4o", "messages": HI})
    assert all("traceparent" not in request.headers for request in seen)
    assert response.text == "hello"


async def test_the_caller_trace_id_stays_and_is_on_the_span(spans: Spans) -> None:
    async with Gateway(FALLBACK, transport=upstream([])) as gw:
        response = await gw.chat(
            {"model": "gpt-4o", "messages": HI}, trace_id="order-77", metadata={"team": "a", "_user": "u1"}
        )
    assert response.route is not None
    assert response.route.trace_id == "order-77"
    top = attrs(spans.one("strands_portkey.request"))
    assert top["strands_portkey.trace_id"] == "order-77"
    assert top["strands_portkey.metadata.keys"] == ("_user", "team")  # keys, never values
    assert "u1" not in json.dumps(top)


async def test_a_failed_request_ends_both_spans_as_errors(spans: Spans) -> None:
    config = {"provider": "openai", "api_key": CANARY, "custom_host": "http://down.example:8080/v1"}
    async with Gateway(config, transport=upstream([])) as gw:
        with pytest.raises(ServerError):
            await gw.chat({"model": "gpt-4o", "messages": HI})
    request = spans.one("strands_portkey.request")
    attempt = spans.one("chat gpt-4o")
    assert request.status.status_code is StatusCode.ERROR
    assert attrs(request)["error.type"] == "ServerError"
    assert attrs(request)["strands_portkey.config.strategy"] == "single"
    assert attrs(attempt)["http.response.status_code"] == 500
    assert attempt.status.status_code is StatusCode.ERROR


async def test_a_stream_has_its_time_to_first_chunk_and_ends_with_the_stream(spans: Spans) -> None:
    gw = Gateway(FALLBACK, transport=upstream([], stream=True))
    async with gw, gw.stream({"model": "gpt-4o", "messages": HI}) as stream:
        assert not spans.named("strands_portkey.request")  # open until the stream ends
        text = "".join(c.choices[0].delta.content or "" for c in [c async for c in stream] if c.choices)
    assert text == "hello"
    ok = [span for span in spans.named("chat gpt-4o") if span.status.status_code is StatusCode.UNSET]
    assert len(ok) == 1
    values = attrs(ok[0])
    assert values["gen_ai.response.time_to_first_chunk"] >= 0
    assert values["gen_ai.response.finish_reasons"] == ("stop",)
    assert (values["gen_ai.usage.input_tokens"], values["gen_ai.usage.output_tokens"]) == (3, 2)
    top = attrs(spans.one("strands_portkey.request"))
    assert top["strands_portkey.usage.output_tokens"] == 2
    assert top["strands_portkey.fallback.rescued"] is True


async def test_a_stream_closed_early_says_so(spans: Spans) -> None:
    gw = Gateway(FALLBACK, transport=upstream([], stream=True))
    async with gw, gw.stream({"model": "gpt-4o", "messages": HI}) as stream:
        async for _ in stream:
            break
    assert attrs(spans.one("strands_portkey.request"))["strands_portkey.cancelled"] is True


async def test_content_is_captured_only_on_opt_in(spans: Spans, monkeypatch: pytest.MonkeyPatch) -> None:
    config = {"provider": "openai", "api_key": CANARY}
    async with Gateway(config, transport=upstream([])) as gw:
        await gw.chat({"model": "gpt-4o", "messages": HI})
    assert not any("messages" in key for key in attrs(spans.one("chat gpt-4o")))

    spans.exporter.clear()
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    async with Gateway(config, transport=upstream([])) as gw:
        await gw.chat({"model": "gpt-4o", "messages": HI})
    values = attrs(spans.one("chat gpt-4o"))
    assert json.loads(values["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "say hi"}]}
    ]
    assert json.loads(values["gen_ai.output.messages"])[0]["parts"][0]["content"] == "hello"


async def test_telemetry_can_be_given_its_own_provider_and_no_propagation(spans: Spans) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    own = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(own))
    seen: list[httpx.Request] = []
    telemetry = Telemetry(tracer_provider=provider, propagate=False)
    async with Gateway(
        {"provider": "openai", "api_key": CANARY}, transport=upstream(seen), telemetry=telemetry
    ) as gw:
        await gw.chat({"model": "gpt-4o", "messages": HI})
    assert [span.name for span in own.get_finished_spans()] == ["chat gpt-4o", "strands_portkey.request"]
    assert spans.all == []
    assert "traceparent" not in seen[0].headers


async def test_embeddings_are_an_embeddings_span(spans: Spans) -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        body = {
            "object": "list",
            "model": "e",
            "data": [{"object": "embedding", "index": 0, "embedding": [0.1]}],
        }
        return httpx.Response(200, json={**body, "usage": {"prompt_tokens": 2, "total_tokens": 2}})

    async with Gateway(
        {"provider": "openai", "api_key": CANARY}, transport=httpx.MockTransport(respond)
    ) as gw:
        await gw.embed({"model": "text-embedding-3-small", "input": "hi"})
    attempt = spans.one("embeddings text-embedding-3-small")
    assert attrs(attempt)["gen_ai.operation.name"] == "embeddings"
    assert attrs(spans.one("strands_portkey.request"))["strands_portkey.operation"] == "embeddings"


async def test_the_canary_secret_is_in_no_span(spans: Spans, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    async with Gateway(FALLBACK, transport=upstream([])) as gw:
        await gw.chat({"model": "gpt-4o", "messages": HI})
    gw = Gateway(FALLBACK, transport=upstream([], stream=True))
    async with gw, gw.stream({"model": "gpt-4o", "messages": HI}) as stream:
        _ = [c async for c in stream]
    assert len(spans.all) == 8
    for span in spans.all:
        dumped = json.dumps(
            {"name": span.name, "attributes": attrs(span), "status": str(span.status.description)}
        )
        dumped += json.dumps([{"name": e.name, "attributes": dict(e.attributes or {})} for e in span.events])
        assert "canary" not in dumped
