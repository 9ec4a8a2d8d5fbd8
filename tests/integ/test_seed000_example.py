"""Seed 000's complete example against ``strands-portkey serve`` as a real process, over HTTP.

The example (tests/integ/seed000_complete_example.py) runs unchanged but for its import and
``client = Client()``, first with the server on SQLite, then on PostgreSQL. The provider key it
adds is tested against a scripted Anthropic on 127.0.0.1 (the ``anthropic`` provider is pointed
there before the server starts), so nothing leaves the machine. Analytics come from one real
request recorded by the server, so the numbers it prints are checked, not just printed.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

import postgres_server  # scripts/ is on pytest's pythonpath
from strands_portkey.analytics.rollups import store_rows
from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.providers_api import Providers
from strands_portkey.store.db import Store
from strands_portkey.store.tables import AIModelRow, CredentialRow
from tests.integ.seed000_complete_example import main
from tests.integ.test_server_process import running_server
from tests.integ.test_store_postgres import _required

pytestmark = pytest.mark.integ

MASTER = base64.urlsafe_b64encode(bytes(range(7, 39))).decode()
ADMIN_KEY = "spk-seed000-example-admin-key-0123456789abcdef"


def _record(index: int, when: str, latency: float, status: str) -> dict[str, object]:
    return {
        "id": f"ex{index:06d}",
        "created_at": dt.datetime.fromisoformat(when).replace(tzinfo=dt.timezone.utc),
        "trace_id": f"t{index}",
        "request_metadata": None,
        "user": "local",
        "model_id": "claude-3-5-sonnet-20241022",
        "requested_model": "claude-3-5-sonnet-20241022",
        "served_model": "claude-3-5-sonnet-20241022",
        "provider": "anthropic",
        "credential_id": None,
        "option_path": "config",
        "status": status,
        "status_code": 200 if status == "success" else 500,
        "error_type": None,
        "retries": 0,
        "latency_ms": latency,
        "ttft_ms": None,
        "prompt_tokens": 100,
        "completion_tokens": 20,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "total_tokens": 120,
        "cost_usd": 1.25,
        "cost_credits": 1250.0,
        "cache_status": "DISABLED",
        "streamed": False,
    }


class _Anthropic(BaseHTTPRequestHandler):
    """Anthropic's model listing (what a key test calls); records the paths and key headers it saw."""

    seen: list[tuple[str, str | None]]

    def do_GET(self) -> None:
        type(self).seen.append((self.path, self.headers.get("x-api-key")))
        payload = json.dumps({"data": [{"id": "claude-3-5-sonnet-20241022", "type": "model"}]}).encode()
        self.send_response(200 if self.path == "/v1/models" else 404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@contextmanager
def _scripted_anthropic() -> Iterator[tuple[str, list[tuple[str, str | None]]]]:
    seen: list[tuple[str, str | None]] = []
    handler = type("Anthropic", (_Anthropic,), {"seen": seen})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", seen
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)


def _prepare(db_url: str, base_url: str) -> None:
    """Point ``anthropic`` at the scripted one; two January requests, one a failure."""
    plane = ControlPlane(db_url, env={}, master_key=MASTER, refresh_interval=None)
    try:
        Providers(plane).create({"name": "anthropic", "baseUrl": base_url})
        with plane.store.transaction() as session:
            store_rows(
                session,
                [
                    _record(1, "2025-01-15 10:00:00", 100.0, "success"),
                    _record(2, "2025-01-16 10:00:00", 300.0, "error"),
                ],
            )
    finally:
        plane.close()


