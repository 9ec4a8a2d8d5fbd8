"""Where cache entries live: one small async protocol, and the in-memory store.

A store maps a key to bytes with an expiry. It never raises for a missing or expired entry; a
store that fails (a database gone away) raises, and the cache stage serves the request from the
provider instead (logging the problem once).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

__all__ = ["CacheStore", "MemoryStore"]


class CacheStore(Protocol):
    """An async key -> bytes store with per-entry time-to-live."""

    async def get(self, key: str) -> bytes | None:
        """The live entry for ``key``, or None."""
        ...

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        """Store ``value`` under ``key`` for ``ttl_s`` seconds."""
        ...


class MemoryStore:
    """A bounded LRU with per-entry expiry, owned by one gateway (thread-safe).

    Args:
        max_entries: Least recently used entries are dropped beyond this many.
        clock: Monotonic seconds (injected in tests).
    """

    def __init__(self, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"MemoryStore(entries={len(self._entries)}, max_entries={self._max})"

    async def get(self, key: str) -> bytes | None:
        """The live entry, refreshed as most recently used; expired entries are dropped."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            expires, value = found
            if expires <= self._clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        """Store, evicting the least recently used entries beyond ``max_entries``."""
        with self._lock:
            self._entries[key] = (self._clock() + ttl_s, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
