"""Admin API benchmark: ``client.ai.models.list()`` and ``client.ai.analytics.performance()``
against ``strands-portkey serve`` (a real process), at 100,000 models and 1,000,000 records.

    hatch run python benchmarks/admin_api_ai.py [--models N] [--records N] [--rounds N] [--postgres]

The store is filled in bulk with SQL inserts (the records with their hourly rollups, as the
analytics writer does), not through the API. The server runs on 127.0.0.1 with gateway keys; the
client calls it over HTTP with an admin key (sees every model and every request) and with a
member's key (the models it may use, the analytics of its own requests: about 1 % of each).
The same calls in process (``Gateway().ai``, over the same store) show what HTTP adds.
Each figure: p50 / p99 over ``--rounds`` calls, after two warm-up calls. Bounded: the server is
stopped at the end, and every wait has a deadline.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, text

from strands_portkey import Client, Gateway
from strands_portkey.analytics.rollups import store_rows
from strands_portkey.catalog.models import Actor
from strands_portkey.controlplane import AINamespace, ControlPlane
from strands_portkey.controlplane.api_keys import ApiKeys
from strands_portkey.store.tables import AIModelRow

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from _peer import free_port

MASTER = base64.urlsafe_b64encode(bytes(range(32))).decode()
ADMIN_KEY = "spk-bench-admin-api-ai-0123456789abcdefghij"
USERS, ORGS = 100, 10
MEMBER = Actor("user-7", "org-7")
PROVIDERS = ("openai", "anthropic", "groq", "bedrock")
STATUSES = ("active", "active", "active", "stopped", "failed")
START = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)


def fill_models(plane: ControlPlane, count: int) -> None:
    rng = random.Random(3)
    now = dt.datetime.now(dt.timezone.utc)
    rows = []
    for index in range(count):
        owner = rng.randrange(USERS)
        shared = [f"user-{rng.randrange(USERS)}"] if rng.random() < 0.05 else []
        rows.append(
            {
                "id": f"model-{index:016x}",
                "name": f"model {index:06d}",
                "type": "third-party",
                "provider": PROVIDERS[index % len(PROVIDERS)],
                "vendor_model_id": f"vendor-{index % 500}",
                "model_type": "chat",
                "status": STATUSES[index % len(STATUSES)],
                "description": None,
                "capabilities": ["chat"],
                "max_tokens": 4096,
                "context_window": 128000,
                "owner": f"user-{owner}",
                "organization_id": f"org-{owner % ORGS}",
                "is_shared": rng.random() < 0.01,
                "shared_with": shared,
                "config": {},
                "created_at": now,
                "updated_at": now,
            }
        )
        if len(rows) == 20_000 or index == count - 1:
            with plane.store.transaction() as session:
                session.execute(insert(AIModelRow), rows)
            rows = []


def fill_records(plane: ControlPlane, count: int) -> None:
    rng = random.Random(7)
    span = 30 * 86400
    batch: list[dict[str, Any]] = []
    for index in range(count):
        error = rng.random() < 0.03
        prompt, completion = rng.randint(10, 2000), rng.randint(1, 500)
        batch.append(
            {
                "id": f"{index:032x}",
                "created_at": START + dt.timedelta(seconds=rng.random() * span),
                "trace_id": f"t{index}",
                "request_metadata": None,
                "user": f"user-{rng.randrange(USERS)}",
                "model_id": f"model-{rng.randrange(100_000):016x}",
                "requested_model": "m",
                "served_model": "m",
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
                "cost_usd": prompt * 2.5e-6 + completion * 1e-5,
                "cost_credits": None,
                "cache_status": "DISABLED",
                "streamed": False,
            }
        )
        if len(batch) == 50_000 or index == count - 1:
            with plane.store.transaction() as session:
                store_rows(session, batch)
            batch = []
    with plane.store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if plane.store.dialect == "postgresql" else "ANALYZE"))


@contextmanager
def server(home: Path, db_url: str) -> Iterator[str]:
    port = free_port()
    script = Path(sys.executable).with_name("strands-portkey")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "strands_portkey"]
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(
        {
            "STRANDS_PORTKEY_HOME": str(home),
            "STRANDS_PORTKEY_DB_URL": db_url,
            "STRANDS_PORTKEY_MASTER_KEY": MASTER,
            "STRANDS_PORTKEY_ADMIN_KEY": ADMIN_KEY,
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    log = (home / "server.log").open("wb")
    process = subprocess.Popen(
        [*command, "serve", "--port", str(port), "--log-level", "warning"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited: {(home / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


def timed(name: str, call: Callable[[], object], rounds: int) -> None:
    for _ in range(2):
        call()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    ordered = sorted(samples)
    p50, p99 = statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"  {name:58s} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms")


def run(db_url: str, home: Path, models: int, records: int, rounds: int) -> None:
    plane = ControlPlane(
        db_url, env={"STRANDS_PORTKEY_HOME": str(home)}, master_key=MASTER, refresh_interval=None
    )
    started = time.perf_counter()
    fill_models(plane, models)
    fill_records(plane, records)
    took = time.perf_counter() - started
    print(f"{models:,} models and {records:,} records on {plane.store.dialect} (filled in {took:.0f} s)")
    gw = Gateway(control_plane=plane, env={"STRANDS_PORTKEY_HOME": str(home)})
    local = AINamespace(plane).acting_as(Actor("bench-admin", "org-0", admin=True))
    local_member = AINamespace(plane).acting_as(MEMBER)
    member_key = ApiKeys(plane).create(
        {
            "name": "bench member",
            "user": MEMBER.user,
            "organization_id": MEMBER.organization_id,
            "role": "member",
        }
    )
    with server(home, db_url) as url:
        admin, member = Client(url, ADMIN_KEY), Client(url, str(member_key.key))
        visible = len(local_member.models.list(limit=1000).to_list())
        own = local_member.analytics.usage().total_requests
        print(f"the member may use {visible:,} models; {own:,} of the records are its own")
        timed(
            "client.ai.models.list() first page (admin)", lambda: admin.ai.models.list().first_page(), rounds
        )
        timed(
            "client.ai.models.list() first page (member)",
            lambda: member.ai.models.list().first_page(),
            rounds,
        )
        timed(
            "client.ai.models.list(provider, status) (admin)",
            lambda: admin.ai.models.list(provider="groq", status="failed").first_page(),
            rounds,
        )
        timed(
            "client.ai.analytics.performance() (admin, all records)", admin.ai.analytics.performance, rounds
        )
        timed(
            "client.ai.analytics.performance() (member, own records)", member.ai.analytics.performance, rounds
        )
        timed(
            "in process: models.list() first page (admin)", lambda: local.models.list().first_page(), rounds
        )
        timed("in process: analytics.performance() (all records)", gw.ai.analytics.performance, rounds)
        timed("in process: analytics.performance() (member)", local_member.analytics.performance, rounds)
        admin.close()
        member.close()
    plane.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--postgres", action="store_true", help="start scripts/postgres_server.py and use it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        if args.postgres:
            import postgres_server

            with postgres_server.start() as pg:
                run(pg.url, home, args.models, args.records, args.rounds)
            return
        run(f"sqlite:///{home / 'bench.db'}", home, args.models, args.records, args.rounds)


if __name__ == "__main__":
    main()