def _run_example(
    home: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    with _scripted_anthropic() as (base_url, seen):
        _prepare(db_url, base_url)
        env = {
            "STRANDS_PORTKEY_DB_URL": db_url,
            "STRANDS_PORTKEY_MASTER_KEY": MASTER,
            "STRANDS_PORTKEY_ADMIN_KEY": ADMIN_KEY,
        }
        with running_server(home, env=env, no_auth=False) as server:
            monkeypatch.setenv("STRANDS_PORTKEY_BASE_URL", server.url)
            monkeypatch.setenv("STRANDS_PORTKEY_API_KEY", ADMIN_KEY)
            capsys.readouterr()
            main()
            printed = capsys.readouterr().out
        assert seen == [("/v1/models", "sk-ant-...")]  # the key was tested against the scripted Anthropic
    store = Store(db_url, migrate=False)
    try:
        with store.reading() as session:  # the example cleaned up after itself
            assert session.scalar(select(func.count()).select_from(AIModelRow)) == 0
            assert session.scalar(select(func.count()).select_from(CredentialRow)) == 0
    finally:
        store.close()
    return printed


def _check(printed: str) -> None:
    lines = printed.splitlines()
    assert lines[:2] == ["=== Model Overview ===", "Total: 0, Active: 0, Stopped: 0"]
    created = next(line for line in lines if line.startswith("Created: "))
    assert created.startswith("Created: Claude 3.5 Sonnet (ID: model-")
    masked = next(line for line in lines if line.startswith("Key created: "))
    assert masked.startswith("Key created: Anthropic Production Key (")
    assert "Key valid: True" in lines
    assert " Claude 3.5 Sonnet (anthropic/claude-3-5-sonnet-20241022)" in lines
    assert "Owner: local, Shared: False" in lines
    assert "Model shared with organization" in lines
    assert "Requests: 2, Tokens: 240" in lines
    assert "Total cost: USD 2.50" in lines
    assert "Avg latency: 200.0ms, Error rate: 50.00%" in lines
    assert lines[-1] == "Done"


def test_the_complete_example_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    _check(_run_example(home, f"sqlite:///{home / 'server.db'}", monkeypatch, capsys))


@pytest.fixture(scope="module")
def postgres() -> Iterator[postgres_server.PostgresServer]:
    try:
        context = postgres_server.start()
        running = context.__enter__()
    except (RuntimeError, OSError, subprocess.SubprocessError) as error:
        if _required():
            pytest.fail(f"PostgreSQL is required (CI) but could not start: {error}", pytrace=False)
        pytest.skip(f"PostgreSQL not available: {error}")
    try:
        yield running
    finally:
        context.__exit__(None, None, None)


def test_the_complete_example_on_postgresql(
    tmp_path: Path,
    postgres: postgres_server.PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = Store(postgres.url, migrate=False)
    with store.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    store.close()
    _check(_run_example(tmp_path / "home", postgres.url, monkeypatch, capsys))


def test_a_members_analytics_and_models_on_postgresql(postgres: postgres_server.PostgresServer) -> None:
    """What a member's key sees, on PostgreSQL: its own requests (``"user"`` is a reserved word
    there), the models it may use (JSON ``shared_with``), not another user's key."""
    from strands_portkey.catalog.models import Actor
    from strands_portkey.controlplane import AINamespace
    from strands_portkey.errors import ResourceNotFoundError
    from tests.unit.remote.ai_fixtures import seed_records

    store = Store(postgres.url, migrate=False)
    with store.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    store.close()
    plane = ControlPlane(
        postgres.url, env={}, master_key=MASTER, refresh_interval=None, validate_credentials=False
    )
    try:
        seed_records(plane)  # ana: 3 requests (latencies 100, 300 (an error), 500); bob: 2
        ai = AINamespace(plane)
        ana, bob = ai.acting_as(Actor("ana", "acme")), ai.acting_as(Actor("bob", "acme"))
        perf = ana.analytics.performance()
        assert (perf.p50_latency_ms, perf.p99_latency_ms, perf.error_rate) == (300.0, 500.0, 1 / 3)
        assert ana.analytics.usage(start_date="2025-01-01", end_date="2025-01-31").total_requests == 2
        assert [p["provider"] for p in ana.analytics.providers().providers] == ["openai", "anthropic"]
        assert ai.analytics.usage().total_requests == 5
        model = bob.models.create({"name": "bob's", "provider": "openai", "vendor_model_id": "gpt-4o"})
        assert ana.models.list().total() == 0
        bob.models.update_permissions(model.id, shared_with=["ana"])
        assert [m.name for m in ana.models.list()] == ["bob's"]
        key = bob.provider_keys.create(
            {"name": "bob-key", "provider": "openai", "api_key": "sk-bob-0123456789"}
        )
        assert ana.provider_keys.list().to_list() == []
        with pytest.raises(ResourceNotFoundError):
            ana.provider_keys.retrieve(key.id)
    finally:
        plane.close()
