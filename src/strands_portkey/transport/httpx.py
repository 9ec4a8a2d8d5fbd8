"""The httpx backend: ``httpx.MockTransport`` in tests, a user's own httpx transport, or no extra.

httpx keeps its own pool (``max_connections``, ``max_keepalive_connections``); a wait for one of
its connections past ``pool_timeout`` is :class:`~strands_portkey.errors.GatewayOverloadedError`.
Timeouts: connect, write and read (idle) are httpx's own; ``first_byte_timeout`` and
``total_timeout`` are applied around its calls, only when set (each costs a timer per attempt).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx

from ..errors import GatewayError, GatewayOverloadedError, StreamInterruptedError, UpstreamConnectionError
from ..wire import HttpRequest, HttpResponse
from .base import EgressGuard, TransportSettings, malformed, timed_out, unexpected, where

__all__ = ["AsyncHTTPTransport", "GuardedHTTPTransport", "HttpxBackend", "HttpxStream"]

AsyncHTTPTransport = httpx.AsyncBaseTransport
"""The type of a pluggable transport (``httpx.MockTransport`` in tests)."""

_JSON = {"content-type": "application/json"}


def _map(error: httpx.HTTPError, request: HttpRequest) -> GatewayError:
    """An httpx failure before the response was complete, as a gateway error (no query string)."""
    if isinstance(error, httpx.PoolTimeout):
        return GatewayOverloadedError(
            f"no free connection for {where(request)} within the pool timeout: the gateway's "
            "connection pool is full (raise TransportSettings.max_connections)"
        )
    if isinstance(error, httpx.ConnectTimeout):
        return timed_out(request, "connect")
    if isinstance(error, httpx.ReadTimeout):
        return timed_out(request, "no data within the read timeout")
    if isinstance(error, httpx.TimeoutException):
        return timed_out(request, type(error).__name__)
    if isinstance(error, httpx.RemoteProtocolError) and "without sending complete message" not in str(error):
        if "disconnected without sending a response" in str(error):
            return UpstreamConnectionError(f"{where(request)} closed the connection before answering")
        return malformed(request, error)
    return UpstreamConnectionError(f"could not reach {where(request)}: {type(error).__name__}: {error}")


def _body(request: HttpRequest) -> tuple[bytes, dict[str, str]]:
    """The request body as compact JSON bytes, and the headers (a JSON content type by default)."""
    headers = dict(request.headers)
    if request.json is None:
        return b"", headers
    if "content-type" not in headers:
        headers.update(_JSON)
    return request.body_bytes(), headers


class GuardedHTTPTransport(httpx.AsyncBaseTransport):
    """An httpx transport that asks an :class:`~.base.EgressGuard` before each request leaves.

    For callers that take an httpx transport rather than a guarded ``Transport`` (the control
    plane's credential checks in the server). Plain ``http`` is pinned to the checked address, the
    ``Host`` header keeping the name, as :func:`~.base.guarded` does.
    """

    def __init__(self, guard: EgressGuard, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._guard = guard
        self._inner = inner if inner is not None else httpx.AsyncHTTPTransport(retries=0)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Check (and for ``http``, pin) the destination, then send with the inner transport."""
        url = request.url
        addresses = await self._guard.addresses(url.host, url.port or (443 if url.scheme == "https" else 80))
        if url.scheme == "http" and addresses and addresses[0] != url.host:
            request.url = url.copy_with(host=addresses[0])
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the inner transport (its pooled connections)."""
        await self._inner.aclose()


class HttpxStream:
    """An open httpx response whose body is read as it arrives."""

    __slots__ = ("_deadline", "_request", "_response", "headers", "status_code")

    def __init__(self, response: httpx.Response, request: HttpRequest, deadline: float | None) -> None:
        self._response = response
        self._request = request
        self._deadline = deadline
        self.status_code = response.status_code
        self.headers: dict[str, str] = {k.lower(): v for k, v in response.headers.items()}

    async def read(self) -> bytes:
        """The whole remaining body (used for error responses)."""
        try:
            return await self._response.aread()
        except httpx.HTTPError as error:
            raise StreamInterruptedError(
                f"error body from {where(self._request)} was cut: {error}"
            ) from error

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """Body bytes (content-encoding undone) as they arrive; a broken connection raises."""
        request = self._request
        try:
            if self._deadline is None:
                async for data in self._response.aiter_bytes():
                    yield data
                return
            loop = asyncio.get_running_loop()
            chunks = self._response.aiter_bytes().__aiter__()
            while True:
                left = self._deadline - loop.time()
                if left <= 0:
                    raise asyncio.TimeoutError
                try:
                    data = await asyncio.wait_for(chunks.__anext__(), left)
                except StopAsyncIteration:
                    return
                yield data
        except (asyncio.TimeoutError, httpx.TimeoutException) as error:
            what = "the read timeout" if isinstance(error, httpx.TimeoutException) else "the total timeout"
            raise StreamInterruptedError(
                f"stream from {where(request)} stalled: no data within {what}"
            ) from error
        except httpx.HTTPError as error:
            raise StreamInterruptedError(
                f"stream from {where(request)} broke: {type(error).__name__}: {error}"
            ) from error
        except GatewayError:
            raise
        except Exception as error:  # the boundary: nothing raw leaves the transport
            raise StreamInterruptedError(
                f"stream from {where(request)} broke: {unexpected(request, error).message}"
            ) from error

    async def aclose(self) -> None:
        """Close the response and give the connection back (or drop it if unfinished)."""
        await self._response.aclose()


class HttpxBackend:
    """One pooled ``httpx.AsyncClient`` (bound to the loop that made it)."""

    def __init__(self, settings: TransportSettings, transport: httpx.AsyncBaseTransport | None) -> None:
        s = self._settings = settings
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(
                connect=s.connect_timeout, read=s.read_timeout, write=s.write_timeout, pool=s.pool_timeout
            ),
            limits=httpx.Limits(
                max_connections=s.max_connections,
                max_keepalive_connections=s.max_keepalive_connections,
                keepalive_expiry=s.keepalive_expiry,
            ),
            follow_redirects=False,
            trust_env=transport is None,
        )

    @property
    def is_closed(self) -> bool:
        """True once :meth:`aclose` ran."""
        return self._client.is_closed

    def _build(self, request: HttpRequest) -> httpx.Request:
        content, headers = _body(request)
        return self._client.build_request(request.method, request.url, headers=headers, content=content)

    async def send(self, request: HttpRequest, timeout: float | None) -> HttpResponse:
        """Send and read the whole response within ``timeout`` (and ``total_timeout``) seconds."""
        total = self._settings.total_timeout
        if total is not None and (timeout is None or total < timeout):
            timeout = total
        try:
            sending = self._send(request)
            response = await (sending if timeout is None else asyncio.wait_for(sending, timeout))
        except asyncio.TimeoutError as error:
            raise timed_out(request, f"exceeded its timeout of {(timeout or 0) * 1000:.0f} ms") from error
        except httpx.HTTPError as error:
            raise _map(error, request) from error
        return response

    async def _send(self, request: HttpRequest) -> HttpResponse:
        first_byte = self._settings.first_byte_timeout
        opening = self._client.send(self._build(request), stream=True)
        try:
            response = await (opening if first_byte is None else asyncio.wait_for(opening, first_byte))
        except asyncio.TimeoutError as error:
            raise timed_out(request, "first byte") from error
        try:
            content = await response.aread()
        except httpx.RemoteProtocolError as error:
            raise UpstreamConnectionError(
                f"{where(request)} closed the connection before the response was complete"
            ) from error
        finally:
            await response.aclose()
        headers = {k.lower(): v for k, v in response.headers.items()}
        return HttpResponse(response.status_code, headers, content)

    async def open_stream(self, request: HttpRequest) -> HttpxStream:
        """Send and return once the status and headers are in."""
        s = self._settings
        total, first_byte = s.total_timeout, s.first_byte_timeout
        deadline, what = None, "first byte"
        if total is not None and (first_byte is None or total < first_byte):  # headers come within the total
            first_byte, what = total, "the total timeout"
        if total is not None:
            deadline = asyncio.get_running_loop().time() + total
        opening = self._client.send(self._build(request), stream=True)
        try:
            response = await (opening if first_byte is None else asyncio.wait_for(opening, first_byte))
        except asyncio.TimeoutError as error:
            raise timed_out(request, what) from error
        except httpx.HTTPError as error:
            raise _map(error, request) from error
        return HttpxStream(response, request, deadline)

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await self._client.aclose()

    def abandon(self) -> None:
        """Nothing to do: httpx lets an unclosed client go quietly (its sockets close when collected)."""
