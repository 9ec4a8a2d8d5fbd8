"""Dashboard benchmark: the Overview's data routes, the request log, and the page in a browser, at 1M records.

    hatch run python benchmarks/dashboard.py [--records N] [--rounds N] [--no-browser] [--db FILE]

1. Fills a temporary SQLite store (or ``--db FILE``, kept, and reused when it already holds
   records) with ``--records`` requests (default 1,000,000) spread over the
   last 30 days (8 models, 4 providers, 50 key users; cache hits, fallbacks, guardrail verdicts),
   written as the analytics writer writes them (records, hourly rollups, latency histograms).
2. Times each data route through the admin app in process (ASGI, FastAPI included): the Overview
   for every window as an admin and as a member, the request log (first page, filtered by model,
   by trace id, a member's own), one request. p50 / p99 over ``--rounds``. Target <= 500 ms.
3. Unless ``--no-browser``: serves the store with ``strands-portkey serve`` on a free loopback port,
   signs in with Debian's chromium (Playwright), and times the Overview page ``--rounds`` times
   per window: first render (first contentful paint) and full data (the numbers and all ten
   charts drawn). Everything is offline and bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from strands_portkey.analytics.rollups import store_rows
from strands_portkey.controlplane import ControlPlane
from strands_portkey.server.app import create_app
from strands_portkey.server.settings import ServerSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from _peer import free_port

MASTER = base64.urlsafe_b64encode(bytes(range(32))).decode()
ADMIN = "spk-benchmark-admin-0123456789abcdefghijklmnop"
PROVIDERS = ("openai", "anthropic", "groq", "bedrock")
MODELS = ("gpt-4o", "gpt-4o-mini", "claude-sonnet", "claude-haiku", "llama-70b", "llama-8b", "nova", "titan")
USERS = tuple(f"user-{i:02d}" for i in range(50))
CACHE = ("DISABLED", "MISS", "HIT")
VERDICTS = ("none", "none", "passed", "failed", "denied")
WINDOWS = ("1h", "24h", "7d", "30d")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _row(index: int, rng: random.Random, now: dt.datetime) -> dict[str, Any]:
    model, user = MODELS[index % len(MODELS)], USERS[index % len(USERS)]
    prompt, completion = rng.randint(10, 2000), rng.randint(1, 500)
    error, cache = rng.random() < 0.03, CACHE[index % 3]
    cost = prompt * 2.5e-6 + completion * 1e-5
    return {
        "id": f"{index:032x}", "created_at": now - dt.timedelta(seconds=rng.random() * 30 * 86400),
        "trace_id": f"t{index}", "request_metadata": None, "user": None, "model_id": model,
        "requested_model": model, "served_model": model, "provider": PROVIDERS[index % len(PROVIDERS)],
        "credential_id": None, "option_path": "config", "status": "error" if error else "success",
        "status_code": 500 if error else 200, "error_type": "ServerError" if error else None, "retries": 0,
        "latency_ms": rng.lognormvariate(6, 0.6),
        "ttft_ms": rng.lognormvariate(5, 0.5) if index % 2 else None,
        "prompt_tokens": prompt, "completion_tokens": completion, "cache_read_tokens": 0,
        "cache_write_tokens": 0, "total_tokens": prompt + completion,
        "cost_usd": 0.0 if cache == "HIT" else cost, "cost_credits": prompt * 0.003 + completion * 0.012,
        "cache_status": cache, "streamed": bool(index % 2), "api_key_id": f"ak-{user}", "key_user": user,
        "organization_id": "acme", "saved_usd": cost if cache == "HIT" else None,
        "route_detail": {"attempts": [], "retry_attempt_count": 0, "hooks": []},
        "rescued": rng.random() < 0.02, "guard_verdict": VERDICTS[index % len(VERDICTS)],
    }  # fmt: skip


def fill(plane: ControlPlane, count: int) -> float:
    rng, now, started = random.Random(7), dt.datetime.now(dt.timezone.utc), time.perf_counter()
    batch: list[dict[str, Any]] = []
    for index in range(count):
        batch.append(_row(index, rng, now))
        if len(batch) == 50_000 or index == count - 1:
            with plane.store.transaction() as session:
                store_rows(session, batch)  # records, hourly rollups and histograms, as the writer does
            batch = []
            print(f"\r  {index + 1:,} / {count:,} records", end="", flush=True)
    print()
    with plane.store.engine.connect() as connection:
        connection.execute(text("ANALYZE"))
    return time.perf_counter() - started


async def time_routes(plane: ControlPlane, rounds: int, records: int) -> None:
    settings = ServerSettings(env={"STRANDS_PORTKEY_ADMIN_KEY": ADMIN}, open_store=False, control_plane=plane)
    app = create_app(settings, gateway_keys=True)
    member = app.state.server.authenticator.api_keys.create(
        {"name": "m", "user": USERS[3], "role": "member"}
    ).key
    one = f"{records // 2:032x}"
    routes = [(f"overview {w} admin", f"/api/dashboard/overview?window={w}", ADMIN) for w in WINDOWS]
    routes += [
        (f"overview {w} member", f"/api/dashboard/overview?window={w}&split=provider", member)
        for w in WINDOWS
    ]
    routes += [
        ("requests page 1", "/api/requests", ADMIN),
        ("requests by model", "/api/requests?model=nova", ADMIN),
        ("requests by trace", "/api/requests?trace_id=t4242", ADMIN),
        ("requests of a member", "/api/requests", member),
        ("one request", f"/api/requests/{one}", ADMIN),
    ]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench.test") as client:
        print(f"{'route':<24} {'p50 ms':>8} {'p99 ms':>8}")
        for name, path, key in routes:
            samples = []
            for _ in range(rounds):
                started = time.perf_counter()
                response = await client.get(path, headers={"x-portkey-api-key": key})
                samples.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text
            p50, p99 = percentiles(samples)
            print(f"{name:<24} {p50:>8.1f} {p99:>8.1f}")


def _serve(home: Path, db: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env |= {"STRANDS_PORTKEY_HOME": str(home), "STRANDS_PORTKEY_DB_URL": f"sqlite:///{db}",
            "STRANDS_PORTKEY_MASTER_KEY": MASTER, "STRANDS_PORTKEY_ADMIN_KEY": ADMIN}  # fmt: skip
    script = Path(sys.executable).with_name("strands-portkey")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "strands_portkey"]
    process = subprocess.Popen([*cmd, "serve", "--port", str(port), "--log-level", "warning"], env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start within 60 s")


def time_page(home: Path, db: Path, rounds: int) -> None:
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        chromium = None
    if chromium is None:
        print("page timings skipped: needs Debian's chromium and playwright")
        return
    process, url = _serve(home, db)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{url}/ui/login")
            page.fill("#key", ADMIN)
            page.press("#key", "Enter")
            page.wait_for_url("**/ui/overview")
            print(f"{'page':<24} {'first render p50/p99':>22} {'full data p50/p99':>20}")
            for window in WINDOWS:
                first, full = [], []
                for _ in range(rounds):
                    page.goto(f"{url}/ui/overview?window={window}")
                    page.wait_for_selector('[data-metric="requests"]')
                    while page.locator(".u-wrap").count() < 10:
                        page.wait_for_timeout(5)
                    timing = page.evaluate(
                        "(() => { const n = performance.getEntriesByType('navigation')[0];"
                        " const p = performance.getEntriesByName('first-contentful-paint')[0];"
                        " return [p ? p.startTime : n.domContentLoadedEventEnd, performance.now()]; })()"
                    )
                    first.append(timing[0])
                    full.append(timing[1])
                (f50, f99), (d50, d99) = percentiles(first), percentiles(full)
                print(f"overview {window:<15} {f50:>10.0f} / {f99:<9.0f} {d50:>9.0f} / {d99:<8.0f}")
            browser.close()
    finally:
        process.terminate()
        process.wait(30)


def _records(plane: ControlPlane) -> int:
    with plane.store.reading() as session:
        return int(session.execute(text("SELECT count(*) FROM request_records")).scalar_one())


def run(db: Path, home: Path, args: argparse.Namespace) -> None:
    plane = ControlPlane(
        f"sqlite:///{db}",
        env={"STRANDS_PORTKEY_HOME": str(home)},
        master_key=MASTER,
        validate_credentials=False,
    )
    records = _records(plane)
    if records == 0:
        print(f"filling {args.records:,} records (SQLite, {db})")
        print(f"  filled in {fill(plane, args.records):.0f} s")
        records = args.records
    else:
        print(f"reusing {db}: {records:,} records (timed as filled: recent windows may hold fewer)")
    asyncio.run(time_routes(plane, args.rounds, records))
    plane.close()
    if not args.no_browser:
        time_page(home, db, args.rounds)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument(
        "--db", type=Path, default=None, help="SQLite file to fill and keep (reused if filled)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "dashboard.db"
        run(db.resolve(), Path(tmp), args)


if __name__ == "__main__":
    main()
