"""The only module that touches httpx: sends :class:`HttpRequest` s and maps network failures.

One :class:`Transport` belongs to one ``Gateway``. It keeps **one pooled ``httpx.AsyncClient``
per running event loop**: httpx connections are bound to the loop that opened them, and Strands
runs each synchronous ``agent(...)`` call on a fresh loop (httpx discussion #2959). Clients of
loops that have closed are dropped the next time a client is created.

Tests inject an ``httpx.MockTransport`` (or any ``httpx.AsyncBaseTransport``) instead of the
network. Network failures are mapped here, once, into the error tree; status codes and bodies are
left to the provider adapters.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from .errors import GatewayError, RequestTimeoutError, StreamInterruptedError, UpstreamConnectionError
from .wire import HttpRequest, HttpResponse

__all__ = ["AsyncHTTPTransport", "StreamHandle", "Transport", "TransportSettings"]

AsyncHTTPTransport = httpx.AsyncBaseTransport
"""The type of a pluggable transport (``httpx.MockTransport`` in tests)."""


@dataclass(frozen=True, slots=True)
class TransportSettings:
    """Connection pool and timeout settings (seconds).

    ``read_timeout`` bounds the wait between two bytes of a response, so a long stream is fine
    while a stalled one is not. A per-attempt total (Portkey's ``request_timeout``) is applied by
    the caller on top.
    """

    connect_timeout: float = 10.0
    read_timeout: float = 600.0
    write_timeout: float = 60.0
    pool_timeout: float = 60.0
    max_connections: int = 100
    max_keepalive_connections: int = 20


def _where(request: HttpRequest) -> str:
    """The URL without its query string (some providers put keys there)."""
    return request.url.split("?", 1)[0]


def _map_send_error(error: httpx.HTTPError, request: HttpRequest) -> GatewayError:
    """An httpx failure before any response byte, as a gateway error (no secrets, no query)."""
    if isinstance(error, httpx.TimeoutException):
        kind = type(error).__name__
        return RequestTimeoutError(f"timed out waiting for {_where(request)} ({kind})")
    return UpstreamConnectionError(f"could not reach {_where(request)}: {type(error).__name__}: {error}")


class StreamHandle:
    """An open streamed response: status and headers are known, the body is still coming."""

    __slots__ = ("_request", "_response", "headers", "status_code")

    def __init__(self, response: httpx.Response, request: HttpRequest) -> None:
        self._response = response
        self._request = request
        self.status_code = response.status_code
        self.headers: dict[str, str] = {k.lower(): v for k, v in response.headers.items()}

    async def read(self) -> bytes:
        """The whole remaining body (used for error responses)."""
        try:
            return await self._response.aread()
        except httpx.HTTPError as error:
            raise StreamInterruptedError(
                f"error body from {_where(self._request)} was cut: {error}"
            ) from error

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """Body bytes (content-encoding undone) as they arrive; a broken connection raises."""
        try:
            async for data in self._response.aiter_bytes():
                yield data
        except httpx.TimeoutException as error:
            raise StreamInterruptedError(
                f"stream from {_where(self._request)} stalled: no data within the read timeout"
            ) from error
        except httpx.HTTPError as error:
            raise StreamInterruptedError(
                f"stream from {_where(self._request)} broke: {type(error).__name__}: {error}"
            ) from error

    async def aclose(self) -> None:
        """Close the response and give the connection back (or drop it if unfinished)."""
        await self._response.aclose()


class Transport:
    """Sends requests over pooled connections, one client per running event loop."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport | None = None,
        settings: TransportSettings | None = None,
    ) -> None:
        self._custom_transport = transport
        self._settings = settings or TransportSettings()
        self._clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}

    def _client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None or client.is_closed:
            client = self._new_client()
            for stale in [other for other in self._clients if other.is_closed()]:
                del self._clients[stale]
            self._clients[loop] = client
        return client

    def _new_client(self) -> httpx.AsyncClient:
        s = self._settings
        return httpx.AsyncClient(
            transport=self._custom_transport,
            timeout=httpx.Timeout(
                connect=s.connect_timeout, read=s.read_timeout, write=s.write_timeout, pool=s.pool_timeout
            ),
            limits=httpx.Limits(
                max_connections=s.max_connections, max_keepalive_connections=s.max_keepalive_connections
            ),
            follow_redirects=False,
            trust_env=self._custom_transport is None,
        )

    def _build(self, client: httpx.AsyncClient, request: HttpRequest) -> httpx.Request:
        return client.build_request(
            request.method, request.url, headers=dict(request.headers), content=request.body_bytes()
        )

    async def send(self, request: HttpRequest, *, timeout: float | None = None) -> HttpResponse:
        """Send and read the whole response. ``timeout`` bounds the entire attempt (seconds)."""
        client = self._client()
        try:
            if timeout is None:
                response = await client.send(self._build(client, request))
            else:
                response = await asyncio.wait_for(client.send(self._build(client, request)), timeout)
        except asyncio.TimeoutError as error:
            raise RequestTimeoutError(
                f"request to {_where(request)} exceeded its timeout of {(timeout or 0) * 1000:.0f} ms"
            ) from error
        except httpx.HTTPError as error:
            raise _map_send_error(error, request) from error
        headers = {k.lower(): v for k, v in response.headers.items()}
        return HttpResponse(response.status_code, headers, response.content)

    async def open_stream(self, request: HttpRequest) -> StreamHandle:
        """Send and return once the status and headers are in (the caller bounds the wait)."""
        client = self._client()
        try:
            response = await client.send(self._build(client, request), stream=True)
        except httpx.HTTPError as error:
            raise _map_send_error(error, request) from error
        return StreamHandle(response, request)

    async def aclose(self) -> None:
        """Close the current loop's client; forget the others (their loops are gone or elsewhere)."""
        clients, self._clients = self._clients, {}
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        current = clients.get(loop) if loop is not None else None
        if current is not None:
            await current.aclose()
