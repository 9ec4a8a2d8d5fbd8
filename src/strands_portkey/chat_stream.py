"""``ChatStream``: a streamed answer as the caller holds it, and the request-edge helpers.

Split from :mod:`strands_portkey.gateway` so the composition root stays small. A stream is opened
(committed: first chunk read) by ``async with``; every error it raises, at opening or mid-stream,
carries the request's ``RouteInfo``; when analytics record requests, the stream writes one record
when it ends (complete, failed, or closed early).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import GatewayError, InvalidRequestError
from .pipeline.base import ChunkStream, Handler, RequestContext
from .types import ChatChunk, ChatRequest, RouteInfo

if TYPE_CHECKING:
    from .analytics.record import StreamRecorder
    from .telemetry import RequestTrace

__all__ = ["ChatStream", "RequestLike", "as_request", "traced", "with_route"]

RequestLike = ChatRequest | Mapping[str, Any]
_T = TypeVar("_T")


def _carry_route(error: GatewayError, route: RouteInfo) -> None:
    """Attach the route to ``error``; a route of a failed call says so with the error's status.

    Analytics records a failed request with the error's status; the route (``error.route``,
    ``stream.route``, ``PortkeyModel.last_route``) must not keep a 200 from an attempt that
    committed before the failure (a stream broken mid-way, an answer a guardrail then denied).
    """
    error.route = route
    if error.status_code is not None:
        route.status_code = error.status_code


async def with_route(awaitable: Awaitable[_T], context: RequestContext) -> _T:
    """Await ``awaitable``; any GatewayError it raises leaves carrying the request's RouteInfo."""
    try:
        return await awaitable
    except GatewayError as error:
        _carry_route(error, context.route)
        raise


async def traced(awaitable: Awaitable[_T], trace: RequestTrace, route: RouteInfo) -> _T:
    """Await ``awaitable`` (a chat response or embeddings); end the request's telemetry however it ends."""
    try:
        response = await awaitable
    except BaseException as error:
        trace.finish(route, error)
        raise
    trace.finish(route, None, usage=getattr(response, "usage", None))
    return response


def as_request(request: RequestLike) -> ChatRequest:
    """A ChatRequest from a ChatRequest or an OpenAI-shaped body (naming the bad field if any)."""
    if isinstance(request, ChatRequest):
        return request
    if isinstance(request, Mapping):
        return ChatRequest.from_body(request)
    raise InvalidRequestError(
        f"expected a ChatRequest or an OpenAI-shaped dict, got {type(request).__name__}", path="request"
    )


class ChatStream:
    """A streamed answer. Opened by ``async with`` (errors before the first chunk raise there).

    Iterating without ``async with`` opens it on first use and closes it at the end.
    ``route`` is filled once the stream is open.
    """

    def __init__(
        self,
        handler: Handler,
        request: ChatRequest,
        context: RequestContext,
        recorder: StreamRecorder | None = None,
    ) -> None:
        self._handler = handler
        self._request = request
        self._context = context
        self._stream: ChunkStream | None = None
        # analytics (issue 7): one record when the stream ends; telemetry (issue 18): the span ends
        watchers = (recorder, context.trace)
        self._watchers: tuple[StreamRecorder | RequestTrace, ...] = tuple(
            w for w in watchers if w is not None
        )

    @property
    def route(self) -> RouteInfo:
        """How this request was served (the leaf, retries, cache status, trace id)."""
        return self._context.route

    async def open(self) -> ChatStream:
        """Send the request and wait until the stream is committed (first chunk read)."""
        if self._stream is None:
            try:
                self._stream = await with_route(
                    self._handler.open_stream(self._request, self._context), self._context
                )
            except BaseException as error:
                for watcher in self._watchers:
                    watcher.finish(self._context.route, error, complete=False)
                raise
            for watcher in self._watchers:
                watcher.opened()
        return self

    async def __aenter__(self) -> ChatStream:
        return await self.open()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[ChatChunk]:
        if self._stream is None:
            await self.open()
        assert self._stream is not None
        watchers = self._watchers
        try:
            async for chunk in self._stream:
                for watcher in watchers:
                    watcher.chunk(chunk)
                yield chunk
        except BaseException as error:
            if isinstance(error, GatewayError):
                _carry_route(error, self._context.route)
            for watcher in watchers:
                watcher.finish(self._context.route, error, complete=False)
            raise
        else:
            for watcher in watchers:
                watcher.finish(self._context.route, None, complete=True)
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Close the upstream connection (idempotent); a stream closed before its end is ``cancelled``."""
        for watcher in self._watchers:
            watcher.finish(self._context.route, None, complete=False)
        if self._stream is not None:
            await self._stream.aclose()
