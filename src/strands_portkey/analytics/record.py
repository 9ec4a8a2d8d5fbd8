"""What the request path hands to analytics: a :class:`RequestRecord` of raw facts, nothing more.

Building a record is the only analytics work a request does (a few attribute stores and one
``deque.append``, see ``benchmarks/analytics.py``); ids, timestamps, retries and the cost are
derived later by the background writer (:mod:`strands_portkey.analytics.sinks`). This module
imports neither SQLAlchemy nor the store, so the data path stays free of them.

``status`` is ``success``, ``error`` (a :class:`~strands_portkey.errors.GatewayError` or any other
failure) or ``cancelled`` (the caller cancelled, or closed a stream before its end).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, TypeVar

from ..errors import GatewayError
from ..types import ChatChunk, ChatRequest, RouteInfo, Usage

__all__ = [
    "RecordSink",
    "RequestRecord",
    "RoutedContext",
    "StreamRecorder",
    "outcome_record",
    "recorded",
    "refused_record",
]


class RequestRecord:
    """The raw facts of one finished request (converted to a row off the request path)."""

    __slots__ = (
        "error_type",
        "latency_ms",
        "metadata",
        "model_id",
        "requested_model",
        "route",
        "started_at",
        "status",
        "status_code",
        "streamed",
        "ttft_ms",
        "usage",
        "user",
    )

    def __init__(
        self,
        *,
        started_at: float,
        requested_model: str,
        model_id: str,
        user: str | None,
        metadata: Mapping[str, str],
        route: RouteInfo,
        status: str,
        status_code: int | None,
        error_type: str | None,
        latency_ms: float,
        ttft_ms: float | None,
        usage: Usage | None,
        streamed: bool,
    ) -> None:
        self.started_at = started_at
        self.requested_model = requested_model
        self.model_id = model_id
        self.user = user
        self.metadata = metadata
        self.route = route
        self.status = status
        self.status_code = status_code
        self.error_type = error_type
        self.latency_ms = latency_ms
        self.ttft_ms = ttft_ms
        self.usage = usage
        self.streamed = streamed

    def __repr__(self) -> str:
        return (
            f"RequestRecord(model={self.requested_model!r}, provider={self.route.provider!r}, "
            f"status={self.status!r}, latency_ms={self.latency_ms:.1f})"
        )


class RecordSink(Protocol):
    """Where finished requests go; ``submit`` must never block or raise."""

    def submit(self, record: RequestRecord) -> None:
        """Queue ``record`` for writing (or count it as dropped)."""
        ...


class Requested(Protocol):
    """What a record reads of a request: a chat request or an embeddings request."""

    @property
    def model(self) -> str: ...

    @property
    def params(self) -> Mapping[str, Any]: ...


class Answered(Protocol):
    """What a record reads of an answer: a chat response or embeddings."""

    @property
    def usage(self) -> Usage: ...


_A = TypeVar("_A", bound=Answered)


_KEY_ID = "_api_key_id"  # model_routes.KEY_ID_METADATA: set only by the server, from the gateway key


def _user(request: Requested, metadata: Mapping[str, str]) -> str | None:
    """The acting user: the gateway key's on the server, else the body's ``user``, else ``_user``.

    On the server a caller cannot record requests as someone else (a member's analytics are its
    own); in-process, the request's OpenAI ``user`` field wins over Portkey's ``_user`` metadata.
    """
    if metadata.get(_KEY_ID) and metadata.get("_user"):
        return metadata["_user"]
    user = request.params.get("user")
    return user if isinstance(user, str) else metadata.get("_user")


def outcome_record(
    request: Requested,
    route: RouteInfo,
    metadata: Mapping[str, str],
    *,
    started_at: float,
    latency_ms: float,
    usage: Usage | None,
    error: BaseException | None,
    streamed: bool,
    ttft_ms: float | None = None,
    cancelled: bool = False,
    model_id: str | None = None,
) -> RequestRecord:
    """The record of a request that ended with ``usage`` or ``error``.

    ``request`` is the request as the caller named it; ``model_id`` the registered model it
    resolved to (default: the model name it asked for).
    """
    status, error_type, status_code = "success", None, route.status_code
    if cancelled or isinstance(error, (asyncio.CancelledError, GeneratorExit)):
        status, error_type = "cancelled", None if error is None else type(error).__name__
    elif error is not None:
        status, error_type = "error", type(error).__name__
        if isinstance(error, GatewayError) and error.status_code is not None:
            status_code = error.status_code
    return RequestRecord(
        started_at=started_at,
        requested_model=request.model,
        model_id=model_id or request.model,
        user=_user(request, metadata),
        metadata=metadata,
        route=route,
        status=status,
        status_code=status_code,
        error_type=error_type,
        latency_ms=latency_ms,
        ttft_ms=ttft_ms,
        usage=usage,
        streamed=streamed,
    )


class RoutedContext(Protocol):
    """What a request's context offers analytics (``pipeline.base.RequestContext`` fits)."""

    route: RouteInfo
    metadata: Mapping[str, str]


