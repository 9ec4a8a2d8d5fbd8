"""The one interface every stage of the request pipeline implements.

A :class:`Handler` answers a request either whole (:meth:`Handler.chat`) or as a stream
(:meth:`Handler.open_stream`). The upstream call at a leaf is a handler; the router is a
handler over leaves; caching, guardrails and recording wrap a handler and are handlers
themselves. Stages therefore compose without knowing each other.

Streaming contract: ``open_stream`` returns only once the stream is *committed* -- the upstream
accepted the request and its first chunk has been read. Retries and fallbacks can act until
then, never after: a failure past that point is raised to the caller as an error, never turned
into a silent, truncated success.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ..embeddings import EmbeddingRequest, EmbeddingResponse
from ..errors import (
    CredentialsUnavailableError,
    GatewayError,
    GuardrailDeniedError,
    MalformedResponseError,
    RequestTimeoutError,
    StreamInterruptedError,
    UpstreamConnectionError,
    UpstreamError,
)
from ..forwarding import ForwardHeaders
from ..types import ChatChunk, ChatRequest, ChatResponse, RouteInfo

if TYPE_CHECKING:
    from ..telemetry import RequestTrace

__all__ = ["ChunkStream", "Handler", "RequestContext", "is_upstream_outcome"]

_UPSTREAM_OUTCOMES = (
    UpstreamError,
    UpstreamConnectionError,
    RequestTimeoutError,
    MalformedResponseError,
    StreamInterruptedError,
    CredentialsUnavailableError,
    GuardrailDeniedError,
)


def is_upstream_outcome(error: GatewayError) -> bool:
    """True for failures an upstream produced (an error status, unreachable, too slow, garbled).

    Retries and fallbacks act on these (and on a provider whose stored keys are all disabled,
    which fallback skips but retry does not repeat, and on a guardrail denial -- Portkey's 446,
    which fallback moves on from and retry repeats only when 446 is listed). Anything else -- a
    bad config, a request the gateway itself refuses, a cancellation -- would fail the same way on
    every target, so it stops routing at once (as Portkey's gateway-internal exceptions do).
    """
    return isinstance(error, _UPSTREAM_OUTCOMES)


@dataclass(slots=True)
class RequestContext:
    """Per-request facts every stage may read, and the route they fill in."""

    trace_id: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    cache_namespace: str | None = None
    cache_force_refresh: bool = False
    cache_bypass: bool = False
    forward: ForwardHeaders | None = None  # the caller's headers a leaf may forward upstream
    trace: RequestTrace | None = None  # telemetry (issue 18): None when nothing listens
    route: RouteInfo = field(init=False)

    def __post_init__(self) -> None:
        self.route = RouteInfo(trace_id=self.trace_id)


class ChunkStream(Protocol):
    """A committed stream of canonical chunks. Always closed, by iteration end or ``aclose``."""

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        """Iterate the chunks; raises a GatewayError if the stream breaks."""
        ...

    async def aclose(self) -> None:
        """Release the connection (idempotent)."""
        ...


class Handler(Protocol):
    """A pipeline stage."""

    async def chat(self, request: ChatRequest, context: RequestContext) -> ChatResponse:
        """Answer ``request`` whole."""
        ...

    async def open_stream(self, request: ChatRequest, context: RequestContext) -> ChunkStream:
        """Answer ``request`` as a stream, committed (first chunk read) before returning."""
        ...

    async def embed(self, request: EmbeddingRequest, context: RequestContext) -> EmbeddingResponse:
        """Embed ``request``'s inputs (stages that only concern chat pass it straight on)."""
        ...
