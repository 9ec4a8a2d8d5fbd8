"""The in-memory :class:`~strands_portkey.shared_state.SharedState`: one process, several gateways.

The same smooth weighted round-robin as the gateway's own (nginx's: add each weight to its
counter, choose the largest, the earliest on ties, subtract the total from it), so weights 5, 1, 1
give ``a a b a c a a``. Cooldowns end by the injected monotonic clock. It is also what
:class:`~strands_portkey.shared_state.redis.RedisState` falls back to while Redis is unreachable.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from . import MemberStatus, SwrrChoice

__all__ = ["MemoryState"]


class MemoryState:
    """Positions and cooldowns in this process, under one lock."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._positions: dict[str, dict[str, float]] = {}
        self._throttled: dict[str, float] = {}  # member -> until (clock seconds)
        self._disabled: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"MemoryState(scopes={len(self._positions)})"

    def _live(self, table: dict[str, float], member: str, now: float) -> float | None:
        """Seconds left on ``member``'s entry in ``table`` (dropped once over)."""
        until = table.get(member)
        if until is None:
            return None
        if now >= until:
            del table[member]
            return None
        return until - now

    def swrr_pick(
        self, scope: str, members: Sequence[tuple[str, float]], *, throttled_weight: float | None = None
    ) -> SwrrChoice | None:
        """One smooth weighted round-robin step (see :class:`SharedState`)."""
        with self._lock:
            current = self._positions.setdefault(scope, {})
            now = self._clock() if throttled_weight is not None else 0.0
            best: str | None = None
            best_throttled = False
            total = 0.0
            for member, base in members:
                weight, throttled = base, False
                if throttled_weight is not None:
                    if self._live(self._disabled, member, now) is not None:
                        continue
                    if self._live(self._throttled, member, now) is not None:
                        throttled = True
                        weight = min(weight, throttled_weight)
                value = current.get(member, 0) + weight
                current[member] = value
                total += weight
                if best is None or value > current[best]:
                    best, best_throttled = member, throttled
            if best is None:
                return None
            current[best] -= total
            return SwrrChoice(best, best_throttled)

    def throttle(self, member: str, seconds: float) -> None:
        """Cap ``member``'s weight for ``seconds``."""
        with self._lock:
            self._throttled[member] = self._clock() + seconds

    def disable(self, member: str, seconds: float) -> None:
        """Skip ``member`` for ``seconds``."""
        with self._lock:
            self._disabled[member] = self._clock() + seconds

    def restore(self, member: str) -> None:
        """Clear ``member``'s cooldown and disable."""
        with self._lock:
            self._throttled.pop(member, None)
            self._disabled.pop(member, None)

    def status(self, members: Sequence[str]) -> dict[str, MemberStatus]:
        """Seconds left on each member's cooldown and disable."""
        with self._lock:
            now = self._clock()
            return {
                member: MemberStatus(
                    self._live(self._throttled, member, now), self._live(self._disabled, member, now)
                )
                for member in members
            }
