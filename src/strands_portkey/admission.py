"""Admission: at most ``TransportSettings.max_in_flight`` requests of one gateway run at once.

Without it a burst (1,600 requests at once on a pool of 100) makes every request race for a
connection inside the HTTP client, where waiting costs time for everyone and a long wait was
reported as an *upstream* timeout, so fallback "failed over" to a target sharing the same pool.
With it, requests beyond the limit wait in line, first come first served, **before** anything is
sent and before any upstream timeout starts. A slot is held for the whole request -- its retries,
fallbacks and, for a stream, until the stream is closed -- so an admitted request never waits for
a connection when ``max_in_flight <= max_connections`` (the default makes them equal). A wait in
line longer than ``admission_timeout`` raises :class:`~strands_portkey.errors.GatewayOverloadedError`
(503), which routing does not fail over on: the gateway itself is full, not the upstream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable

from .embeddings import EmbeddingRequest, EmbeddingResponse
from .errors import GatewayOverloadedError
from .pipeline.base import ChunkStream, Handler, RequestContext
from .transport import Gate, Transport
from .types import ChatChunk, ChatRequest, ChatResponse

__all__ = ["Admitted"]


async def _wait(transport: Transport, gate: Gate) -> Gate:
    timeout = transport.settings.admission_timeout
    if not await gate.acquire(timeout):
        raise GatewayOverloadedError(
            f"the gateway is at its limit of {gate.limit} requests in flight and this one waited "
            f"{timeout:g} s in line (TransportSettings.max_in_flight, admission_timeout)"
        )
    return gate


def _admit(transport: Transport) -> Gate | Awaitable[Gate] | None:
    """The loop's gate with a slot taken, or an awaitable of it, or None when admission is off.

    An awaitable only when the line must be waited in: no coroutine in the common case.
    """
    gate = transport.admission()
    if gate is None or gate.try_acquire():
        return gate
    return _wait(transport, gate)


class _AdmittedStream:
    """A committed stream that gives its admission slot back when it is closed."""

    __slots__ = ("_gate", "_inner")

    def __init__(self, inner: ChunkStream, gate: Gate) -> None:
        self._inner = inner
        self._gate: Gate | None = gate

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        return self._inner.__aiter__()  # no extra layer per chunk; the caller always closes

    async def aclose(self) -> None:
        gate, self._gate = self._gate, None
        try:
            await self._inner.aclose()
        finally:
            if gate is not None:
                gate.release()


class Admitted:
    """A :class:`~strands_portkey.pipeline.base.Handler` running its inner handler once admitted."""

    __slots__ = ("_inner", "_transport")

    def __init__(self, inner: Handler, transport: Transport) -> None:
        self._inner = inner
        self._transport = transport

    async def chat(self, request: ChatRequest, context: RequestContext) -> ChatResponse:
        """Wait for a slot, answer, give the slot back."""
        admitted = _admit(self._transport)
        if admitted is None:
            return await self._inner.chat(request, context)
        gate = admitted if isinstance(admitted, Gate) else await admitted
        try:
            return await self._inner.chat(request, context)
        finally:
            gate.release()

    async def embed(self, request: EmbeddingRequest, context: RequestContext) -> EmbeddingResponse:
        """Embeddings wait in the same line as chat: they share the connections."""
        admitted = _admit(self._transport)
        if admitted is None:
            return await self._inner.embed(request, context)
        gate = admitted if isinstance(admitted, Gate) else await admitted
        try:
            return await self._inner.embed(request, context)
        finally:
            gate.release()

    async def open_stream(self, request: ChatRequest, context: RequestContext) -> ChunkStream:
        """Wait for a slot and open the stream; the slot is given back when the stream closes."""
        admitted = _admit(self._transport)
        if admitted is None:
            return await self._inner.open_stream(request, context)
        gate = admitted if isinstance(admitted, Gate) else await admitted
        try:
            stream = await self._inner.open_stream(request, context)
        except BaseException:
            gate.release()
            raise
        return _AdmittedStream(stream, gate)
