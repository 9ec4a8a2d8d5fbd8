"""State several gateway processes share: smooth round-robin positions and credential cooldowns.

A :class:`SharedState` is passed to ``Gateway(shared_state=...)``. The load balancer
(``balance="round_robin"``) and the credential selector then keep their smooth weighted
round-robin counters, 429 cooldowns and 401/403 disables in it instead of in the gateway:

* :class:`~strands_portkey.shared_state.memory.MemoryState`: in this process (several
  ``Gateway`` instances sharing one object share their positions and cooldowns);
* :class:`~strands_portkey.shared_state.redis.RedisState` (the ``[redis]`` extra): in Redis, so
  every worker on every host behaves as one gateway. Each step is one Lua script.

Every method is one atomic step, never read-then-write, so two processes picking at the same
moment still follow the weights exactly. Nothing secret goes in: members are credential ids (random
``key-...`` ids, never keys) or target indexes, and scopes are provider names or hashes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["MemberStatus", "SharedState", "SwrrChoice"]


@dataclass(frozen=True, slots=True)
class SwrrChoice:
    """The member a pick chose, and whether its weight was capped by a cooldown (429) at the time."""

    member: str
    throttled: bool = False


@dataclass(frozen=True, slots=True)
class MemberStatus:
    """What the shared state says about one credential: seconds left on its cooldown and disable."""

    throttled_for: float | None = None
    disabled_for: float | None = None


@runtime_checkable
class SharedState(Protocol):
    """Smooth weighted round-robin positions and per-member cooldowns, shared by gateway processes.

    ``scope`` names one rotation (a load-balance node, a provider's credentials); members are
    ids within it. Cooldowns are per member id across scopes.
    """

    def swrr_pick(
        self, scope: str, members: Sequence[tuple[str, float]], *, throttled_weight: float | None = None
    ) -> SwrrChoice | None:
        """One smooth weighted round-robin step over ``members`` (id, weight), atomically.

        With ``throttled_weight``, a member in a cooldown counts with ``min(weight,
        throttled_weight)`` and a disabled member is skipped (its counter untouched). None when
        no member is usable.
        """
        ...

    def throttle(self, member: str, seconds: float) -> None:
        """Cap ``member``'s weight for ``seconds`` (a 429), replacing any cooldown it had."""
        ...

    def disable(self, member: str, seconds: float) -> None:
        """Take ``member`` out of every rotation for ``seconds`` (a 401/403), or until restored."""
        ...

    def restore(self, member: str) -> None:
        """End ``member``'s cooldown and disable (a success, a passed re-check, a fixed key)."""
        ...

    def status(self, members: Sequence[str]) -> dict[str, MemberStatus]:
        """The cooldown and disable left on each of ``members``."""
        ...
