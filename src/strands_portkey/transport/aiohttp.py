"""The fast backend: one pooled ``aiohttp.ClientSession`` per event loop (the ``[fast]`` extra).

Chosen by measurement (README, "Benchmarks"): on loopback an aiohttp round trip costs about a
fifth of httpx's. What this module adds around aiohttp:

* a first-come, first-served gate of ``max_connections`` slots, waited on for at most
  ``pool_timeout`` (aiohttp's own connect timeout mixes the pool wait with the TCP connect, so a
  full pool could not be told from a slow upstream); a slot is held until the response is released;
* TLS verified against certifi's bundle, as httpx does (``SSL_CERT_FILE`` / ``SSL_CERT_DIR``
  honoured), no cookie jar, redirects never followed;
* proxies from the environment (``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``, ...) looked up once
  per scheme and host, not per request: aiohttp's own ``trust_env`` asks a worker thread twice
  per request (the proxy and ``.netrc``), which cost more than the whole exchange on loopback;
* connect (``sock_connect``), idle (``sock_read``) and total timeouts are aiohttp's own;
  ``first_byte_timeout`` is a timer around the header phase, only when set;
* every failure mapped into the error tree, the connection closed (not reused) when a body is
  abandoned or cancelled mid-way;
* with an egress guard (the server's SSRF policy), names are resolved through it
  (:class:`GuardedResolver`): aiohttp connects only to the addresses the guard checked, for
  ``http`` and ``https`` alike (DNS rebinding cannot swap them), while TLS still verifies the
  certificate against the name in the URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
from collections.abc import AsyncIterator

import aiohttp
import certifi
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

from ..errors import GatewayError, GatewayOverloadedError, StreamInterruptedError, UpstreamConnectionError
from ..wire import HttpRequest, HttpResponse
from .base import TIMEOUTS, EgressGuard, TransportSettings, malformed, timed_out, unexpected, where
from .gate import Gate

__all__ = ["AiohttpBackend", "AiohttpStream", "GuardedResolver"]

_Origin = tuple[str, "str | None", "int | None"]
_Proxy = tuple["URL | None", "aiohttp.BasicAuth | None"]
_URL_CACHE_SIZE = 256  # parsed URLs kept per backend (a gateway sends to a handful of hosts)


def tls_context() -> ssl.SSLContext:
    """Verification as httpx does it: certifi's bundle unless the environment names another."""
    cafile = os.environ.get("SSL_CERT_FILE") or certifi.where()
    capath = os.environ.get("SSL_CERT_DIR") or None
    return ssl.create_default_context(cafile=cafile, capath=capath)


def _map(error: BaseException, request: HttpRequest, stage: str) -> GatewayError:
    """An aiohttp failure before the response was complete (``stage``: "connect" or "body")."""
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return timed_out(request, "connect")
    if isinstance(error, aiohttp.SocketTimeoutError):
        return timed_out(request, "no data within the read timeout")
    if isinstance(error, TIMEOUTS):  # aiohttp's total timeout
        return timed_out(request, "the total timeout")
    if isinstance(error, aiohttp.ServerDisconnectedError):
        if stage == "body":
            return UpstreamConnectionError(
                f"{where(request)} closed the connection before the response was complete"
            )
        return UpstreamConnectionError(f"{where(request)} closed the connection before answering")
    if isinstance(error, aiohttp.ClientPayloadError):
        return UpstreamConnectionError(
            f"{where(request)} closed the connection before the response was complete"
        )
    if isinstance(error, aiohttp.ClientResponseError):  # bad status line, headers over the limit
        return malformed(request, error)
    if isinstance(error, aiohttp.ClientConnectionError):
        return UpstreamConnectionError(f"could not reach {where(request)}: {type(error).__name__}: {error}")
    return unexpected(request, error)


def _headers(response: aiohttp.ClientResponse) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in response.raw_headers}


