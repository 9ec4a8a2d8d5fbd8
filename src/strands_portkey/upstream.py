"""The leaf of the pipeline: one call to one upstream, through its adapter and the transport.

This is the boundary where an upstream's failures become gateway errors, exactly once:
network failures are mapped by the transport, error statuses and error events by the adapter,
and here every error is tagged with the provider and option path and scrubbed of the
credentials the request carried. Each call adds an :class:`~strands_portkey.types.Attempt` to
the request's :class:`~strands_portkey.types.RouteInfo`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import replace
from typing import Any

from .embeddings import EmbeddingRequest, EmbeddingResponse, embeddings_unsupported
from .errors import GatewayError, RateLimitError, RequestTimeoutError, UpstreamError, scrub
from .forwarding import with_forwarded
from .pipeline.base import RequestContext
from .providers.base import Adapter, StreamParser, Target, embedding_adapter
from .rotation import CredentialRotation
from .telemetry import AttemptTrace
from .transport import StreamHandle, Transport
from .types import Attempt, ChatChunk, ChatRequest, ChatResponse
from .wire import HttpRequest

__all__ = ["UpstreamCall", "UpstreamStream"]


def _tag(error: GatewayError, secrets: tuple[str, ...], provider: str, path: str) -> GatewayError:
    """Scrub credentials from an error and say where it happened."""
    if secrets:
        error.message = scrub(error.message, secrets)
        error.args = (error.message,)
    error.provider = error.provider or provider
    error.option_index = error.option_index or path
    return error


def _broken_after_commit(context: RequestContext, index: int) -> Callable[[GatewayError], None]:
    """Rewrite the committed attempt ``index`` (recorded as a 200) as the failure it became.

    After a mid-stream failure the route says what analytics records: the error's status on the
    route and on the attempt, with the error's type; the latency stays the time to commit.
    """

    def broken(error: GatewayError) -> None:
        route = context.route
        route.attempts[index] = replace(
            route.attempts[index], status_code=error.status_code, error_type=type(error).__name__
        )
        route.status_code = error.status_code

    return broken


def _upstream_status(error: GatewayError) -> int | None:
    """The HTTP status the upstream answered with, or None if it never answered (network, timeout)."""
    return error.status_code if isinstance(error, UpstreamError) else None


class UpstreamStream:
    """A committed upstream stream: chunks read ahead at commit, then the rest as it arrives.

    ``on_error`` tags every error; ``on_broken`` is told of one raised after the commit (the
    attempt was recorded as a success then, and must now say it failed).
    """

    def __init__(
        self,
        handle: StreamHandle,
        parser: StreamParser,
        on_error: Callable[[GatewayError], None],
        on_broken: Callable[[GatewayError], None] | None = None,
        attempt: AttemptTrace | None = None,
    ):
        self._attempt = attempt  # telemetry: the attempt's span ends with the stream
        self._handle = handle
        self._parser = parser
        self._on_error = on_error
        self._on_broken = on_broken
        self._body = handle.iter_bytes()
        self._ahead: list[ChatChunk] = []
        self._ended = False
        self._closed = False

    async def read_ahead(self) -> None:
        """Read until at least one chunk is parsed (or the stream ends): the commit point."""
        try:
            while not self._ahead and not self._ended:
                data = await anext(self._body, None)
                if data is None:
                    self._ended = True
                    self._ahead.extend(self._parser.close())
                else:
                    self._ahead.extend(self._parser.feed(data))
        except GatewayError as error:
            self._on_error(error)
            raise

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[ChatChunk]:
        parser, attempt = self._parser, self._attempt
        try:
            ahead, self._ahead = self._ahead, []
            for chunk in ahead:
                if attempt is not None:
                    attempt.chunk(chunk)
                yield chunk
            if not self._ended:
                async for data in self._body:
                    for chunk in parser.feed(data):
                        if attempt is not None:
                            attempt.chunk(chunk)
                        yield chunk
                self._ended = True
                for chunk in parser.close():
                    if attempt is not None:
                        attempt.chunk(chunk)
                    yield chunk
            if attempt is not None:
                attempt.succeed()
        except GatewayError as error:
            self._on_error(error)
            if self._on_broken is not None:
                self._on_broken(error)
            if attempt is not None:
                attempt.fail(error)
            raise
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Release the connection (idempotent)."""
        if not self._closed:
            self._closed = True
            if self._attempt is not None:
                self._attempt.close()  # ended already unless the caller stopped reading early
            await self._handle.aclose()


