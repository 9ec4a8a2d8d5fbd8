"""The database: one SQLAlchemy engine per :class:`Store`, migrated to the latest schema on open.

The embedded default is one SQLite file in WAL mode under the user's data directory
(:func:`~strands_portkey.store.paths.data_dir`); ``STRANDS_PORTKEY_DB_URL`` (or ``Store(url)``)
switches to any SQLAlchemy URL. ``postgresql://`` URLs use psycopg 3 (the ``[postgres]`` extra).

Every change goes through :meth:`Store.transaction`: one transaction, committed whole or rolled
back whole, so a failure never leaves half of a multi-row change behind. A change to what the
control plane keeps in memory (keys, providers, rates, models) goes through :meth:`Store.changing`,
which also bumps the one-row ``store_revision`` counter in the same transaction: every process
sharing the database compares that number to know when to reload (:meth:`Store.revision`).
Database failures
surface as :class:`~strands_portkey.errors.StoreError` with the URL shown without its password.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, select, update
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ..errors import ConflictError, ControlPlaneError, StoreError, scrub
from .jobs import JobRow
from .paths import DB_FILE_NAME, data_dir
from .prompt_tables import PromptRow
from .tables import StoreRevisionRow
from .windows import ActionWindowRow

__all__ = ["DB_URL_ENV", "Store", "default_url"]

DB_URL_ENV = "STRANDS_PORTKEY_DB_URL"
VERSION_TABLE = "strands_portkey_schema_version"
_MIGRATIONS = Path(__file__).with_name("migrations")
_log = logging.getLogger("strands_portkey.store")

# Tables declared outside tables.py, imported here so Base.metadata (what migrations are checked
# against) always holds them.
_OTHER_TABLES = (PromptRow.__tablename__, ActionWindowRow.__tablename__, JobRow.__tablename__)


def default_url(env: Mapping[str, str]) -> str:
    """``STRANDS_PORTKEY_DB_URL``, else the SQLite file in the user's data directory."""
    if env.get(DB_URL_ENV):
        return env[DB_URL_ENV]
    return f"sqlite:///{data_dir(env) / DB_FILE_NAME}"


def _normalised(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            f"{DB_URL_ENV}: {url.rsplit('@', maxsplit=1)[-1]!r} is not a database URL "
            "(e.g. 'sqlite:////path/file.db' or 'postgresql://user:pw@127.0.0.1:5432/db')"
        ) from None
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername == "postgresql+psycopg" and importlib.util.find_spec("psycopg") is None:
        raise StoreError(
            "a PostgreSQL URL needs the psycopg driver: pip install 'strands-agents-portkey[postgres]'"
        )
    return parsed


