"""The store and the vault on a real PostgreSQL server (Debian's packages, started on 127.0.0.1).

Skipped with the reason when PostgreSQL cannot be installed here, except under
STRANDS_PORTKEY_REQUIRE_LOCAL_MODEL=1 (CI), where that is a failure.
"""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text

import postgres_server  # scripts/ is on pytest's pythonpath
from strands_portkey import Gateway
from strands_portkey.catalog.models import Actor, can_use, create_model, query_models
from strands_portkey.controlplane import AINamespace, ControlPlane
from strands_portkey.controlplane.providers_api import Providers
from strands_portkey.errors import ConflictError, CredentialsUnavailableError, StoreError
from strands_portkey.store.db import VERSION_TABLE, Store
from strands_portkey.store.tables import AIModelRow, Base, CredentialRow, ProviderRow
from strands_portkey.store.windows import StoreWindows
from strands_portkey.types import ChatRequest

pytestmark = pytest.mark.integ

CANARY = "sk-pg-canary-4b8d2f6a0c1e3b5d7f9a1c3e5b7d9f1a"
MASTER = base64.urlsafe_b64encode(bytes(range(100, 132))).decode()


def _required() -> bool:
    return os.environ.get("STRANDS_PORTKEY_REQUIRE_LOCAL_MODEL", "").strip().lower() in {
        "1",
        "true",
        "yes",
        "on",
    }


@pytest.fixture(scope="module")
def server() -> Iterator[postgres_server.PostgresServer]:
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


@pytest.fixture
def url(server: postgres_server.PostgresServer) -> str:
    store = Store(server.url, migrate=False)
    with store.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    store.close()
    return server.url


def models(request: httpx.Request) -> httpx.Response:
    if request.headers.get("authorization", "").startswith("Bearer sk-pg"):
        return httpx.Response(200, json={"data": [{"id": "gpt-4o"}]})
    return httpx.Response(401, json={"error": {"message": "no"}})


def test_migrations_up_from_empty(url: str) -> None:
    store = Store(url, migrate=False)
    assert store.dialect == "postgresql"
    assert store.schema_revision() is None
    store.migrate()
    assert store.schema_revision() == "0011"
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        assert compare_metadata(context, Base.metadata) == []
    store.close()


def test_provider_keys_end_to_end_and_canary(url: str, server: postgres_server.PostgresServer) -> None:
    plane = ControlPlane(url, env={}, master_key=MASTER, transport=httpx.MockTransport(models))
    gateway = Gateway({"provider": "openai", "api_key": "x"}, control_plane=plane)
    keys = gateway.ai.provider_keys
    key = keys.create(
        {"name": "pg-key", "provider": "openai", "api_key": CANARY, "description": "on postgres"}
    )
    keys.create({"name": "pg-key-2", "provider": "openai", "api_key": "sk-pg-second-0123456789abcdef"})
    assert [k.name for k in keys.list(search="postgres")] == ["pg-key"]
    assert keys.test("pg-key").success
    assert [plane.pick("openai").name for _ in range(4)] == ["pg-key", "pg-key-2"] * 2
    keys.update(key.id, {"is_active": False})
    assert [k.name for k in keys.list(status="inactive")] == ["pg-key"]
    assert CANARY not in str(keys.retrieve(key.id).to_dict())
    with plane.store.engine.begin() as connection:
        connection.execute(text("CHECKPOINT"))
    for path in Path(server.data_dir).rglob("*"):
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes(), path
    plane.close()


def test_concurrent_first_keys_of_a_new_provider_all_succeed(url: str) -> None:
    """Two control planes, 8 threads, 4 keys each, for a provider the store has not seen: one row."""
    planes = [
        ControlPlane(url, env={}, master_key=MASTER, transport=httpx.MockTransport(models)) for _ in range(2)
    ]
    start = threading.Barrier(8)

    def add(thread: int) -> list[str]:
        keys = AINamespace(planes[thread % 2]).provider_keys
        start.wait()
        return [
            keys.create(
                {"name": f"pg-{thread}-{i}", "provider": "groq", "api_key": f"sk-pg-{i}-{thread}"}
            ).name
            for i in range(4)
        ]

    with ThreadPoolExecutor(max_workers=8) as pool:
        created = [name for names in pool.map(add, range(8)) for name in names]
    assert len(created) == 32
    with planes[0].store.reading() as session:
        providers = session.scalars(select(ProviderRow).where(ProviderRow.name == "groq")).all()
        assert len(providers) == 1
        owned = session.scalars(
            select(CredentialRow.name).where(CredentialRow.provider_id == providers[0].id)
        )
        assert sorted(owned) == sorted(created)
    for plane in planes:
        plane.close()


