"""A first-come, first-served gate with a bounded number of holders (admission, pool slots).

``asyncio.Semaphore`` wakes waiters in order only since recent Python versions, and a waiter
that is cancelled just as it is woken can lose the slot it was handed; this gate states both
rules itself: waiters are served strictly in arrival order, a slot granted to a waiter that is
cancelled (or times out) at that moment is passed on to the next, and an uncontended
:meth:`Gate.acquire` costs no allocation. A gate belongs to one event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

__all__ = ["Gate"]


def _expire(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)


class Gate:
    """At most ``limit`` holders; the others wait in arrival order."""

    __slots__ = ("_free", "_waiters", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._free = limit
        self._waiters: deque[asyncio.Future[bool]] = deque()

    @property
    def in_use(self) -> int:
        """Slots held right now."""
        return self.limit - self._free

    @property
    def waiting(self) -> int:
        """Callers waiting in line (some may be about to give up)."""
        return len(self._waiters)

    def try_acquire(self) -> bool:
        """Take a free slot now if nobody is waiting (no coroutine: the hot path's common case)."""
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return True
        return False

    async def acquire(self, timeout: float | None = None) -> bool:
        """Take a slot, waiting in line at most ``timeout`` seconds; False if the wait ran out."""
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return True
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        self._waiters.append(waiter)
        timer = loop.call_later(timeout, _expire, waiter) if timeout is not None else None
        try:
            granted = await waiter
        except BaseException:  # cancelled while waiting
            if waiter.done() and not waiter.cancelled() and waiter.result():
                self.release()  # granted at the same moment: hand the slot on
            else:
                self._forget(waiter)
            raise
        finally:
            if timer is not None:
                timer.cancel()
        if not granted:
            self._forget(waiter)
        return granted

    def _forget(self, waiter: asyncio.Future[bool]) -> None:
        with contextlib.suppress(ValueError):  # already handed a slot and popped
            self._waiters.remove(waiter)

    def release(self) -> None:
        """Give a slot back: to the first live waiter, else to the pool of free slots."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(True)
                return
        self._free += 1
