"""Conditional routing: the first condition whose query matches picks the target, else ``default``.

Queries are compiled once (:mod:`strands_portkey.config.query`); here they are evaluated against
the request's context: its Portkey ``metadata``, its body as ``params`` (as the caller sent it,
before ``override_params``), and ``url.pathname``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..config.plan import ConditionPlan
from ..embeddings import EmbeddingRequest, EmbeddingResponse
from ..errors import InvalidRequestError
from ..pipeline.base import ChunkStream, Handler, RequestContext
from ..types import ChatRequest, ChatResponse

__all__ = ["CHAT_PATHNAME", "Conditional"]

CHAT_PATHNAME = "/v1/chat/completions"
EMBEDDINGS_PATHNAME = "/v1/embeddings"


class Conditional:
    """A :class:`Handler` routing by the first matching condition."""

    def __init__(
        self, path: str, children: Sequence[Handler], conditions: Sequence[ConditionPlan], default: int | None
    ) -> None:
        self._path = path
        self._children = list(children)
        self._conditions = tuple(conditions)
        self._default = default

    def _choose(
        self, request: ChatRequest | EmbeddingRequest, context: RequestContext, pathname: str = CHAT_PATHNAME
    ) -> Handler:
        query_context: dict[str, Any] = {
            "metadata": context.metadata,
            "params": request.to_body(),
            "url": {"pathname": pathname},
        }
        for condition in self._conditions:
            if condition.matches(query_context):
                return self._children[condition.target]
        if self._default is not None:
            return self._children[self._default]
        raise InvalidRequestError(
            "no condition matched this request and the conditional strategy has no 'default' "
            "target; add a default or a condition that matches",
            path=f"{self._path}.strategy",
        )

    async def chat(self, request: ChatRequest, context: RequestContext) -> ChatResponse:
        """Answer from the chosen target."""
        return await self._choose(request, context).chat(request, context)

    async def open_stream(self, request: ChatRequest, context: RequestContext) -> ChunkStream:
        """Stream from the chosen target."""
        return await self._choose(request, context).open_stream(request, context)

    async def embed(self, request: EmbeddingRequest, context: RequestContext) -> EmbeddingResponse:
        """Embed at the chosen target (``url.pathname`` is ``/v1/embeddings`` for conditions)."""
        return await self._choose(request, context, EMBEDDINGS_PATHNAME).embed(request, context)
