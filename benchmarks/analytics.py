"""Analytics benchmark: what recording adds to a request, and each query over 1,000,000 records.

    hatch run python benchmarks/analytics.py [--records N] [--rounds N] [--db-url URL]

1. Recording on the request path: building the record and queueing it (``outcome_record`` +
   ``RecordWriter.submit``; target <= 10 us), timed in batches of 1,000, p50/p99 per record
   (the queue is emptied between batches, as the writer thread does).
   Then ``Gateway.chat`` through an ``httpx.MockTransport`` with and without a store, interleaved,
   and naming a registered model (one the config calls, one on its own route).
2. Each ``gw.ai.analytics`` query over ``--records`` rows (default 1,000,000; 30 days, 4 providers,
   8 models) on a temporary SQLite file, or on ``--db-url`` (e.g. the PostgreSQL of
   ``scripts/postgres_server.py``; its records are deleted first). Target <= 300 ms. Windows on
   whole hours read the hourly rollups; the last two queries are not on the hour and scan records.
Everything is offline and bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from strands_portkey import Gateway
from strands_portkey.analytics.record import outcome_record
from strands_portkey.analytics.rollups import store_rows
from strands_portkey.analytics.sinks import RecordWriter
from strands_portkey.catalog.billing import PriceBook
from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.analytics_api import Analytics
from strands_portkey.types import ChatRequest, RouteInfo, Usage

MASTER = base64.urlsafe_b64encode(bytes(range(32))).decode()
BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
COMPLETION = {
    "id": "r1",
    "model": "gpt-4o",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
PROVIDERS = ("openai", "anthropic", "groq", "bedrock")
MODELS = ("gpt-4o", "gpt-4o-mini", "claude-sonnet", "claude-haiku", "llama-70b", "llama-8b", "nova", "titan")
START = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def recording_cost(plane: ControlPlane, rounds: int) -> None:
    writer = RecordWriter(plane.store, PriceBook, capacity=10_000_000, batch_size=10_000_000, interval=3600)
    request, usage = ChatRequest.from_body(BODY), Usage(3, 2, 5)
    route = RouteInfo(trace_id="t", provider="openai", model="gpt-4o", status_code=200)
    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        for _ in range(1000):
            writer.submit(
                outcome_record(
                    request,
                    route,
                    {},
                    started_at=0.0,
                    latency_ms=1.0,
                    usage=usage,
                    error=None,
                    streamed=False,
                )
            )
        samples.append((time.perf_counter_ns() - start) / 1000 / 1000)
        writer._queue.clear()  # what the writer thread does; not timed (this measures the request path)
    p50, p99 = percentiles(samples)
    print(f"recording (build + queue)      p50 {p50:6.2f} us   p99 {p99:6.2f} us   target <= 10 us")
    writer.close()


async def chat_with_and_without(plane: ControlPlane, rounds: int) -> None:
    def ok(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=COMPLETION)

    env = {"OPENAI_API_KEY": "sk-x", "GROQ_API_KEY": "gsk-x", "STRANDS_PORTKEY_HOME": tempfile.mkdtemp()}
    plain = Gateway({"provider": "openai"}, env=env, transport=httpx.MockTransport(ok))
    recorded = Gateway(
        {"provider": "openai"}, env=env, transport=httpx.MockTransport(ok), control_plane=plane
    )
    recorded.ai.models.create({"name": "bench-config", "provider": "openai", "vendor_model_id": "gpt-4o"})
    recorded.ai.models.create({"name": "bench-own", "provider": "groq", "vendor_model_id": "llama-70b"})
    bodies = {  # a registered model the config calls; one on its own route (groq, GROQ_API_KEY)
        "without store": (plain, BODY),
        "with store": (recorded, BODY),
        "registered": (recorded, {**BODY, "model": "bench-config"}),
        "own route": (recorded, {**BODY, "model": "bench-own"}),
    }
    times: dict[str, list[float]] = {name: [] for name in bodies}
    for _ in range(rounds):
        for name, (gw, body) in bodies.items():
            start = time.perf_counter_ns()
            for _ in range(100):
                await gw.chat(body)
            times[name].append((time.perf_counter_ns() - start) / 100 / 1000)
    for name, samples in times.items():
        p50, p99 = percentiles(samples)
        print(f"Gateway.chat {name:14s}     p50 {p50:6.1f} us   p99 {p99:6.1f} us")
    await plain.aclose()
    await recorded.aclose()


def fill(plane: ControlPlane, count: int) -> float:
    rng = random.Random(7)
    span = 30 * 86400
    started = time.perf_counter()
    batch: list[dict[str, Any]] = []
    for index in range(count):
        model = MODELS[index % len(MODELS)]
        prompt, completion = rng.randint(10, 2000), rng.randint(1, 500)
        error = rng.random() < 0.03
        batch.append(
            {
                "id": f"{index:032x}",
                "created_at": START + dt.timedelta(seconds=rng.random() * span),
                "trace_id": f"t{index}",
                "request_metadata": None,
                "user": None,
                "model_id": model,
                "requested_model": model,
                "served_model": model,
                "provider": PROVIDERS[index % len(PROVIDERS)],
                "credential_id": None,
                "option_path": "config",
                "status": "error" if error else "success",
                "status_code": 500 if error else 200,
                "error_type": "ServerError" if error else None,
                "retries": 0,
                "latency_ms": rng.lognormvariate(6, 0.6),
                "ttft_ms": None,
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "cache_read_tokens": 0,
                "cache_write_tokens": 0,
                "total_tokens": prompt + completion,
                "cost_usd": (prompt * 2.5e-6 + completion * 1e-5),
                "cost_credits": prompt * 0.003 + completion * 0.012,
                "cache_status": "DISABLED",
                "streamed": False,
            }
        )
        if len(batch) == 50_000 or index == count - 1:
            with plane.store.transaction() as session:
                store_rows(session, batch)  # the records and their hourly sums, as the writer does
            batch = []
    with plane.store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # what autovacuum does on a live PostgreSQL (statistics, visibility map); SQLite: statistics
        connection.execute(text("VACUUM ANALYZE" if plane.store.dialect == "postgresql" else "ANALYZE"))
    return time.perf_counter() - started


def time_queries(analytics: Analytics, rounds: int) -> None:
    month = {"start_date": "2025-01-01", "end_date": "2025-01-31"}
    queries: dict[str, Callable[[], object]] = {
        "usage() all time, daily": analytics.usage,
        "usage(month, daily)": lambda: analytics.usage(**month, granularity="daily"),
        "usage(model_id=gpt-4o)": lambda: analytics.usage(model_id="gpt-4o"),
        "costs(group_by=None: both)": analytics.costs,
        "costs(group_by=provider)": lambda: analytics.costs(group_by="provider"),
        "performance() all time": analytics.performance,
        "performance(provider=openai)": lambda: analytics.performance(provider="openai"),
        "performance(one day)": lambda: analytics.performance(start_date="2025-01-15", end_date="2025-01-15"),
        "time_series(requests, daily)": lambda: analytics.time_series(metric="requests", **month),
        "time_series(latency, hourly)": lambda: analytics.time_series(
            metric="latency", granularity="hourly", start_date="2025-01-15", end_date="2025-01-16"
        ),
        "providers()": analytics.providers,
        "usage(10 days, not on the hour)": lambda: analytics.usage(
            start_date="2025-01-10T12:30:00Z", end_date="2025-01-20T12:30:00Z"
        ),
        "performance(10 days, not hourly)": lambda: analytics.performance(
            start_date="2025-01-10T12:30:00Z", end_date="2025-01-20T12:30:00Z"
        ),
    }
    for name, query in queries.items():
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            query()
            samples.append((time.perf_counter() - start) * 1000)
        p50, worst = statistics.median(samples), max(samples)
        print(f"  {name:32s} p50 {p50:7.1f} ms   max {worst:7.1f} ms   target <= 300 ms")


def run(url: str, records: int, rounds: int) -> None:
    plane = ControlPlane(url, master_key=MASTER, validate_credentials=False)
    recording_cost(plane, rounds=200)
    asyncio.run(chat_with_and_without(plane, rounds=30))
    with plane.store.engine.begin() as connection:
        connection.execute(text("DELETE FROM request_records"))
        connection.execute(text("DELETE FROM request_rollups"))
    seconds = fill(plane, records)
    print(f"\n{records:,} records on {plane.store.dialect} (inserted in {seconds:.0f} s):")
    time_queries(Analytics(plane), rounds)
    plane.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--db-url", default=None)
    parser.add_argument("--postgres", action="store_true", help="start scripts/postgres_server.py and use it")
    args = parser.parse_args()
    if args.postgres:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
        import postgres_server

        with postgres_server.start() as server:
            run(server.url, args.records, args.rounds)
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(args.db_url or f"sqlite:///{Path(tmp) / 'bench.db'}", args.records, args.rounds)


if __name__ == "__main__":
    main()
