"""Fixed-window counters in the database: "at most N per window per key", shared by every process.

What a limit like ``test_models``' 5 starts per 10 minutes per user needs when several server
workers (or hosts) share one database and no Redis: one row per key (``action_windows``: when the
window opened, how many starts it holds). :meth:`StoreWindows.take` is a few single-statement
steps, each atomic on SQLite and PostgreSQL (a conditional ``UPDATE``, or an ``INSERT ... ON
CONFLICT DO NOTHING``), never a read-then-write: two workers racing for the last start cannot
both get it. Time is the workers' wall clock (epoch seconds), the one clock hosts share.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from sqlalchemy import Float, Integer, String, insert, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from .tables import Base

__all__ = ["ActionWindowRow", "StoreWindows"]

_ATTEMPTS = 4


class ActionWindowRow(Base):
    """One key's current window: opened at ``opened_at`` (epoch seconds), holding ``count`` starts."""

    __tablename__ = "action_windows"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    opened_at: Mapped[float] = mapped_column(Float)
    count: Mapped[int] = mapped_column(Integer)


def _insert_new(session: Session, key: str, now: float) -> bool:
    """Open ``key``'s first window with one start; False when another process made the row first."""
    values: dict[str, Any] = {"key": key, "opened_at": now, "count": 1}
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        statement: Any = sqlite.insert(ActionWindowRow).values(**values).on_conflict_do_nothing()
    elif dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        statement = postgresql.insert(ActionWindowRow).values(**values).on_conflict_do_nothing()
    else:  # another backend: a plain insert (a lost race surfaces as a ConflictError there)
        statement = insert(ActionWindowRow).values(**values)
    # RETURNING says whether the row went in (psycopg reports no rowcount for DO NOTHING)
    return session.execute(statement.returning(ActionWindowRow.key)).first() is not None


class Transactions(Protocol):
    """What :class:`StoreWindows` needs of a :class:`~strands_portkey.store.db.Store`."""

    def transaction(self) -> AbstractContextManager[Session]:
        """A session in one transaction."""
        ...


class StoreWindows:
    """Fixed windows over a :class:`Store`: every process on that database counts the same starts.

    A window opens at a key's first start and lasts ``window_s``; it holds at most ``limit``
    starts; the next start after it ends opens a new one.
    """

    def __init__(self, store: Transactions, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    def __repr__(self) -> str:
        return f"StoreWindows({self._store!r})"

    def take(self, key: str, *, limit: int, window_s: float) -> float | None:
        """Count one start for ``key``: None when admitted, else the seconds until its window ends."""
        for _ in range(_ATTEMPTS):
            now = self._clock()
            with self._store.transaction() as session:
                outcome = self._step(session, key, limit, window_s, now)
            if outcome is not None:
                return outcome if outcome > 0 else None
        # every attempt raced a window that opened or closed meanwhile: refuse for a moment
        return 1.0

    @staticmethod
    def _step(session: Session, key: str, limit: int, window_s: float, now: float) -> float | None:
        """0 admitted; > 0 refused with that wait; None: raced, try again."""
        table = ActionWindowRow
        open_since = now - window_s
        counted = session.execute(
            update(table)
            .where(table.key == key, table.opened_at > open_since, table.count < limit)
            .values(count=table.count + 1)
        )
        if counted.rowcount:  # type: ignore[attr-defined]
            return 0.0
        reopened = session.execute(
            update(table)
            .where(table.key == key, table.opened_at <= open_since)
            .values(opened_at=now, count=1)
        )
        if reopened.rowcount or _insert_new(session, key, now):  # type: ignore[attr-defined]
            return 0.0
        row = session.get(table, key, populate_existing=True)
        if row is None or row.opened_at <= open_since or row.count < limit:
            return None
        return max(window_s - (now - row.opened_at), 0.001)
