"""Fixed-window counters: "at most ``limit`` starts per ``window_s`` per key", where the count lives.

A :class:`WindowCounter` answers one question atomically: may ``key`` start once more (None), or
how many seconds until its window ends. The window opens at a key's first start. Three homes:

- :class:`MemoryWindows`: one process (a lock and a dict; tests and single-process use);
- :class:`~strands_portkey.store.windows.StoreWindows`: the control plane's database, shared by
  every process on it (the default of ``gw.providers``);
- :class:`~strands_portkey.limits.redis_windows.RedisWindows`: Redis, shared by every worker that
  uses it (the server's choice when ``STRANDS_PORTKEY_REDIS_URL`` is set).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["MemoryWindows", "WindowCounter"]


class WindowCounter(Protocol):
    """Counts starts per key in fixed windows."""

    def take(self, key: str, *, limit: int, window_s: float) -> float | None:
        """Count one start for ``key``: None when admitted, else the seconds until its window ends."""
        ...


class MemoryWindows:
    """Fixed windows in this process only."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MemoryWindows(keys={len(self._windows)})"

    def take(self, key: str, *, limit: int, window_s: float) -> float | None:
        """See :meth:`WindowCounter.take`."""
        now = self._clock()
        with self._lock:
            opened, count = self._windows.get(key, (now, 0))
            if now - opened >= window_s:
                opened, count = now, 0
            if count >= limit:
                return window_s - (now - opened)
            self._windows[key] = (opened, count + 1)
            return None
