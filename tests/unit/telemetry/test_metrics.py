"""GenAI client metrics and the gateway's own, in OpenTelemetry (in-memory reader) and Prometheus."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from prometheus_client import REGISTRY, generate_latest

from strands_portkey import Gateway
from strands_portkey.telemetry import Telemetry, prometheus_registry
from strands_portkey.telemetry.metrics import BoundedLabel
from strands_portkey.telemetry.names import (
    DURATION_BUCKETS,
    TOKEN_BUCKETS,
    provider_name,
    server_of,
    status_class,
)
from tests.unit.conftest import chunk, completion, sse

CANARY = "sk-canary-metrics-5151"
HI = [{"role": "user", "content": "hi"}]
CONFIG = {
    "strategy": {"mode": "fallback"},
    "targets": [
        {"provider": "openai", "api_key": CANARY, "custom_host": "http://down.example/v1"},
        {"provider": "openai", "api_key": CANARY, "retry": {"attempts": 1}},
    ],
}


def upstream() -> httpx.MockTransport:
    calls = {"openai": 0}

    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.host == "down.example":
            return httpx.Response(500, json={"error": {"message": "down"}})
        calls["openai"] += 1
        if calls["openai"] % 2 == 1:  # every first try at OpenAI fails once: one retry each
            return httpx.Response(503, json={"error": {"message": "busy"}})
        if json.loads(request.content).get("stream"):
            usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
            body = sse(chunk("a", role="assistant"), chunk(finish="stop"), {**chunk(), "usage": usage})
            return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})
        return httpx.Response(200, json=completion("hello"))

    return httpx.MockTransport(respond)


def points(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    data = reader.get_metrics_data()
    assert data is not None
    out: dict[str, list[Any]] = {}
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                out.setdefault(metric.name, []).extend(metric.data.data_points)
    return out


async def no_sleep(_: float) -> None:
    return None


async def run_traffic(telemetry: Telemetry) -> None:
    async with Gateway(CONFIG, transport=upstream(), telemetry=telemetry, sleep=no_sleep) as gw:
        await gw.chat({"model": "gpt-4o", "messages": HI}, metadata={"_user": "user-1"})
        async with gw.stream({"model": "gpt-4o", "messages": HI}) as stream:
            _ = [c async for c in stream]


async def test_genai_client_metrics_with_the_conventions_buckets(
    metric_reader: tuple[InMemoryMetricReader, MeterProvider],
) -> None:
    reader, provider = metric_reader
    await run_traffic(Telemetry(meter_provider=provider))
    found = points(reader)

    durations = found["gen_ai.client.operation.duration"]
    assert all(tuple(p.explicit_bounds) == DURATION_BUCKETS for p in durations)
    assert sum(p.count for p in durations) == 6  # two requests, three attempts each
    errors: dict[Any, int] = {}
    for point in durations:
        kind = point.attributes.get("error.type")
        errors[kind] = errors.get(kind, 0) + point.count
    assert errors == {"ServerError": 4, None: 2}
    ok = next(p for p in durations if "error.type" not in p.attributes)
    assert ok.attributes["gen_ai.operation.name"] == "chat"
    assert ok.attributes["gen_ai.provider.name"] == "openai"
    assert ok.attributes["gen_ai.request.model"] == "gpt-4o"
    assert ok.attributes["server.address"] == "api.openai.com"

    tokens = {p.attributes["gen_ai.token.type"]: p for p in found["gen_ai.client.token.usage"]}
    assert tuple(tokens["input"].explicit_bounds) == TOKEN_BUCKETS
    assert (tokens["input"].sum, tokens["output"].sum) == (6, 4)
    first_chunk = found["gen_ai.client.operation.time_to_first_chunk"]
    assert sum(p.count for p in first_chunk) == 1  # streams only

    requests = found["strands_portkey.requests"]
    assert sum(p.value for p in requests) == 2
    assert {p.attributes["strands_portkey.option_path"] for p in requests} == {"config.targets[1]"}
    assert {p.attributes["strands_portkey.status_class"] for p in requests} == {"2xx"}
    assert sum(p.value for p in found["strands_portkey.fallback.rescues"]) == 2
    assert sum(p.value for p in found["strands_portkey.retries"]) == 2
    labels = json.dumps([dict(p.attributes) for name in found for p in found[name]])
    assert CANARY not in labels
    assert "user-1" not in labels


async def test_prometheus_counters_and_the_registry_for_in_process_users() -> None:
    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    labels = {
        "provider": "openai",
        "model": "gpt-4o",
        "option_path": "config.targets[1]",
        "status_class": "2xx",
        "cache_status": "DISABLED",
    }
    before = sample("strands_portkey_requests_total", **labels)
    rescues = sample("strands_portkey_fallback_rescues_total", option_path="config.targets[1]")
    ttfc = sample(
        "gen_ai_client_operation_time_to_first_chunk_seconds_count",
        gen_ai_operation_name="chat",
        gen_ai_provider_name="openai",
        gen_ai_request_model="gpt-4o",
    )
    await run_traffic(Telemetry(prometheus=True))
    assert sample("strands_portkey_requests_total", **labels) == before + 2
    assert sample("strands_portkey_fallback_rescues_total", option_path="config.targets[1]") == rescues + 2
    assert (
        sample(
            "gen_ai_client_operation_time_to_first_chunk_seconds_count",
            gen_ai_operation_name="chat",
            gen_ai_provider_name="openai",
            gen_ai_request_model="gpt-4o",
        )
        == ttfc + 1
    )
    text = generate_latest(prometheus_registry()).decode()
    assert "gen_ai_client_token_usage_bucket" in text
    assert 'le="81.92"' in text
    assert CANARY not in text
    assert "user-1" not in text


async def test_without_an_sdk_or_prometheus_nothing_is_measured() -> None:
    telemetry = Telemetry()
    assert telemetry.begin("chat", "gpt-4o", strategy="single") is None


def test_model_labels_are_bounded() -> None:
    bound = BoundedLabel(2)
    assert [bound(m) for m in ("a", "b", "c", "a", "d", "b")] == ["a", "b", "_other", "a", "_other", "b"]


@pytest.mark.parametrize(
    ("provider", "expected"),
    [("openai", "openai"), ("bedrock", "aws.bedrock"), ("azure-openai", "azure.ai.openai"), ("acme", "acme")],
)
def test_provider_names_follow_the_conventions(provider: str, expected: str) -> None:
    assert provider_name(provider) == expected


def test_status_classes_and_servers() -> None:
    assert [status_class(s) for s in (200, 246, 429, 503, None)] == ["2xx", "2xx", "4xx", "5xx", "none"]
    assert server_of("https://user:sk-canary@api.example.com/v1?key=x") == ("api.example.com", 443)
    assert server_of("http://127.0.0.1:8080/v1") == ("127.0.0.1", 8080)
    assert server_of("not a url") is None
