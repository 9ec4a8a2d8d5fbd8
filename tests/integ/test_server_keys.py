"""Gateway API keys, limits and budgets on a real server process (one worker on SQLite, and two
workers over PostgreSQL and Redis).

Keys are made and revoked with ``strands-portkey keys`` on the server's store (another process, as
an admin would); the upstream is the scripted OpenAI-compatible server (8 tokens
an answer). Redis is a real ``redis-server`` on a free loopback port, stopped mid-run in the last test.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

import postgres_server  # scripts/ is on pytest's pythonpath
from scripted_upstream import ScriptedUpstream, ok
from tests.integ.test_cache_redis import RedisServer
from tests.integ.test_server_process import HI, ServerProcess, command, running_server, server_env

pytestmark = pytest.mark.integ

MASTER = base64.urlsafe_b64encode(bytes(range(1, 33))).decode()
ADMIN = "spk-canary-admin-0123456789abcdefghijklmnopqrstuv"
PROVIDER_KEY = "sk-canary-provider-key-5566"
BODY = {"model": "gpt-4o", "messages": HI, "max_tokens": 10}


def _db_url(home: Path) -> dict[str, str]:
    """The store of a server home: PostgreSQL when the home says so (``db_url`` file), else SQLite."""
    marker = home / "db_url"
    return {"STRANDS_PORTKEY_DB_URL": marker.read_text()} if marker.exists() else {}


def _env(home: Path, redis_url: str | None = None) -> dict[str, str]:
    extra = {"STRANDS_PORTKEY_MASTER_KEY": MASTER, "STRANDS_PORTKEY_ADMIN_KEY": ADMIN, **_db_url(home)}
    if redis_url:
        extra["STRANDS_PORTKEY_REDIS_URL"] = redis_url
    return extra


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = server_env(home, {"STRANDS_PORTKEY_MASTER_KEY": MASTER, **_db_url(home)})
    return subprocess.run(
        [*command(), "keys", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _create(home: Path, *args: str) -> tuple[str, str]:
    done = _cli(home, "create", "--name", "t", *args)
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip().splitlines()[-1]
    key_id = done.stderr.split("created ", 1)[1].split(" ", 1)[0]
    time.sleep(1.1)  # running workers see a new key within one second
    return key, key_id


def _headers(upstream: ScriptedUpstream, key: str | None) -> dict[str, str]:
    headers = {
        "x-portkey-provider": "openai",
        "x-portkey-custom-host": upstream.base_url("keys", "a"),
        "authorization": f"Bearer {PROVIDER_KEY}",
    }
    if key is not None:
        headers["x-portkey-api-key"] = key
    return headers


def _post(server: ServerProcess, headers: dict[str, str], body: Any = BODY) -> httpx.Response:
    # a new connection each time, so requests to a two-worker server reach both workers
    return httpx.post(f"{server.url}/v1/chat/completions", json=body, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def upstream() -> Iterator[ScriptedUpstream]:
    with ScriptedUpstream() as scripted:
        scripted.script("keys", "a", [ok()])  # every call: 200, 8 tokens
        yield scripted


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys-server")


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[ServerProcess]:
    with running_server(home, env=_env(home), no_auth=False) as running:
        yield running


def test_serve_creates_a_first_admin_key_once_and_it_works(tmp_path: Path) -> None:
    env = {"STRANDS_PORTKEY_MASTER_KEY": MASTER}
    with running_server(tmp_path, env=env, no_auth=False) as running:
        printed = [line for line in running.log.read_text().splitlines() if line.startswith("spk-")]
        assert len(printed) == 1
        models = httpx.get(f"{running.url}/v1/models", headers={"authorization": f"Bearer {printed[0]}"})
        assert models.status_code == 200
    listed = _cli(tmp_path, "list", "--json")
    rows = json.loads(listed.stdout)  # one JSON array (`keys list --json`)
    assert [(row["role"], row["status"]) for row in rows] == [("admin", "active")]
    assert printed[0] not in listed.stdout
    assert rows[0]["masked_key"] == f"spk-…{printed[0][-4:]}"


def test_auth_failures(server: ServerProcess, home: Path, upstream: ScriptedUpstream) -> None:
    good, _ = _create(home)
    revoked, revoked_id = _create(home)
    expiring, _ = _create(home, "--expires-at", _in_seconds(2))
    reader, _ = _create(home, "--scope", "analytics.read")
    mini, _ = _create(home, "--model", "gpt-4o-mini")
    assert _cli(home, "revoke", revoked_id).returncode == 0
    time.sleep(1.2)  # the expiry passes; the revocation is seen within 1 s
    cases = {
        "none": (None, 401),
        "wrong": (good[:-6] + "abcdef", 401),
        "revoked": (revoked, 401),
        "expired": (expiring, 401),
        "scope": (reader, 403),
        "model": (mini, 403),
        "good": (good, 200),
    }
    got = {name: _post(server, _headers(upstream, key)).status_code for name, (key, _) in cases.items()}
    assert got == {name: status for name, (_, status) in cases.items()}


def _in_seconds(seconds: float) -> str:
    import datetime as dt

    when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_openai_sdk_with_a_gateway_key(server: ServerProcess, home: Path, upstream: ScriptedUpstream) -> None:
    key, _ = _create(home, "--rate-limits", '[{"type": "requests", "unit": "rpm", "value": 100}]')
    client = openai.OpenAI(
        api_key=PROVIDER_KEY,
        base_url=f"{server.url}/v1",
        default_headers={k: v for k, v in _headers(upstream, key).items() if k != "authorization"},
    )
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=HI, max_tokens=5)
    assert raw.parse().choices[0].message.content
    assert raw.headers["x-ratelimit-remaining-requests"] == "99"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(api_key=key[:-3] + "xyz", base_url=f"{server.url}/v1").models.list()
    assert [m.id for m in openai.OpenAI(api_key=key, base_url=f"{server.url}/v1").models.list()] == []


def test_portkey_sdk_with_a_gateway_key(
    server: ServerProcess, home: Path, upstream: ScriptedUpstream
) -> None:
    from portkey_ai import Portkey

    key, _ = _create(home)
    client = Portkey(
        api_key=key,
        base_url=f"{server.url}/v1",
        provider="openai",
        custom_host=upstream.base_url("keys", "a"),
        Authorization=f"Bearer {PROVIDER_KEY}",
    )
    answer = client.chat.completions.create(model="gpt-4o", messages=HI, max_tokens=5)
    assert answer.choices[0].message.content


def test_analytics_carry_the_keys_identity_and_no_secret_anywhere(
    server: ServerProcess, home: Path, upstream: ScriptedUpstream
) -> None:
    key, key_id = _create(home, "--user", "bob", "--organization", "acme")
    forged = {
        **_headers(upstream, key),
        "x-portkey-metadata": json.dumps({"_user": "eve", "_api_key_id": "x"}),
    }
    assert _post(server, forged).status_code == 200
    answers = [_post(server, _headers(upstream, k)).text for k in (key, "spk-" + "0" * 55, None)]
    time.sleep(1.0)  # the analytics writer flushes every 0.2 s
    with sqlite3.connect(server.db_path) as db:
        rows = db.execute("SELECT user, request_metadata FROM request_records").fetchall()
        dump = "\n".join(str(row) for table in _tables(db) for row in db.execute(f"SELECT * FROM {table}"))
    mine = [(user, json.loads(meta)) for user, meta in rows if meta and key_id in meta]
    assert mine
    assert all(user == "bob" for user, _ in mine)
    assert all((m["_api_key_id"], m["_organization_id"]) == (key_id, "acme") for _, m in mine)
    secrets = (key, key[4:], ADMIN, PROVIDER_KEY, MASTER)
    for text in (dump, server.log.read_text(errors="replace"), *answers):
        for secret in secrets:
            assert secret not in text


def _tables(db: sqlite3.Connection) -> list[str]:
    return [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]


# --------------------------------------------------------------------------- two workers over Redis


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    try:
        context = postgres_server.start()
        running = context.__enter__()
    except (RuntimeError, OSError, subprocess.SubprocessError) as error:
        pytest.skip(f"PostgreSQL not available: {error}")
    try:
        yield running.url
    finally:
        context.__exit__(None, None, None)


@pytest.fixture(scope="module")
def pair(
    tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer, postgres: str
) -> Iterator[ServerProcess]:
    """Two workers over one PostgreSQL store and one Redis."""
    home = tmp_path_factory.mktemp("two-workers")
    (home / "db_url").write_text(postgres)
    env = _env(home, redis_server.url)
    with running_server(home, ["--workers", "2"], env=env, no_auth=False) as running:
        yield running


def test_an_rpm_limit_is_held_across_two_workers(pair: ServerProcess, upstream: ScriptedUpstream) -> None:
    key, _ = _create(pair.home, "--rate-limits", '[{"type": "requests", "unit": "rpm", "value": 6}]')
    statuses = [_post(pair, _headers(upstream, key)).status_code for _ in range(14)]
    assert statuses.count(200) == 6, statuses  # each worker alone would have admitted 6
    assert set(statuses[6:]) == {429}


def test_analytics_of_a_two_worker_server_land_in_one_postgres_store(
    pair: ServerProcess, upstream: ScriptedUpstream
) -> None:
    key, key_id = _create(pair.home)
    for _ in range(12):  # a new connection each: both workers answer some
        assert _post(pair, _headers(upstream, key)).status_code == 200
    from sqlalchemy import create_engine, text

    engine = create_engine((pair.home / "db_url").read_text())
    deadline = time.monotonic() + 10
    try:
        while True:
            with engine.connect() as connection:
                rows = connection.execute(
                    text(
                        "SELECT request_metadata FROM request_records WHERE request_metadata::text LIKE :id"
                    ),
                    {"id": f"%{key_id}%"},
                ).all()
            if len(rows) == 12 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    finally:
        engine.dispose()
    assert len(rows) == 12


def test_a_budget_under_50_concurrent_requests_overshoots_by_at_most_one_reservation(
    pair: ServerProcess, upstream: ScriptedUpstream
) -> None:
    limit = 120
    key, _ = _create(pair.home, "--usage-limits", json.dumps({"credit_limit": limit, "type": "tokens"}))
    reservation = -(-len(json.dumps(BODY, separators=(",", ":"))) // 4) + BODY["max_tokens"] + 5

    async def burst() -> list[int]:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=pair.url, timeout=30, limits=limits) as client:
            replies = await asyncio.gather(
                *(
                    client.post("/v1/chat/completions", json=BODY, headers=_headers(upstream, key))
                    for _ in range(50)
                )
            )
        return [reply.status_code for reply in replies]

    statuses = asyncio.run(burst())
    assert set(statuses) <= {200, 412}, statuses
    assert 412 in statuses  # the reservations of the requests in flight held the budget
    served = statuses.count(200)
    for _ in range(40):  # then one at a time, until the budget is really spent
        status = _post(pair, _headers(upstream, key)).status_code
        if status == 412:
            break
        served += 1
    assert status == 412
    assert limit <= served * 8 <= limit + reservation  # 8 tokens an answer; at most one reservation over


def test_a_revoked_key_is_refused_by_both_workers_within_a_second(
    pair: ServerProcess, upstream: ScriptedUpstream
) -> None:
    key, key_id = _create(pair.home)
    assert {_post(pair, _headers(upstream, key)).status_code for _ in range(6)} == {200}
    assert _cli(pair.home, "revoke", key_id).returncode == 0
    time.sleep(1.1)
    assert {_post(pair, _headers(upstream, key)).status_code for _ in range(10)} == {401}


def test_redis_killed_mid_run_fails_closed_for_limits_and_never_hangs(
    pair: ServerProcess, upstream: ScriptedUpstream, redis_server: RedisServer
) -> None:
    limited, _ = _create(pair.home, "--rate-limits", '[{"type": "requests", "unit": "rpm", "value": 1000}]')
    free, _ = _create(pair.home)
    assert _post(pair, _headers(upstream, limited)).status_code == 200
    redis_server.stop()
    started = time.monotonic()
    refused = [_post(pair, _headers(upstream, limited)) for _ in range(4)]
    served = [_post(pair, _headers(upstream, free)).status_code for _ in range(4)]
    elapsed = time.monotonic() - started
    assert {r.status_code for r in refused} == {503}
    assert "unreachable" in refused[0].json()["error"]["message"]
    assert served == [200] * 4  # a key without limits does not need Redis
    assert elapsed < 10
    ready = httpx.get(f"{pair.url}/health/ready", timeout=10)
    assert ready.status_code == 503