class GuardedResolver(AbstractResolver):
    """Resolves through an :class:`~.base.EgressGuard`: only checked addresses are connected to.

    aiohttp resolves a name when it opens a connection (IP literals are never resolved: the
    transport checks those before sending). The guard's answer is what the connector dials, so a
    name cannot resolve to an allowed address for the check and a private one for the connection.
    A name the guard leaves unchecked (trusted, or unresolvable) goes to aiohttp's own resolver.
    """

    def __init__(self, guard: EgressGuard, fallback: AbstractResolver) -> None:
        self._guard = guard
        self._fallback = fallback

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The guard's addresses for ``host`` (of ``family`` unless unspecified); refusals raise."""
        addresses = await self._guard.addresses(host, port)
        if not addresses:
            return await self._fallback.resolve(host, port, family)
        results: list[ResolveResult] = []
        for address in addresses:
            found = socket.AF_INET6 if ":" in address else socket.AF_INET
            if family in (socket.AF_UNSPEC, found):
                results.append(
                    {
                        "hostname": host,
                        "host": address,
                        "port": port,
                        "family": found,
                        "proto": 0,
                        "flags": socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
                    }
                )
        if not results:
            raise OSError(f"{host} has no checked address of family {family.name}")
        return results

    async def close(self) -> None:
        """Close aiohttp's own resolver."""
        await self._fallback.close()


class AiohttpStream:
    """An open aiohttp response whose body is read as it arrives."""

    __slots__ = ("_done", "_gate", "_request", "_response", "headers", "status_code")

    def __init__(self, response: aiohttp.ClientResponse, request: HttpRequest, gate: Gate) -> None:
        self._response = response
        self._request = request
        self._gate: Gate | None = gate
        self._done = False
        self.status_code = response.status
        self.headers = _headers(response)

    async def read(self) -> bytes:
        """The whole remaining body (used for error responses)."""
        try:
            data = await self._response.read()
        except Exception as error:
            cause = _map(error, self._request, "body").message
            where_ = where(self._request)
            raise StreamInterruptedError(f"error body from {where_} was cut: {cause}") from error
        self._done = True
        return data

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """Body bytes (content-encoding undone) as they arrive; a broken or stalled body raises."""
        content = self._response.content
        try:
            while True:
                data = await content.readany()
                if not data:
                    break
                yield data
        except TIMEOUTS as error:
            what = (
                "the read timeout" if isinstance(error, aiohttp.SocketTimeoutError) else "the total timeout"
            )
            raise StreamInterruptedError(
                f"stream from {where(self._request)} stalled: no data within {what}"
            ) from error
        except Exception as error:  # the boundary: a cut body, a bad chunk, anything else
            raise StreamInterruptedError(
                f"stream from {where(self._request)} broke: {_map(error, self._request, 'body').message}"
            ) from error
        self._done = True

    async def aclose(self) -> None:
        """Give the connection back when the body was read to its end, else close it; idempotent."""
        gate, self._gate = self._gate, None
        if gate is None:
            return
        try:
            if self._done:
                self._response.release()
            else:
                self._response.close()
        finally:
            gate.release()


