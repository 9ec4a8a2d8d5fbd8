"""Turns a frozen plan into a tree of handlers, one per node, built once per config.

Strategies decide, this module only wires them: a strategy node becomes a handler over its
children's handlers (fallback here, load balancing in :mod:`.balance`, conditional routing in
:mod:`.conditional`), and a leaf becomes the handler the gateway built for its path (an upstream
call, wrapped in retries). The executor never sees adapters or credentials.

Fallback follows Portkey's stop rule. After each target's result:

1. success -> return it;
2. ``strategy.on_status_codes`` is set and the failure's status is not in it -> stop, raise it;
3. a failure that is not an upstream outcome (a refused request, a cancellation) -> stop, raise;
4. otherwise -> try the next target.

A target whose provider offers no embeddings (its error's ``code`` is
:data:`~strands_portkey.embeddings.EMBEDDINGS_UNSUPPORTED`) is always passed over, whatever
``on_status_codes`` says: the next target may offer them.

When every target failed, the **last** failure is raised (as Portkey returns the last response),
with ``failures`` holding the final error of each target tried.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from ..config.plan import LeafPlan, PlanNode, StrategyPlan, iter_leaves
from ..embeddings import EMBEDDINGS_UNSUPPORTED, EmbeddingRequest, EmbeddingResponse
from ..errors import GatewayError
from ..pipeline.base import ChunkStream, Handler, RequestContext, is_upstream_outcome
from ..shared_state import SharedState
from ..types import ChatRequest, ChatResponse
from .balance import BalanceMode, Loadbalance, Picker, make_picker, scope_of
from .conditional import Conditional

__all__ = ["Fallback", "build_router"]

_T = TypeVar("_T")


class Fallback:
    """A :class:`Handler` trying its targets in order until one succeeds (Portkey's stop rule)."""

    def __init__(self, children: Sequence[Handler], on_status_codes: frozenset[int] | None) -> None:
        self._children = list(children)
        self._codes = on_status_codes

    async def chat(self, request: ChatRequest, context: RequestContext) -> ChatResponse:
        """Answer from the first target that succeeds."""
        return await self._walk(lambda child: child.chat(request, context))

    async def open_stream(self, request: ChatRequest, context: RequestContext) -> ChunkStream:
        """Stream from the first target whose stream commits (its first chunk arrived)."""
        return await self._walk(lambda child: child.open_stream(request, context))

    async def embed(self, request: EmbeddingRequest, context: RequestContext) -> EmbeddingResponse:
        """Embed at the first target that succeeds; a target without embeddings is passed over."""
        return await self._walk(lambda child: child.embed(request, context))

    async def _walk(self, call: Callable[[Handler], Awaitable[_T]]) -> _T:
        failures: list[GatewayError] = []
        for child in self._children:
            try:
                return await call(child)
            except GatewayError as error:
                failures.extend(error.failures or (error,))
                if not self._goes_on(error):
                    _attach(error, failures)
                    raise
                last = error
        _attach(last, failures)
        raise last

    def _goes_on(self, error: GatewayError) -> bool:
        if error.code == EMBEDDINGS_UNSUPPORTED:  # this target cannot serve it; the next may
            return True
        if not is_upstream_outcome(error):
            return False
        return self._codes is None or error.status_code in self._codes


def _attach(error: GatewayError, failures: list[GatewayError]) -> None:
    if len(failures) > 1:
        error.failures = tuple(failures)


class _First:
    """``mode: single``: only the first target is ever used (as Portkey)."""

    def __init__(self, child: Handler) -> None:
        self._child = child

    async def chat(self, request: ChatRequest, context: RequestContext) -> ChatResponse:
        """Answer from the first target."""
        return await self._child.chat(request, context)

    async def open_stream(self, request: ChatRequest, context: RequestContext) -> ChunkStream:
        """Stream from the first target."""
        return await self._child.open_stream(request, context)

    async def embed(self, request: EmbeddingRequest, context: RequestContext) -> EmbeddingResponse:
        """Embed at the first target."""
        return await self._child.embed(request, context)


def build_router(
    plan: PlanNode,
    leaves: Mapping[str, Handler],
    *,
    rng: random.Random,
    balance: BalanceMode = "weighted",
    shared_state: SharedState | None = None,
) -> Handler:
    """The handler tree for ``plan``; ``leaves`` maps each leaf's path to its handler.

    With ``shared_state``, round-robin positions live there (shared with other gateways).
    """
    missing = [leaf.path for leaf in iter_leaves(plan) if leaf.path not in leaves]
    if missing:
        raise ValueError(f"no handler for plan leaves {missing}")

    def picker(node: StrategyPlan) -> Picker:
        weights = [child.weight for child in node.targets]
        if balance != "round_robin" or shared_state is None:
            return make_picker(balance, weights, rng)
        scope = scope_of(node.path, [_identity(child) for child in node.targets])
        return make_picker(balance, weights, rng, shared=shared_state, scope=scope)

    return _build(plan, leaves, picker)


def _identity(node: PlanNode) -> tuple[object, ...]:
    """What a target is, without its credentials: names one load-balance node's shared positions."""
    if isinstance(node, LeafPlan):
        model = node.override_params.get("model")
        return (node.path, node.provider, node.virtual_key, node.custom_host, model, node.weight)
    return (node.path, node.mode, node.weight, tuple(_identity(child) for child in node.targets))


def _build(
    node: PlanNode, leaves: Mapping[str, Handler], picker: Callable[[StrategyPlan], Picker]
) -> Handler:
    if isinstance(node, LeafPlan):
        return leaves[node.path]
    children = [_build(child, leaves, picker) for child in node.targets]
    return _strategy(node, children, picker)


def _strategy(
    node: StrategyPlan, children: list[Handler], picker: Callable[[StrategyPlan], Picker]
) -> Handler:
    if node.mode == "fallback":
        return Fallback(children, node.on_status_codes)
    if node.mode == "loadbalance":
        return Loadbalance(children, picker(node))
    if node.mode == "conditional":
        return Conditional(node.path, children, node.conditions, node.default)
    return _First(children[0])