class UpstreamCall:
    """A :class:`~strands_portkey.pipeline.base.Handler` calling one target once per request."""

    def __init__(
        self,
        *,
        path: str,
        adapter: Adapter,
        target: Target,
        transport: Transport,
        override_params: Mapping[str, Any] | None = None,
        timeout_ms: float | None = None,
        clock: Callable[[], float] = time.perf_counter,
        rotation: CredentialRotation | None = None,
        resolve_model: Callable[[ChatRequest], ChatRequest] | None = None,
        forward_headers: tuple[str, ...] = (),
        trace_propagation: bool = True,
    ) -> None:
        self.path = path
        self._propagate = trace_propagation  # send the W3C traceparent here (when tracing)
        self.adapter = adapter
        self.target = target
        self._rotation = rotation
        self._transport = transport
        self._overrides = override_params or {}
        self._timeout = timeout_ms / 1000 if timeout_ms else None
        self._clock = clock
        self._resolve_model = resolve_model  # a registered model named by override_params.model
        self._forward_names = forward_headers  # the leaf's ``forward_headers``

    def _forwarded(self, http: HttpRequest, context: RequestContext) -> HttpRequest:
        """``http`` with the caller's headers this request and this leaf forward (see :mod:`.forwarding`)."""
        if context.forward is None:
            return http
        return with_forwarded(http, context.forward.pick(self._forward_names))

    def __repr__(self) -> str:
        return f"UpstreamCall(path={self.path!r}, target={self.target!r})"

    def _attempt(
        self, context: RequestContext, model: str, request: ChatRequest | None, http: HttpRequest
    ) -> tuple[AttemptTrace | None, HttpRequest]:
        """The attempt's telemetry (None when nothing listens), and ``http`` with its ``traceparent``."""
        if context.trace is None:
            return None, http
        attempt = context.trace.attempt(self.target.provider, self.target.base_url, model, request, self.path)
        if self._propagate and context.trace.propagate:
            http = attempt.inject(http)
        return attempt, http

    def _build(
        self, request: ChatRequest, context: RequestContext, stream: bool
    ) -> tuple[ChatRequest, HttpRequest, str | None]:
        """The request for this attempt, and the id of the vault credential it uses (if rotating)."""
        target, credential_id = self._rotation.next_target() if self._rotation else (self.target, None)
        context.route.credential_id = credential_id  # analytics (issue 7): the id, never the key
        prepared = request.with_overrides(self._overrides).with_stream(stream)
        if self._resolve_model is not None:
            prepared = self._resolve_model(prepared)
        http = self.adapter.build_request(
            prepared, target, trace_id=context.trace_id, metadata=context.metadata
        )
        return prepared, self._forwarded(http, context), credential_id

    def _prepare(
        self, request: ChatRequest, context: RequestContext, started: float, *, stream: bool
    ) -> tuple[ChatRequest, HttpRequest, str | None]:
        """Build the attempt, recording a failure here as an attempt too.

        A failure here (no usable vault key, an untranslatable request) then shows in the route,
        saying why this target was passed over.
        """
        try:
            return self._build(request, context, stream)
        except GatewayError as error:
            self._fail(context, started, error, ())
            raise

    def _outcome(self, credential_id: str | None, status: int | None, error: GatewayError | None) -> None:
        """Tell the rotation how the attempt went (a network failure says nothing about the key)."""
        if self._rotation is None or credential_id is None or status is None:
            return
        retry_after = error.retry_after if isinstance(error, RateLimitError) else None
        self._rotation.report(credential_id, status, retry_after, error.message if error else None)

    def _record(self, context: RequestContext, started: float, status: int | None, error: str | None) -> None:
        route = context.route
        latency_ms = (self._clock() - started) * 1000
        route.attempts.append(Attempt(self.path, self.target.provider, status, latency_ms, error))
        route.last_used_option_index = self.path
        route.provider = self.target.provider
        route.status_code = status
        route.retry_attempt_count = 0  # a retrying wrapper sets its own count after the attempt

    def _fail(
        self, context: RequestContext, started: float, error: GatewayError, secrets: tuple[str, ...]
    ) -> None:
        _tag(error, secrets, self.target.provider, self.path)
        self._record(context, started, error.status_code, type(error).__name__)

    def _error_for(
        self, status: int, headers: Mapping[str, str], body: bytes, secrets: tuple[str, ...]
    ) -> GatewayError:
        if secrets:
            body = scrub(body.decode("utf-8", "replace"), secrets).encode()
        return self.adapter.map_error(status, headers, body)

    async def chat(self, request: ChatRequest, context: RequestContext) -> ChatResponse:
        """Send once and return the parsed response, or raise the mapped error."""
        started = self._clock()
        prepared, http, credential_id = self._prepare(request, context, started, stream=False)
        attempt, http = self._attempt(context, prepared.model, prepared, http)
        try:
            response = await self._transport.send(http, timeout=self._timeout)
            if not 200 <= response.status_code < 300:
                raise self._error_for(response.status_code, response.headers, response.content, http.secrets)
            result = self.adapter.parse_response(response, prepared)
        except BaseException as error:
            if isinstance(error, GatewayError):
                self._fail(context, started, error, http.secrets)
                self._outcome(credential_id, _upstream_status(error), error)
            if attempt is not None:
                attempt.fail(error)
            raise
        if attempt is not None:
            attempt.succeed(result)
        self._record(context, started, response.status_code, None)
        self._outcome(credential_id, response.status_code, None)
        context.route.model = result.model or prepared.model
        result.route = context.route
        return result

    async def embed(self, request: EmbeddingRequest, context: RequestContext) -> EmbeddingResponse:
        """Embed once at this target (its ``override_params.model`` applies), or raise the mapped error.

        A provider without embeddings raises at once, recorded as an attempt, so a fallback
        moves on and the route says why this target was passed over.
        """
        started = self._clock()
        try:
            embedder = embedding_adapter(self.adapter)
            if embedder is None:
                raise embeddings_unsupported(self.target.provider)
            target, credential_id = self._rotation.next_target() if self._rotation else (self.target, None)
            context.route.credential_id = credential_id
            prepared = request.with_overrides(self._overrides)
            http = self._forwarded(
                embedder.build_embedding_request(
                    prepared, target, trace_id=context.trace_id, metadata=context.metadata
                ),
                context,
            )
        except GatewayError as error:
            self._fail(context, started, error, ())
            raise
        attempt, http = self._attempt(context, prepared.model, None, http)
        try:
            response = await self._transport.send(http, timeout=self._timeout)
            if not 200 <= response.status_code < 300:
                raise self._error_for(response.status_code, response.headers, response.content, http.secrets)
            result = embedder.parse_embedding_response(response, prepared)
        except BaseException as error:
            if isinstance(error, GatewayError):
                self._fail(context, started, error, http.secrets)
                self._outcome(credential_id, _upstream_status(error), error)
            if attempt is not None:
                attempt.fail(error)
            raise
        if attempt is not None:
            attempt.succeed()
        self._record(context, started, response.status_code, None)
        self._outcome(credential_id, response.status_code, None)
        context.route.model = result.model or prepared.model
        result.route = context.route
        return result

    async def open_stream(self, request: ChatRequest, context: RequestContext) -> UpstreamStream:
        """Send, check the status, and read up to the first chunk before returning."""
        started = self._clock()
        prepared, http, credential_id = self._prepare(request, context, started, stream=True)
        attempt, http = self._attempt(context, prepared.model, prepared, http)
        try:
            opening = self._open(prepared, http, context, started, attempt)
            stream = await (opening if self._timeout is None else asyncio.wait_for(opening, self._timeout))
        except asyncio.TimeoutError:
            error = RequestTimeoutError(f"no first chunk within the timeout of {self._timeout_label()}")
            self._fail(context, started, error, http.secrets)
            if attempt is not None:
                attempt.fail(error)
            raise error from None
        except BaseException as error:
            if isinstance(error, GatewayError):
                self._fail(context, started, error, http.secrets)
                self._outcome(credential_id, _upstream_status(error), error)
            if attempt is not None:
                attempt.fail(error)
            raise
        self._outcome(credential_id, 200, None)
        return stream

    def _timeout_label(self) -> str:
        return f"{(self._timeout or 0) * 1000:.0f} ms"

    async def _open(
        self,
        prepared: ChatRequest,
        http: HttpRequest,
        context: RequestContext,
        started: float,
        attempt: AttemptTrace | None = None,
    ) -> UpstreamStream:
        handle = await self._transport.open_stream(http)
        try:
            if not 200 <= handle.status_code < 300:
                body = await handle.read()
                raise self._error_for(handle.status_code, handle.headers, body, http.secrets)
            secrets = http.secrets

            def on_error(error: GatewayError) -> None:
                _tag(error, secrets, self.target.provider, self.path)

            committed = len(context.route.attempts)  # where _record puts this attempt at the commit
            stream = UpstreamStream(
                handle,
                self.adapter.stream_parser(prepared),
                on_error,
                _broken_after_commit(context, committed),
                attempt,
            )
            await stream.read_ahead()
            if attempt is not None:
                attempt.first_chunk()
        except BaseException:
            await handle.aclose()
            raise
        self._record(context, started, handle.status_code, None)
        context.route.model = prepared.model
        return stream
