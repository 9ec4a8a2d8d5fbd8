"""Walks a frozen plan to the leaf that serves a request.

The executor is itself a :class:`~strands_portkey.pipeline.base.Handler`: the gateway calls
it like any stage. Leaves are handlers the gateway built (one per leaf path); the executor
never sees adapters or credentials. Strategies decide which child to try; this foundation
version knows ``single`` (the first target), the routing layer adds the others.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..config.plan import LeafPlan, PlanNode, iter_leaves
from ..pipeline.base import ChunkStream, Handler, RequestContext
from ..types import ChatRequest, ChatResponse

__all__ = ["Executor"]


class Executor:
    """A handler that routes each request through ``plan`` to one of ``leaves``."""

    def __init__(self, plan: PlanNode, leaves: Mapping[str, Handler]) -> None:
        self._plan = plan
        self._leaves = dict(leaves)
        missing = [leaf.path for leaf in iter_leaves(plan) if leaf.path not in self._leaves]
        if missing:
            raise ValueError(f"no handler for plan leaves {missing}")

    def _leaf_for(self, node: PlanNode) -> Handler:
        while not isinstance(node, LeafPlan):
            node = node.targets[0]  # mode "single": only the first target is ever used
        return self._leaves[node.path]

    async def chat(self, request: ChatRequest, context: RequestContext) -> ChatResponse:
        """Serve ``request`` whole from the chosen leaf."""
        return await self._leaf_for(self._plan).chat(request, context)

    async def open_stream(self, request: ChatRequest, context: RequestContext) -> ChunkStream:
        """Open a committed stream from the chosen leaf."""
        return await self._leaf_for(self._plan).open_stream(request, context)