class AiohttpBackend:
    """A pooled ``aiohttp.ClientSession`` behind a FIFO gate of ``max_connections`` slots."""

    def __init__(
        self, settings: TransportSettings, tls: ssl.SSLContext, guard: EgressGuard | None = None
    ) -> None:
        s = self._settings = settings
        self._gate = Gate(s.max_connections)
        self._loop = asyncio.get_running_loop()
        self._timeout = aiohttp.ClientTimeout(
            total=s.total_timeout, sock_connect=s.connect_timeout, sock_read=s.read_timeout
        )
        connector = aiohttp.TCPConnector(
            limit=s.max_connections,
            limit_per_host=0,
            keepalive_timeout=s.keepalive_expiry,
            ssl=tls,
            resolver=GuardedResolver(guard, aiohttp.ThreadedResolver()) if guard is not None else None,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,  # proxies: see _proxy
            auto_decompress=True,
        )
        self._urls: dict[str, URL] = {}
        self._proxies: dict[_Origin, _Proxy] = {}

    @property
    def is_closed(self) -> bool:
        """True once :meth:`aclose` ran."""
        return self._session.closed

    def _url(self, url: str) -> URL:
        parsed = self._urls.get(url)
        if parsed is None:
            if len(self._urls) >= _URL_CACHE_SIZE:
                self._urls.clear()
            parsed = self._urls[url] = URL(url)
        return parsed

    def _proxy(self, url: URL) -> _Proxy:
        """The environment's proxy for this scheme and host (looked up once; None: go direct)."""
        key = (url.scheme, url.host, url.port)
        found = self._proxies.get(key)
        if found is None:
            try:
                found = get_env_proxy_for_url(url)
            except LookupError:
                found = (None, None)
            if len(self._proxies) >= _URL_CACHE_SIZE:
                self._proxies.clear()
            self._proxies[key] = found
        return found

    async def _acquire(self, request: HttpRequest) -> Gate:
        gate = self._gate
        if not await gate.acquire(self._settings.pool_timeout):
            raise GatewayOverloadedError(
                f"no free connection for {where(request)} within the pool timeout of "
                f"{self._settings.pool_timeout:g} s: all {gate.limit} are busy "
                "(raise TransportSettings.max_connections)"
            )
        return gate

    async def _open(self, request: HttpRequest, timeout: aiohttp.ClientTimeout) -> aiohttp.ClientResponse:
        headers = request.headers
        data = None
        if request.json is not None:
            data = request.body_bytes()
            if "content-type" not in headers:
                headers = {**headers, "content-type": "application/json"}
        url = self._url(request.url)
        proxy, proxy_auth = self._proxy(url)
        opening = self._session.request(
            request.method,
            url,
            proxy=proxy,
            proxy_auth=proxy_auth,
            headers=headers,
            data=data,
            allow_redirects=False,
            timeout=timeout,
        )
        first_byte = self._settings.first_byte_timeout
        try:
            return await (opening if first_byte is None else asyncio.wait_for(opening, first_byte))
        except asyncio.TimeoutError as error:
            if first_byte is not None and not isinstance(error, aiohttp.ServerTimeoutError):
                raise timed_out(request, "first byte") from error
            raise

    def _timeout_for(self, timeout: float | None) -> aiohttp.ClientTimeout:
        total = self._settings.total_timeout
        if timeout is None or (total is not None and total <= timeout):
            return self._timeout
        return aiohttp.ClientTimeout(
            total=timeout, sock_connect=self._settings.connect_timeout, sock_read=self._settings.read_timeout
        )

    async def send(self, request: HttpRequest, timeout: float | None) -> HttpResponse:
        """Send and read the whole response within ``timeout`` (and ``total_timeout``) seconds."""
        gate = self._gate if self._gate.try_acquire() else await self._acquire(request)
        try:
            response = await self._open(request, self._timeout_for(timeout))
        except GatewayError:
            gate.release()
            raise
        except BaseException as error:
            gate.release()
            if isinstance(error, Exception):
                if (
                    isinstance(error, TIMEOUTS)
                    and timeout is not None
                    and not isinstance(error, aiohttp.ServerTimeoutError)
                ):
                    raise timed_out(request, f"exceeded its timeout of {timeout * 1000:.0f} ms") from error
                raise _map(error, request, "connect") from error
            raise
        try:
            content = await response.read()
        except Exception as error:
            response.close()
            if (
                isinstance(error, TIMEOUTS)
                and timeout is not None
                and not isinstance(error, aiohttp.ServerTimeoutError)
            ):
                raise timed_out(request, f"exceeded its timeout of {timeout * 1000:.0f} ms") from error
            raise _map(error, request, "body") from error
        except BaseException:
            response.close()  # cancelled mid-body: the connection cannot be reused
            raise
        else:
            response.release()
        finally:
            gate.release()
        return HttpResponse(response.status, _headers(response), content)

    async def open_stream(self, request: HttpRequest) -> AiohttpStream:
        """Send and return once the status and headers are in."""
        gate = self._gate if self._gate.try_acquire() else await self._acquire(request)
        try:
            response = await self._open(request, self._timeout)
        except GatewayError:
            gate.release()
            raise
        except BaseException as error:
            gate.release()
            if isinstance(error, Exception):
                raise _map(error, request, "connect") from error
            raise
        return AiohttpStream(response, request, gate)

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await self._session.close()

    def abandon(self) -> None:
        """Close the pool without awaiting: its loop is gone, or its owner was collected.

        A Strands ``agent(...)`` call runs on a fresh loop each time; without this, aiohttp logs
        "Unclosed client session" for each pool that was simply no longer needed.

        On a loop that still runs in another thread the closing is handed to that loop; on a
        closed loop only the pool is marked closed (its sockets close when collected, as httpx's).
        """
        connector = self._session.connector
        if connector is None or connector.closed:
            return
        close = connector._close  # the synchronous half of close(): nothing left to await
        loop = self._loop
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop.is_closed() or loop is running:
            close()
        else:
            loop.call_soon_threadsafe(close)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at interpreter exit anything may be half torn down
            self.abandon()
