"""``GET /metrics`` (Prometheus text), its token and switch, and the caller's trace continued."""

from __future__ import annotations

import json
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from strands_portkey.server.app import create_app
from strands_portkey.server.settings import ServerSettings
from strands_portkey.wire import Secret
from tests.unit.conftest import chunk, completion, sse
from tests.unit.server.conftest import HI, client, public_resolver
from tests.unit.telemetry.conftest import Spans, spans  # noqa: F401 (the fixture)

CANARY = "sk-canary-metrics-route-6060"
OPENAI = {"x-portkey-provider": "openai", "authorization": f"Bearer {CANARY}"}


def answer(request: httpx.Request) -> httpx.Response:
    if json.loads(request.content).get("stream"):
        body = sse(chunk("hel", role="assistant"), chunk("lo", finish="stop"))
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})
    return httpx.Response(200, json=completion("hello"))


def app_with(**settings: Any):
    env = {"STRANDS_PORTKEY_HOME": "/nonexistent/strands-portkey-unit-home", **settings.pop("env", {})}
    return create_app(
        ServerSettings(
            env=env,
            open_store=False,
            upstream_transport=httpx.MockTransport(answer),
            resolver=public_resolver,
            **settings,
        ),
        no_auth=True,
    )


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


REQUESTS = (
    "strands_portkey_requests_total",
    (
        ("cache_status", "DISABLED"),
        ("model", "gpt-4o"),
        ("option_path", "config"),
        ("provider", "openai"),
        ("status_class", "2xx"),
    ),
)


async def test_metrics_count_the_traffic_in_prometheus_text_without_a_key() -> None:
    app = app_with()
    async with client(app) as c:
        before = samples((await c.get("/metrics")).text).get(REQUESTS, 0.0)
        await c.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": HI}, headers=OPENAI)
        await c.post(
            "/v1/chat/completions", json={"model": "gpt-4o", "messages": HI, "stream": True}, headers=OPENAI
        )
        response = await c.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert samples(response.text)[REQUESTS] == before + 2
    assert "gen_ai_client_operation_time_to_first_chunk_seconds_bucket" in response.text
    assert "canary" not in response.text


async def test_a_metrics_token_is_required_when_set() -> None:
    app = app_with(metrics_token=Secret("scrape-secret"))
    async with client(app) as c:
        assert (await c.get("/metrics")).status_code == 401
        wrong = await c.get("/metrics", headers={"authorization": "Bearer nope"})
        right = await c.get("/metrics", headers={"authorization": "Bearer scrape-secret"})
    assert wrong.status_code == 401
    assert right.status_code == 200


async def test_metrics_can_be_turned_off() -> None:
    assert ServerSettings.from_env({"STRANDS_PORTKEY_METRICS": "off"}).metrics is False
    assert ServerSettings.from_env({}).metrics is True
    token = ServerSettings.from_env({"STRANDS_PORTKEY_METRICS_TOKEN": "t0k"}).metrics_token
    assert token is not None
    assert "t0k" not in repr(token)
    async with client(app_with(metrics=False)) as c:
        response = await c.get("/metrics")
    assert response.status_code == 404


async def test_the_server_continues_the_callers_trace(spans: Spans) -> None:  # noqa: F811
    caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    traceparent = f"00-{caller_trace}-00f067aa0ba902b7-01"
    seen: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    app = create_app(
        ServerSettings(
            env={"STRANDS_PORTKEY_HOME": "/nonexistent/strands-portkey-unit-home"},
            open_store=False,
            upstream_transport=httpx.MockTransport(recording),
            resolver=public_resolver,
        ),
        no_auth=True,
    )
    async with client(app) as c:
        response = await c.post(
            "/v1/chat/completions",
            json={"model": "gpt-4o", "messages": HI},
            headers={**OPENAI, "traceparent": traceparent},
        )
    request = spans.one("strands_portkey.request")
    assert f"{request.context.trace_id:032x}" == caller_trace
    assert request.parent is not None
    assert f"{request.parent.span_id:016x}" == "00f067aa0ba902b7"
    # no x-portkey-trace-id sent: ours is the caller's trace id, in the header and the record
    assert response.headers["x-portkey-trace-id"] == caller_trace
    assert seen[0].headers["traceparent"].split("-")[1] == caller_trace
    for span in spans.all:
        assert "canary" not in json.dumps(dict(span.attributes or {}), default=str)
