"""A cache store in one SQLite file: entries survive restarts and are shared by processes on a host.

Semantic records (vectors) are kept in a second table, an append-only log per scope, so several
processes share semantic entries too.

Uses the standard library's ``sqlite3`` (WAL mode, so readers never wait for a writer); calls run
in a worker thread so the event loop never blocks on disk. Expiry is wall-clock time, because
entries outlive the process. Expired rows are purged as new entries are written.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["SQLiteStore"]

_T = TypeVar("_T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cache_entries (
    key TEXT PRIMARY KEY,
    expires_at REAL NOT NULL,
    value BLOB NOT NULL
)
"""
_VECTOR_SCHEMA = """
CREATE TABLE IF NOT EXISTS cache_vectors (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    expires_at REAL NOT NULL,
    record BLOB NOT NULL
)
"""
_VECTOR_INDEX = "CREATE INDEX IF NOT EXISTS cache_vectors_scope ON cache_vectors (scope, seq)"
_PURGE_EVERY = 256


class SQLiteStore:
    """A :class:`~strands_portkey.cache.stores.CacheStore` in the SQLite file at ``path``.

    Args:
        path: The database file (created with its folder if missing).
        clock: Wall-clock seconds (injected in tests).
    """

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self._path = Path(path)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._lock = threading.Lock()
        self._writes = 0
        self._db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)
        self._db.execute(_VECTOR_SCHEMA)
        self._db.execute(_VECTOR_INDEX)

    def __repr__(self) -> str:
        return f"SQLiteStore(path={str(self._path)!r})"

    async def get(self, key: str) -> bytes | None:
        """The live entry for ``key``, or None."""
        return await self._run(self._get, key)

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        """Store ``value`` under ``key`` for ``ttl_s`` seconds."""
        await self._run(self._set, key, value, ttl_s)

    async def append_vector(self, scope: str, record: bytes, ttl_s: float) -> None:
        """Append a semantic record to ``scope``'s log (see :mod:`.semantic`)."""
        await self._run(self._append_vector, scope, record, ttl_s)

    async def read_vectors(self, scope: str, cursor: int) -> tuple[int, list[bytes], bool]:
        """Live records of ``scope`` after ``cursor`` (a row sequence number)."""
        return await self._run(self._read_vectors, scope, cursor)

    async def _run(self, call: Callable[..., _T], *args: Any) -> _T:
        """``call`` in a worker thread; a database error becomes an ``OSError`` (a logged cache miss)."""
        try:
            return await asyncio.to_thread(call, *args)
        except sqlite3.Error as error:
            raise OSError(f"sqlite cache {self._path}: {type(error).__name__}: {error}") from error

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def _get(self, key: str) -> bytes | None:
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM cache_entries WHERE key = ? AND expires_at > ?", (key, self._clock())
            ).fetchone()
        return bytes(row[0]) if row is not None else None

    def _set(self, key: str, value: bytes, ttl_s: float) -> None:
        now = self._clock()
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO cache_entries (key, expires_at, value) VALUES (?, ?, ?)",
                (key, now + ttl_s, value),
            )
            self._writes += 1
            if self._writes % _PURGE_EVERY == 0:
                self._db.execute("DELETE FROM cache_entries WHERE expires_at <= ?", (now,))
                self._db.execute("DELETE FROM cache_vectors WHERE expires_at <= ?", (now,))

    def _append_vector(self, scope: str, record: bytes, ttl_s: float) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO cache_vectors (scope, expires_at, record) VALUES (?, ?, ?)",
                (scope, self._clock() + ttl_s, record),
            )

    def _read_vectors(self, scope: str, cursor: int) -> tuple[int, list[bytes], bool]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, record FROM cache_vectors WHERE scope = ? AND seq > ? AND expires_at > ? "
                "ORDER BY seq",
                (scope, cursor, self._clock()),
            ).fetchall()
        if not rows:
            return cursor, [], False
        return int(rows[-1][0]), [bytes(row[1]) for row in rows], False
