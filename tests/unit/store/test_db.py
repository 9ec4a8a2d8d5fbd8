from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from strands_portkey.errors import ConflictError, StoreError
from strands_portkey.store import db as store_db
from strands_portkey.store.db import VERSION_TABLE, Store, default_url
from strands_portkey.store.providers import create_provider
from strands_portkey.store.tables import Base, ProviderRow, StoreRevisionRow


def test_migrations_up_from_empty_match_the_tables(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'a.db'}", migrate=False)
    assert store.schema_revision() is None
    store.migrate()
    assert store.schema_revision() == "0011"
    assert {"providers", "credentials", "model_rates"} <= set(inspect(store.engine).get_table_names())
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
    store.migrate()  # idempotent
    store.close()


def test_default_is_a_wal_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    env = {"STRANDS_PORTKEY_HOME": str(tmp_path / "data")}
    assert default_url(env) == f"sqlite:///{tmp_path / 'data' / 'strands-portkey.db'}"
    store = Store(env=env)
    store.close()
    connection = sqlite3.connect(tmp_path / "data" / "strands-portkey.db")
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    connection.close()


def test_db_url_env_wins(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'other.db'}"
    assert default_url({"STRANDS_PORTKEY_DB_URL": url, "STRANDS_PORTKEY_HOME": "/nowhere"}) == url


def test_bad_url_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="is not a database URL"):
        Store("not a url at all")


def test_unreachable_database_hides_the_password() -> None:
    with pytest.raises(StoreError) as caught:
        Store("postgresql://admin:hunter2-password@127.0.0.1:1/db")
    assert "hunter2-password" not in str(caught.value)
    assert "***" in str(caught.value)
    assert "migration failed" in str(caught.value)


def test_transaction_rolls_back_every_row_on_error(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")

    def three_rows() -> None:
        with store.transaction() as session:
            create_provider(session, {"name": "groq"})
            create_provider(session, {"name": "openai"})
            create_provider(session, {"name": "openai"})

    with pytest.raises(ConflictError, match="'openai' already exists"):
        three_rows()
    with store.reading() as session:
        assert list(session.scalars(select(ProviderRow.name))) == []
    store.close()


def test_unique_constraint_is_the_last_line_of_defence(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    with store.transaction() as session:
        create_provider(session, {"name": "openai"})
    with pytest.raises(ConflictError, match="provider with this name"), store.transaction() as session:
        session.add(ProviderRow(**{**_row("x"), "name": "openai"}))
    store.close()


def _row(provider_id: str) -> dict[str, object]:
    import datetime as dt

    now = dt.datetime.now(dt.timezone.utc)
    return {"id": provider_id, "display_name": "x", "enabled": True, "created_at": now, "updated_at": now}


def test_repr_hides_password() -> None:
    store = Store("postgresql://u:pw-secret@127.0.0.1:1/db", migrate=False)
    assert "pw-secret" not in repr(store)


def test_changing_bumps_the_revision_with_the_change_and_rolls_back_with_it(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    other = Store(f"sqlite:///{tmp_path / 'a.db'}")  # another process on the same file
    assert store.revision() == 0
    with store.transaction() as session:  # plain transactions (analytics, usage counts) do not bump
        create_provider(session, {"name": "groq"})
    assert store.revision() == 0
    with store.changing() as session:
        create_provider(session, {"name": "openai"})
    assert (store.revision(), other.revision()) == (1, 1)
    with pytest.raises(ConflictError), other.changing() as session:
        create_provider(session, {"name": "openai"})
    assert store.revision() == 1
    with store.engine.begin() as connection:  # the row deleted by hand comes back on the next change
        connection.execute(StoreRevisionRow.__table__.delete())
    assert store.revision() == 0
    with other.changing() as session:
        create_provider(session, {"name": "mistral"})
    assert store.revision() == 1
    store.close()
    other.close()


def test_v0005_adds_api_format_and_keeps_existing_providers_and_their_keys(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    store = Store(f"sqlite:///{tmp_path / 'old.db'}", migrate=False)
    config = Config()
    config.set_main_option("script_location", str(Path(store_db.__file__).with_name("migrations")))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        config.attributes["version_table"] = VERSION_TABLE
        command.upgrade(config, "0004")
    with store.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO providers (id, name, display_name, enabled, created_at, updated_at) "
                "VALUES ('prov-1', 'my-vllm', 'my-vllm', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO credentials (id, provider_id, name, credential_type, identifiers, masked, "
                "master_key_id, wrapped_key, ciphertext, weight, active, usage_count, created_at, "
                "updated_at) "
                "VALUES ('key-1', 'prov-1', 'k', 'api_key', '{}', '***', 'm', x'00', x'00', 100, 1, 0, "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
    store.migrate()
    assert store.schema_revision() == "0011"
    with store.reading() as session:
        row = session.scalars(select(ProviderRow)).one()
        assert (row.name, row.api_format, [c.name for c in row.credentials]) == ("my-vllm", None, ["k"])
    store.close()