def test_rates_are_exact_and_batches_atomic(url: str) -> None:
    plane = ControlPlane(url, env={}, master_key=MASTER, validate_credentials=False)
    providers = Gateway({"provider": "openai", "api_key": "x"}, control_plane=plane).providers
    for name in ("openai", "groq"):
        providers.create({"name": name})
    with pytest.raises(ConflictError):
        providers.create({"name": "openai"})
    providers.rates.create(
        {"model": "m", "inputRate": "0.0000000001", "outputRate": 1, "providers": ["groq"]}
    )
    with pytest.raises(ConflictError):
        providers.rates.create(
            {"model": "m", "inputRate": 1, "outputRate": 1, "providers": ["openai", "groq"]}
        )
    assert [r.provider for r in providers.rates.list()] == ["groq"]
    providers.rates.create(
        {"model": "x", "inputRate": 0, "outputRate": 0, "unitCosts": {"input": 2.5e-6, "output": 1e-5},
         "providers": ["openai"]}
    )  # fmt: skip
    providers.rates.bulk_update(profit_margin=20, credit_price=0.001)
    rate = providers.rates.list(model="x").to_list()[0]
    assert (rate.input_rate, rate.output_rate) == (Decimal("0.003"), Decimal("0.012"))
    assert providers.rates.list(model="m").to_list()[0].input_rate == Decimal("0.0000000001")
    providers.delete("groq")
    assert [r.model for r in providers.rates.list()] == ["x"]
    plane.close()


def test_wrong_password_is_a_clear_error_without_it(server: postgres_server.PostgresServer) -> None:
    bad = server.url.replace(postgres_server.PASSWORD, "wrong-password-123")
    with pytest.raises(StoreError) as caught:
        Store(bad)
    assert "wrong-password-123" not in str(caught.value)
    assert "password authentication failed" in str(caught.value)


def test_a_second_process_change_reaches_the_first_after_the_interval(url: str) -> None:
    now = [0.0]
    first = ControlPlane(
        url, env={}, master_key=MASTER, validate_credentials=False,
        clock=lambda: now[0], refresh_interval=2.0, spawn=lambda work: work(),
    )  # fmt: skip
    second = ControlPlane(url, env={}, master_key=MASTER, validate_credentials=False, refresh_interval=None)
    registry = first.registered_models
    AINamespace(second).provider_keys.create({"name": "pg-other", "provider": "openai", "api_key": CANARY})
    AINamespace(second).models.create(
        {"name": "pg-chat", "type": "third-party", "provider": "openai", "vendor_model_id": "gpt-4o"}
    )
    request = ChatRequest("pg-chat", [{"role": "user", "content": "hi"}])
    assert registry.resolve(request)[1] is None
    with pytest.raises(CredentialsUnavailableError):
        first.pick("openai")
    now[0] += 2.0
    assert first.pick("openai").name == "pg-other"
    assert registry.resolve(request)[0].model == "gpt-4o"
    first.close()
    second.close()


AWKWARD_IDS = ["josé", "ali", "alice", "a_c", "abc", "50%", "5000", 'a", "b', "b", "back\\slash", "\\", "x'y"]


