"""A private event loop on a daemon thread: how the blocking :class:`~.client.Client` runs the async one.

One implementation of every call (the async one), two faces: the sync client submits each
coroutine to this loop and waits for its result, so both faces send the same requests, retry the
same way and raise the same exceptions.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["Portal"]

T = TypeVar("T")


class Portal:
    """Runs coroutines on a loop of its own, started on first use, stopped by :meth:`close`."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="strands-portkey-client", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the portal's loop and return its result (or raise its exception)."""
        loop = self._running_loop()
        if threading.current_thread() is self._thread:
            coroutine.close()
            raise RuntimeError("a blocking Client call cannot be made from its own event loop thread")
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    def close(self, closing: Coroutine[Any, Any, None] | None = None) -> None:
        """Run ``closing`` (if any) on the loop, then stop the loop and its thread."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            if closing is not None:
                closing.close()
            return
        if closing is not None:
            asyncio.run_coroutine_threadsafe(closing, loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()
