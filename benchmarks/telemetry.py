"""Telemetry benchmark: what spans, metrics and Prometheus counters add to one request.

    hatch run python benchmarks/telemetry.py [--requests N] [--rounds N]

1. The telemetry work of one request on the data path, alone: ``Telemetry.begin`` and the context
   link, one provider attempt (span started, ``traceparent`` injected, response read, span ended,
   GenAI metrics), the request's end (request span, gateway metrics). Timed in batches of 1,000
   requests, p50/p99 per request, in this process's CPU time (which other processes sharing the
   machine do not inflate), for each setup:
   - no SDK configured (OpenTelemetry's API only, the default; target <= 2 us),
   - the SDK with an in-memory span exporter (target <= 40 us),
   - Prometheus counters only (the server's default; target <= 5 us),
   - the SDK with in-memory spans and metrics, plus Prometheus (everything on).
2. ``Gateway.chat`` through an ``httpx.MockTransport`` in each setup, interleaved, p50/p99 CPU
   time: the whole request, for scale.
Everything is offline and bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable

import httpx
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from strands_portkey import Gateway
from strands_portkey.call_defaults import CallDefaults
from strands_portkey.pipeline.base import RequestContext
from strands_portkey.telemetry import Telemetry
from strands_portkey.types import Attempt, ChatRequest, ChatResponse, Choice, ResponseMessage, Usage
from strands_portkey.wire import HttpRequest

REQUEST = ChatRequest(model="gpt-4o", messages=[{"role": "user", "content": "hi"}], params={"max_tokens": 20})
RESPONSE = ChatResponse(
    id="r1",
    model="gpt-4o-2024-08-06",
    choices=(Choice(0, ResponseMessage(content="hello"), "stop"),),
    usage=Usage(prompt_tokens=3, completion_tokens=2, total_tokens=5),
)
HTTP = HttpRequest("POST", "https://api.openai.com/v1/chat/completions", {"content-type": "application/json"})
COMPLETION = (
    b'{"id":"r1","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},'
    b'"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}'
)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def setups() -> dict[str, tuple[Telemetry, Callable[[], None]]]:
    """Each setup's Telemetry, and what empties its exporters between batches."""
    spans = InMemorySpanExporter()
    traced = TracerProvider()
    traced.add_span_processor(SimpleSpanProcessor(spans))
    all_spans = InMemorySpanExporter()
    everything = TracerProvider()
    everything.add_span_processor(SimpleSpanProcessor(all_spans))
    meters = MeterProvider(metric_readers=[InMemoryMetricReader()])
    return {
        "no SDK configured": (Telemetry(), lambda: None),
        "SDK, in-memory spans": (Telemetry(tracer_provider=traced), spans.clear),
        "Prometheus counters": (Telemetry(prometheus=True), lambda: None),
        "SDK spans + metrics + Prometheus": (
            Telemetry(tracer_provider=everything, meter_provider=meters, prometheus=True),
            all_spans.clear,
        ),
    }


def one_request(telemetry: Telemetry, defaults: CallDefaults, context: RequestContext) -> None:
    """The telemetry calls one routed, answered request makes (as gateway.py and upstream.py do)."""
    trace = telemetry.begin("chat", "gpt-4o", strategy="fallback")
    defaults.attach(trace, context, None)
    if trace is None:
        return
    attempt = trace.attempt("openai", "https://api.openai.com/v1", "gpt-4o", REQUEST, "config.targets[0]")
    if trace.propagate:
        attempt.inject(HTTP)
    attempt.succeed(RESPONSE)
    route = context.route
    route.attempts.append(Attempt("config.targets[0]", "openai", 200, 1.0))
    route.provider, route.model, route.status_code = "openai", "gpt-4o", 200
    route.last_used_option_index = "config.targets[0]"
    trace.finish(route, None, usage=RESPONSE.usage)


def part_one(requests: int) -> None:
    print("1. telemetry work per request (batches of 1,000), CPU microseconds")
    defaults = CallDefaults()
    for name, (telemetry, clear) in setups().items():
        samples: list[float] = []
        for _ in range(max(1, requests // 1000)):
            clear()
            contexts = [RequestContext(trace_id="t") for _ in range(1000)]  # the gateway's, not ours
            started = time.process_time()
            for context in contexts:
                one_request(telemetry, defaults, context)
            samples.append((time.process_time() - started) * 1e6 / 1000)
        p50, p99 = percentiles(samples)
        print(f"   {name:<34} p50 {p50:7.2f}   p99 {p99:7.2f}")
    reference(requests)


def reference(requests: int) -> None:
    """Two bare SDK spans (no attributes) per request: the SDK's own floor on this machine."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("reference")
    samples: list[float] = []
    for _ in range(max(1, requests // 1000)):
        exporter.clear()
        started = time.process_time()
        for _ in range(1000):
            tracer.start_span("request").end()
            tracer.start_span("attempt").end()
        samples.append((time.process_time() - started) * 1e6 / 1000)
    p50, p99 = percentiles(samples)
    print(f"   {'(reference: 2 bare SDK spans)':<34} p50 {p50:7.2f}   p99 {p99:7.2f}")


async def part_two(rounds: int) -> None:
    print("2. Gateway.chat through an httpx.MockTransport, CPU microseconds (interleaved)")
    config = {"provider": "openai", "api_key": "sk-bench"}
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    answer = httpx.MockTransport(lambda request: httpx.Response(200, content=COMPLETION))
    gateways = {
        name: (Gateway(config, env={}, transport=answer, telemetry=telemetry), clear)
        for name, (telemetry, clear) in setups().items()
    }
    samples: dict[str, list[float]] = {name: [] for name in gateways}
    for _ in range(rounds):
        for name, (gateway, clear) in gateways.items():
            clear()
            started = time.process_time()
            for _ in range(200):
                await gateway.chat(body)
            samples[name].append((time.process_time() - started) * 1e6 / 200)
    for name, values in samples.items():
        p50, p99 = percentiles(values)
        print(f"   {name:<34} p50 {p50:7.1f}   p99 {p99:7.1f}")
    for gateway, _ in gateways.values():
        await gateway.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000, help="requests per setup in part 1")
    parser.add_argument("--rounds", type=int, default=30, help="rounds of 200 requests per setup in part 2")
    args = parser.parse_args()
    part_one(args.requests)
    asyncio.run(part_two(args.rounds))


if __name__ == "__main__":
    main()