async def recorded(
    answer: Awaitable[_A],
    request: Requested,
    context: RoutedContext,
    sink: RecordSink,
    clock: Callable[[], float],
    *,
    model_id: str | None = None,
) -> _A:
    """Await ``answer`` (a chat response or embeddings); record the request however it ends (re-raising)."""
    started_at, started = time.time(), clock()
    try:
        response = await answer
    except BaseException as error:
        latency = (clock() - started) * 1000
        sink.submit(
            outcome_record(
                request,
                context.route,
                context.metadata,
                started_at=started_at,
                latency_ms=latency,
                usage=None,
                error=error,
                streamed=False,
                model_id=model_id,
            )
        )
        raise
    latency = (clock() - started) * 1000
    sink.submit(
        outcome_record(
            request,
            context.route,
            context.metadata,
            started_at=started_at,
            latency_ms=latency,
            usage=response.usage,
            error=None,
            streamed=False,
            model_id=model_id,
        )
    )
    return response


def refused_record(request: ChatRequest, context: RoutedContext, error: BaseException) -> RequestRecord:
    """The record of a request refused before it was routed (e.g. a model the user may not use)."""
    return outcome_record(
        request,
        context.route,
        context.metadata,
        started_at=time.time(),
        latency_ms=0.0,
        usage=None,
        error=error,
        streamed=request.stream,
    )


class StreamRecorder:
    """Follows one stream: time to first token, the usage chunk, and one record when it ends."""

    __slots__ = (
        "_clock",
        "_done",
        "_metadata",
        "_model_id",
        "_request",
        "_sink",
        "_started",
        "_started_at",
        "_ttft",
        "usage",
    )

    def __init__(
        self,
        sink: RecordSink,
        request: ChatRequest,
        metadata: Mapping[str, str],
        clock: Callable[[], float],
        model_id: str | None = None,
    ) -> None:
        self._sink, self._request, self._metadata, self._clock = sink, request, metadata, clock
        self._model_id = model_id
        self._started_at, self._started = time.time(), clock()
        self._ttft: float | None = None
        self._done = False
        self.usage: Usage | None = None

    def opened(self) -> None:
        """The stream is committed: its first chunk has been read (time to first token)."""
        self._ttft = (self._clock() - self._started) * 1000

    def chunk(self, chunk: ChatChunk) -> None:
        """Keep the usage a chunk reports (providers send it last)."""
        if chunk.usage is not None:
            self.usage = chunk.usage

    def finish(self, route: RouteInfo, error: BaseException | None, *, complete: bool) -> None:
        """Record the stream once: at its end, on an error, or when closed early (``cancelled``)."""
        if self._done:
            return
        self._done = True
        self._sink.submit(
            outcome_record(
                self._request,
                route,
                self._metadata,
                started_at=self._started_at,
                latency_ms=(self._clock() - self._started) * 1000,
                usage=self.usage,
                error=error,
                streamed=True,
                ttft_ms=self._ttft,
                cancelled=error is None and not complete,
                model_id=self._model_id,
            )
        )
