"""``strands-portkey db status|upgrade``: the store's schema (Alembic migrations) on this machine.

The store is ``STRANDS_PORTKEY_DB_URL``, else the SQLite file in the user's data directory (shown
without its password). Every open migrates on its own; ``upgrade`` does it now, step by step with
progress, so a long migration of a big PostgreSQL store happens when you choose, not at a
server's start. ``status`` changes nothing and exits 1 when migrations are pending.
"""

from __future__ import annotations

import os
from typing import Any

import typer

from ._common import AsJson, console, emit, guarded, require_local
from ._progress import progress

__all__ = ["db_app"]


def _store() -> Any:
    from ..store.db import Store

    return Store(env=dict(os.environ), migrate=False)


def status(as_json: AsJson = False) -> None:
    """The store's URL, its schema revision and the migrations not applied yet (exit 1 if any)."""
    require_local("db status")
    with guarded():
        store = _store()
        try:
            found = {
                "url": store.shown_url,
                "revision": store.schema_revision(),
                "pending": [{"revision": rev, "message": msg} for rev, msg in store.pending_migrations()],
            }
        finally:
            store.close()

    def render(f: dict[str, Any]) -> None:
        out = console()
        out.print(f"store: {f['url']}", markup=False)
        out.print(f"schema revision: {f['revision'] or 'none (empty store)'}")
        if not f["pending"]:
            out.print("up to date")
        for step in f["pending"]:
            out.print(f"pending: {step['revision']} {step['message']}", markup=False)

    emit(found, as_json, render)
    if found["pending"]:
        raise typer.Exit(1)


def upgrade(as_json: AsJson = False) -> None:
    """Apply the pending migrations now (one transaction), with progress."""
    require_local("db upgrade")
    with guarded():
        store = _store()
        try:
            pending = store.pending_migrations()
            with progress("migrating the store", len(pending)) as bar:
                done: list[str] = []

                def step(revision: str, message: str) -> None:
                    bar.update(len(done), note=f"{revision} {message}")
                    done.append(revision)

                store.migrate(on_step=step)
                bar.update(len(done), note="")
            found = {"url": store.shown_url, "applied": done, "revision": store.schema_revision()}
        finally:
            store.close()
    line = f"applied {len(found['applied'])} migration(s); schema revision {found['revision']}"
    emit(found, as_json, lambda _: console(stderr=True).print(line))


def db_app() -> typer.Typer:
    """The ``db`` command group."""
    app = typer.Typer(help="The store's schema: status, upgrade.", no_args_is_help=True)
    app.command("status")(status)
    app.command("upgrade")(upgrade)
    return app
