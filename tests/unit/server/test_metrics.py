"""``GET /metrics`` (Prometheus text), its token and switch, and the caller's trace continued."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY, generate_latest
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


def app_with(respond: Any = answer, **settings: Any):
    env = {"STRANDS_PORTKEY_HOME": "/nonexistent/strands-portkey-unit-home", **settings.pop("env", {})}
    return create_app(
        ServerSettings(
            env=env,
            open_store=False,
            upstream_transport=httpx.MockTransport(respond),
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


async def test_cost_and_vault_key_states_reach_the_exposition(tmp_path) -> None:
    from strands_portkey.controlplane import AINamespace, ControlPlane
    from strands_portkey.controlplane.providers_api import Providers

    env = {"STRANDS_PORTKEY_HOME": str(tmp_path), "STRANDS_PORTKEY_VALIDATE_KEYS": "off"}
    master = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
    plane = ControlPlane(f"sqlite:///{tmp_path / 'cp.db'}", env=env, master_key=master)
    try:
        providers = Providers(plane)
        providers.create({"name": "openai", "displayName": "OpenAI", "baseUrl": "https://api.openai.com/v1"})
        providers.rates.create(
            {
                "model": "gpt-4o",
                "type": "chatCompletion",
                "inputRate": 3,
                "outputRate": 15,
                "unitCosts": {"input": "0.0000025", "output": "0.00001"},
                "providers": ["openai"],
            }
        )
        AINamespace(plane).provider_keys.create(
            {"name": "k1", "provider": "openai", "api_key": CANARY}, validate=False
        )
        gpt_4o = httpx.Response(200, json={**completion("hi"), "model": "gpt-4o"})
        app = app_with(lambda request: gpt_4o, control_plane=plane)
        async with client(app) as c:
            before = samples((await c.get("/metrics")).text)
            response = await c.post(
                "/v1/chat/completions",
                json={"model": "gpt-4o", "messages": HI},
                headers={"x-portkey-provider": "openai", "authorization": "Bearer sk-direct"},
            )
            after = (await c.get("/metrics")).text
    finally:
        plane.close()
    assert response.status_code == 200
    cost = ("strands_portkey_cost_usd_total", (("provider", "openai"),))
    # 3 prompt tokens x 0.0000025 + 2 completion tokens x 0.00001, as the cost header says
    assert samples(after)[cost] - before.get(cost, 0.0) == pytest.approx(0.0000275)
    keys = ("strands_portkey_credentials", (("provider", "openai"), ("state", "active")))
    assert samples(after)[keys] == 1
    assert "canary" not in after


def test_the_budget_gauge_is_labelled_by_key_only_on_opt_in() -> None:
    from types import SimpleNamespace

    from strands_portkey.server.auth import Principal
    from strands_portkey.server.limits import LimitRequest, Reservation
    from strands_portkey.server.metrics import observe_budget
    from strands_portkey.server.state import Admitted

    principal = Principal(key_id="key-budget-test", name="k")
    reservation = Reservation(
        principal, LimitRequest("chat.completions", "gpt-4o", 10), {"x-portkey-budget-remaining": "4.5"}
    )
    admitted = Admitted(principal, {}, None, None, reservation)  # type: ignore[arg-type]
    series = ("strands_portkey_budget_remaining_usd", (("key", "key-budget-test"),))
    for opted_in in (False, True):
        state = SimpleNamespace(settings=ServerSettings(metrics_key_labels=opted_in, open_store=False))
        observe_budget(state, admitted)  # type: ignore[arg-type]
        text = generate_latest(REGISTRY).decode()
        assert (series in samples(text)) is opted_in
    assert samples(generate_latest(REGISTRY).decode())[series] == 4.5
