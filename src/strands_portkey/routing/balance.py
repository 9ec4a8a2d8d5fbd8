"""Load balancing: choose one target per request by weight; only the chosen target is tried.

Two ways to choose, both O(n) or better and both owned by one gateway instance:

* :class:`WeightedDraw` (the default): Portkey's stateless weighted random draw. Over many
  requests each target's share is its weight over the total; a weight of 0 is never chosen. The
  ``random.Random`` is injected, so a seed makes draws reproducible.
* :class:`SmoothRoundRobin` (opt-in, ``Gateway(balance="round_robin")``): nginx's smooth weighted
  round-robin. Deterministic and evenly interleaved: weights 5, 1, 1 give a a b a c a a, so a
  short burst of requests already follows the weights. Portkey declined it (its gateway is
  stateless); here the state lives in the gateway instance, guarded by a lock because a gateway
  may serve several threads' event loops at once.
* :class:`SharedRoundRobin` (``balance="round_robin"`` with ``Gateway(shared_state=...)``): the
  same sequence, with the counters in a :class:`~strands_portkey.shared_state.SharedState`, so
  every gateway sharing it (every worker, with Redis) takes its turn in ONE interleaved sequence.

A failure of the chosen target goes to the parent: wrap a loadbalance in a fallback to fail over.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import random
import threading
from collections.abc import Sequence
from typing import Literal, Protocol

from ..embeddings import EmbeddingRequest, EmbeddingResponse
from ..pipeline.base import ChunkStream, Handler, RequestContext
from ..shared_state import SharedState
from ..types import ChatRequest, ChatResponse

__all__ = [
    "BalanceMode",
    "Loadbalance",
    "Picker",
    "SharedRoundRobin",
    "SmoothRoundRobin",
    "WeightedDraw",
    "make_picker",
    "scope_of",
]

BalanceMode = Literal["weighted", "round_robin"]


class Picker(Protocol):
    """Chooses the index of the target that serves the next request."""

    def pick(self) -> int:
        """The chosen index."""
        ...


class WeightedDraw:
    """Portkey's draw: ``r = random() * total``; the first target whose cumulative weight exceeds r."""

    __slots__ = ("_cumulative", "_rng", "_total")

    def __init__(self, weights: Sequence[float], rng: random.Random) -> None:
        self._cumulative = list(itertools.accumulate(weights))
        self._total = self._cumulative[-1]
        if not self._total > 0:
            raise ValueError("at least one weight must be positive")
        self._rng = rng

    def pick(self) -> int:
        """A weighted random index (zero weights never)."""
        index = bisect.bisect_right(self._cumulative, self._rng.random() * self._total)
        return min(index, len(self._cumulative) - 1)


class SmoothRoundRobin:
    """nginx's smooth weighted round-robin.

    Per pick: add each weight to its counter, take the largest (the earliest on ties), subtract
    the total from it.
    """

    __slots__ = ("_current", "_lock", "_total", "_weights")

    def __init__(self, weights: Sequence[float]) -> None:
        self._weights = list(weights)
        self._total = sum(self._weights)
        if not self._total > 0:
            raise ValueError("at least one weight must be positive")
        self._current = [0.0] * len(self._weights)
        self._lock = threading.Lock()

    def pick(self) -> int:
        """The next index in the interleaved sequence."""
        with self._lock:
            current = self._current
            best = 0
            for index, weight in enumerate(self._weights):
                current[index] += weight
                if current[index] > current[best]:
                    best = index
            current[best] -= self._total
            return best


class SharedRoundRobin:
    """Smooth weighted round-robin whose counters live in a shared state (one atomic step a pick).

    Members are the target indexes; ``scope`` names this load-balance node (see :func:`scope_of`),
    so gateways running the same config share one sequence and other configs never touch it.
    """

    __slots__ = ("_members", "_scope", "_state")

    def __init__(self, weights: Sequence[float], state: SharedState, scope: str) -> None:
        if not sum(weights) > 0:
            raise ValueError("at least one weight must be positive")
        self._members = [(str(index), float(weight)) for index, weight in enumerate(weights)]
        self._state = state
        self._scope = scope

    def pick(self) -> int:
        """The next index in the sequence shared by every gateway on ``state``."""
        choice = self._state.swrr_pick(self._scope, self._members)
        assert choice is not None  # no cooldowns here: some weight is positive
        return int(choice.member)


def scope_of(path: str, identity: Sequence[object]) -> str:
    """A short, stable name for one load-balance node: a hash of its path and its targets.

    ``identity`` should describe the targets without secrets (provider, model, host, weight); only
    the hash is used, so nothing readable about the config reaches the shared store either.
    """
    digest = hashlib.sha256(repr((path, tuple(identity))).encode()).hexdigest()[:24]
    return f"lb:{digest}"


def make_picker(
    mode: BalanceMode,
    weights: Sequence[float],
    rng: random.Random,
    *,
    shared: SharedState | None = None,
    scope: str = "",
) -> Picker:
    """The picker for ``mode`` over ``weights`` (round-robin in ``shared`` when given)."""
    if mode == "round_robin":
        return SharedRoundRobin(weights, shared, scope) if shared is not None else SmoothRoundRobin(weights)
    return WeightedDraw(weights, rng)


class Loadbalance:
    """A :class:`Handler` sending each request to one target chosen by weight."""

    def __init__(self, children: Sequence[Handler], picker: Picker) -> None:
        self._children = list(children)
        self._picker = picker

    async def chat(self, request: ChatRequest, context: RequestContext) -> ChatResponse:
        """Answer from the chosen target."""
        return await self._children[self._picker.pick()].chat(request, context)

    async def open_stream(self, request: ChatRequest, context: RequestContext) -> ChunkStream:
        """Stream from the chosen target."""
        return await self._children[self._picker.pick()].open_stream(request, context)

    async def embed(self, request: EmbeddingRequest, context: RequestContext) -> EmbeddingResponse:
        """Embed at the chosen target."""
        return await self._children[self._picker.pick()].embed(request, context)