def _enable_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Store:
    """A connection to the control plane's database, migrated on open.

    Args:
        url: A SQLAlchemy URL; default :func:`default_url` of ``env``.
        env: Where ``STRANDS_PORTKEY_DB_URL`` / ``STRANDS_PORTKEY_HOME`` are read (default: none).
        migrate: Bring the schema to the latest version now (default True).
    """

    def __init__(self, url: str | None = None, *, env: Mapping[str, str] | None = None, migrate: bool = True):
        self.url = _normalised(url or default_url(env or {}))
        self._password = self.url.password if isinstance(self.url.password, str) else None
        if self.url.get_backend_name() == "sqlite" and self.url.database not in (None, "", ":memory:"):
            Path(self.url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine: Engine = create_engine(self.url, **self._engine_options())
        except ArgumentError:  # no SQLAlchemy dialect of that name (e.g. a typo in the scheme)
            raise StoreError(
                f"{DB_URL_ENV}: {self.shown_url!r}: no database driver for {self.url.drivername!r} "
                "(use sqlite:///path/file.db or postgresql://user:pw@host/db)"
            ) from None
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _enable_sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if migrate:
            self.migrate()

    def _engine_options(self) -> dict[str, Any]:
        if self.url.get_backend_name() == "sqlite":
            return {"connect_args": {"check_same_thread": False, "timeout": 30}}
        return {"pool_pre_ping": True}

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql`` (or another SQLAlchemy backend name)."""
        return self.url.get_backend_name()

    @property
    def shown_url(self) -> str:
        """The URL with its password hidden."""
        return self.url.render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"Store({self.shown_url!r})"

    def _failure(self, action: str, error: BaseException) -> StoreError:
        detail = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        detail = scrub(detail, [self._password] if self._password else [])
        return StoreError(f"database {self.shown_url}: {action} failed: {type(error).__name__}: {detail}")

    def migrate(self, *, on_step: Callable[[str, str], None] | None = None) -> None:
        """Upgrade the schema to the latest Alembic revision (idempotent), in one transaction.

        ``on_step(revision, message)`` is called before each pending migration runs (the CLI's
        progress); without it the upgrade goes to ``head`` in one call.
        """
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        steps = [revision for revision, _ in self.pending_migrations()] if on_step is not None else ["head"]
        messages = dict(self.pending_migrations()) if on_step is not None else {}
        try:
            with self.engine.begin() as connection:
                config.attributes["connection"] = connection
                config.attributes["version_table"] = VERSION_TABLE
                for target in steps:
                    if on_step is not None:
                        on_step(target, messages[target])
                    command.upgrade(config, target)
        except SQLAlchemyError as error:
            raise self._failure("migration", error) from None

    def pending_migrations(self) -> list[tuple[str, str]]:
        """``(revision, first line of its message)`` of each migration not applied yet, oldest first."""
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        scripts = ScriptDirectory.from_config(config)
        try:
            current = self.schema_revision()
        except SQLAlchemyError as error:
            raise self._failure("revision read", error) from None
        pending = scripts.iterate_revisions("head", current or "base")
        scripts_in_order = reversed(list(pending))
        return [
            (script.revision, ((script.doc or "").strip().splitlines() or [""])[0])
            for script in scripts_in_order
        ]

    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at (``None`` before any migration)."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed at the end, rolled back whole on any error.

        A unique-constraint violation becomes :class:`ConflictError`; other database errors
        :class:`StoreError`. Errors of the control plane's own raise through unchanged.
        """
        try:
            with self._sessions.begin() as session:
                yield session
        except ControlPlaneError:
            raise
        except IntegrityError as error:
            raise ConflictError(_conflict_message(error)) from None
        except (DBAPIError, SQLAlchemyError) as error:
            raise self._failure("transaction", error) from None

    @contextmanager
    def changing(self) -> Iterator[Session]:
        """:meth:`transaction` for a change other processes must see: bumps the store revision in it."""
        with self.transaction() as session:
            yield session
            bumped = session.execute(
                update(StoreRevisionRow)
                .where(StoreRevisionRow.id == 1)
                .values(revision=StoreRevisionRow.revision + 1)
            )
            if getattr(bumped, "rowcount", 1) == 0:  # the row was deleted by hand: start it again
                session.add(StoreRevisionRow(id=1, revision=1))

    def revision(self) -> int:
        """The store revision: it changes whenever any process commits a control-plane change."""
        try:
            with self.engine.connect() as connection:
                found = connection.execute(
                    select(StoreRevisionRow.revision).where(StoreRevisionRow.id == 1)
                ).scalar()
        except SQLAlchemyError as error:
            raise self._failure("revision read", error) from None
        return int(found or 0)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session (rolled back at the end)."""
        try:
            with self._sessions() as session:
                yield session
        except ControlPlaneError:
            raise
        except SQLAlchemyError as error:
            raise self._failure("read", error) from None

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()


def _conflict_message(error: IntegrityError) -> str:
    text = str(error.orig).lower()
    if "providers" in text and "name" in text:
        return "a provider with this name already exists (provider names are unique)"
    if "credentials" in text and "name" in text:
        return "a provider key with this name already exists (key names are unique)"
    if "model_rates" in text or "uq_model_rates" in text:
        return "this provider already has a rate for this model and type"
    if "saved_configs" in text and "name" in text:
        return "a saved config with this name already exists (saved config names are unique)"
    if "foreign key" in text:
        return "the referenced provider does not exist"
    _log.debug("unclassified integrity error: %s", type(error.orig).__name__)
    return "the change conflicts with existing data (a unique name or a reference)"