def test_shared_with_listing_agrees_with_can_use(url: str) -> None:
    store = Store(url)
    owner = Actor("the-owner", "elsewhere")
    base = {"type": "third-party", "provider": "openai", "vendor_model_id": "gpt-4o", "model_type": "chat",
            "description": None, "capabilities": [], "max_tokens": None, "context_window": None,
            "config": {}, "is_shared": False}  # fmt: skip
    with store.transaction() as session:
        for index, user in enumerate(AWKWARD_IDS):
            create_model(session, {**base, "name": f"m{index}", "shared_with": [user]}, owner)
        create_model(session, {**base, "name": "everyone", "shared_with": AWKWARD_IDS}, owner)
    with store.reading() as session:
        rows = list(session.scalars(select(AIModelRow)))
        for index, user in enumerate(AWKWARD_IDS):
            actor = Actor(user, "acme")
            listed = {row.name for row in query_models(session, actor, limit=1000)}
            assert listed == {row.name for row in rows if can_use(row, actor)} == {f"m{index}", "everyone"}
    store.close()


def test_gateway_api_keys_and_saved_configs_on_postgres(
    url: str, server: postgres_server.PostgresServer
) -> None:
    """Issue 15's tables: a key authenticates in a second process, revocation reaches it, the key
    itself is nowhere on disk; saved configs keep their versions and a conflict is a ConflictError."""
    from strands_portkey.controlplane.api_keys import ApiKeys
    from strands_portkey.errors import InvalidApiKeyError

    admin_plane = ControlPlane(url, env={}, master_key=MASTER, transport=httpx.MockTransport(models))
    worker_plane = ControlPlane(url, env={}, master_key=MASTER, transport=httpx.MockTransport(models))
    gateway = Gateway({"provider": "openai", "api_key": "x"}, control_plane=admin_plane)
    created = gateway.api_keys.create(
        {
            "name": "pg-key",
            "rate_limits": [{"type": "requests", "unit": "rpm", "value": 5}],
            "usage_limits": {"credit_limit": 2.5, "periodic_reset": "weekly"},
            "expires_at": "2999-01-01T00:00:00Z",
        }
    )
    worker = ApiKeys(worker_plane, spawn=lambda work: work())
    principal = worker.authenticate(created.key)
    assert principal.limits.usage_limits[0].credit_limit == 2.5
    assert principal.expires_at is not None
    assert principal.expires_at.year == 2999
    gateway.api_keys.revoke(created.api_key.id)
    worker.reload()
    with pytest.raises(InvalidApiKeyError, match="revoked"):
        worker.authenticate(created.key)

    saved = gateway.configs.create("pg-config", {"provider": "openai", "override_params": {"model": "a"}})
    gateway.configs.update(saved.id, config={"provider": "openai", "override_params": {"model": "b"}})
    assert [v.version for v in gateway.configs.versions("pg-config")] == [1, 2]
    assert worker_plane.saved_configs.get(saved.id, constructing=True).version == 2  # type: ignore[union-attr]
    with pytest.raises(ConflictError):
        gateway.configs.create("pg-config", {"provider": "openai"})
    gateway.configs.delete(saved.id)
    with admin_plane.store.engine.begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM saved_config_versions")).scalar() == 0
        connection.execute(text("CHECKPOINT"))
    for path in Path(server.data_dir).rglob("*"):
        if path.is_file():
            assert created.key[16:].encode() not in path.read_bytes(), path
    worker_plane.close()
    admin_plane.close()


def test_test_models_windows_and_jobs_on_postgres(url: str) -> None:
    """The fixed-window count (racing threads never exceed the limit) and job records, on PostgreSQL."""
    store = Store(url)
    windows = StoreWindows(store)
    outcomes: list[float | None] = []
    lock = threading.Lock()

    def run() -> None:
        for _ in range(5):
            outcome = windows.take("pg-user", limit=7, window_s=600)
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (outcomes.count(None), len(outcomes)) == (7, 20)
    assert all(wait is None or 590 <= wait <= 600 for wait in outcomes)
    store.close()
    plane = ControlPlane(url, env={}, master_key=MASTER, validate_credentials=False, refresh_interval=None)
    try:
        providers = Providers(plane)
        providers.create({"name": "groq"})
        providers.rates.create({"model": "m", "inputRate": 1, "outputRate": 1, "providers": ["groq"]})
        job = providers.test_models(user="pg")
        results = job.wait(timeout=30)
        seen = providers.test_models_job(job.id)
        assert (seen.status, seen.results) == ("done", results)
    finally:
        plane.close()
