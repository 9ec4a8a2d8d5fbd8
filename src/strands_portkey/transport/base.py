"""The HTTP seam: what every transport backend offers, its settings, and the error rules they share.

A *backend* sends :class:`~strands_portkey.wire.HttpRequest` s over one HTTP client library
(:mod:`.httpx`, :mod:`.aiohttp`). It maps the failures it knows into the error tree; whatever it
does not know is mapped by :func:`unexpected` at the boundary (:class:`.client.Transport`), so
nothing raw ever leaves the transport: a bad ``custom_host`` or a library bug becomes a
:class:`~strands_portkey.errors.UpstreamConnectionError` that fallback moves on from, with the
original kept as ``__cause__``.

Messages name the URL without its query string (some providers carry keys there); the leaf call
scrubs the request's secrets from every message on top of that.

An optional :class:`EgressGuard` (the server's SSRF policy) decides where a request may go, for
both backends: :func:`guarded` checks every request before it reaches a backend (and pins a plain
``http`` URL to the checked address for httpx), and the aiohttp backend also asks the guard when
it resolves a name for a new connection, so it connects only to addresses that were checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from typing import Literal, Protocol
from urllib.parse import urlsplit

from ..errors import (
    ConfigurationError,
    GatewayError,
    MalformedResponseError,
    RequestTimeoutError,
    UpstreamConnectionError,
    UpstreamError,
)
from ..wire import HttpRequest, HttpResponse

__all__ = [
    "TIMEOUTS",
    "Backend",
    "ClientName",
    "EgressGuard",
    "StreamHandle",
    "TransportSettings",
    "guarded",
    "malformed",
    "redirect_error",
    "timed_out",
    "unexpected",
    "where",
]

ClientName = Literal["auto", "aiohttp", "httpx"]

TIMEOUTS: tuple[type[BaseException], ...] = (TimeoutError, asyncio.TimeoutError)
"""What a timeout is raised as: the same class since Python 3.11, two classes on 3.10."""
_CLIENTS = ("auto", "aiohttp", "httpx")


@dataclass(frozen=True, slots=True)
class TransportSettings:
    """Connection pool, admission and timeout settings (seconds) of one ``Gateway``'s transport.

    Timeouts of one attempt, innermost first: ``connect_timeout`` (TCP + TLS);
    ``first_byte_timeout`` (from sending until the status line and headers, connect included;
    ``None``: only ``read_timeout`` applies); ``read_timeout`` (idle: between two reads of a
    response, so a long stream is fine while a stalled one is not); ``total_timeout`` (the whole
    exchange, a streamed body included; ``None``: no limit besides Portkey's ``request_timeout``,
    which the gateway applies per attempt on top). ``write_timeout`` bounds sending the body.

    Capacity: ``max_connections`` per gateway (all hosts), of which ``max_keepalive_connections``
    are kept idle (httpx; aiohttp keeps idle ones for ``keepalive_expiry``). ``max_in_flight``
    requests are admitted at once (default: ``max_connections``, so an admitted request never waits
    for a connection); the rest queue in arrival order for at most ``admission_timeout`` (``None``:
    as long as it takes; ``0`` turns admission off). A wait for a pooled connection longer than
    ``pool_timeout`` (possible only with admission off or above the pool) and an admission wait
    past ``admission_timeout`` raise :class:`~strands_portkey.errors.GatewayOverloadedError`:
    the gateway's own capacity, never reported as an upstream timeout.

    ``client`` picks the library: ``"auto"`` (aiohttp when the ``[fast]`` extra is installed,
    else httpx), ``"aiohttp"`` or ``"httpx"``. A ``Gateway(transport=...)`` (an httpx transport,
    ``httpx.MockTransport`` in tests) always uses httpx.
    """

    connect_timeout: float = 10.0
    read_timeout: float = 600.0
    write_timeout: float = 60.0
    pool_timeout: float = 60.0
    first_byte_timeout: float | None = None
    total_timeout: float | None = None
    max_connections: int = 100
    max_keepalive_connections: int = 20
    keepalive_expiry: float = 5.0
    max_in_flight: int | None = None
    admission_timeout: float | None = None
    client: ClientName = "auto"

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "read_timeout", "write_timeout", "pool_timeout", "keepalive_expiry"):
            _positive(name, getattr(self, name))
        for name in ("first_byte_timeout", "total_timeout", "admission_timeout"):
            value = getattr(self, name)
            if value is not None:
                _positive(name, value)
        if not isinstance(self.max_connections, int) or self.max_connections < 1:
            raise _bad("max_connections", f"expected an integer >= 1, got {self.max_connections!r}")
        if not isinstance(self.max_keepalive_connections, int) or self.max_keepalive_connections < 0:
            raise _bad(
                "max_keepalive_connections",
                f"expected an integer >= 0, got {self.max_keepalive_connections!r}",
            )
        if self.max_in_flight is not None and (
            not isinstance(self.max_in_flight, int) or self.max_in_flight < 0
        ):
            raise _bad("max_in_flight", f"expected an integer >= 0 or None, got {self.max_in_flight!r}")
        if self.client not in _CLIENTS:
            raise _bad("client", f"expected one of {', '.join(_CLIENTS)}, got {self.client!r}")

    @property
    def admission_limit(self) -> int:
        """Requests admitted at once (0: admission off)."""
        return self.max_connections if self.max_in_flight is None else self.max_in_flight


def _bad(field: str, message: str) -> ConfigurationError:
    return ConfigurationError(message, path=f"TransportSettings.{field}")


def _positive(field: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise _bad(field, f"expected a number of seconds > 0, got {value!r}")


class StreamHandle(Protocol):
    """An open streamed response: status and headers are known, the body is still coming."""

    status_code: int
    headers: dict[str, str]

    async def read(self) -> bytes:
        """The whole remaining body (used for error responses)."""
        ...

    def iter_bytes(self) -> AsyncIterator[bytes]:
        """Body bytes (content-encoding undone) as they arrive; a broken or stalled body raises."""
        ...

    async def aclose(self) -> None:
        """Give the connection back (or drop it if the body is unfinished); idempotent."""
        ...


class Backend(Protocol):
    """One HTTP client library's pooled client, bound to one event loop."""

    @property
    def is_closed(self) -> bool:
        """True once :meth:`aclose` ran."""
        ...

    async def send(self, request: HttpRequest, timeout: float | None) -> HttpResponse:
        """Send and read the whole response; ``timeout`` bounds the entire attempt (seconds)."""
        ...

    async def open_stream(self, request: HttpRequest) -> StreamHandle:
        """Send and return once the status and headers are in."""
        ...

    async def aclose(self) -> None:
        """Close every pooled connection."""
        ...

    def abandon(self) -> None:
        """Let go without awaiting: the loop that owned the pool is gone (or the owner is)."""
        ...


class EgressGuard(Protocol):
    """Where requests may be sent (a server's SSRF policy); given to :class:`.client.Transport`."""

    async def addresses(self, host: str, port: int) -> Sequence[str]:
        """The addresses ``host`` may be connected at, every one allowed (an IP literal: itself).

        Empty: connect by name unchecked (a trusted name, or one that does not resolve, whose
        connection attempt then fails). Refusing raises a
        :class:`~strands_portkey.errors.GatewayError` (a 403 from the server). Called for every
        request, so decisions should be cached.
        """
        ...


async def guarded(request: HttpRequest, guard: EgressGuard, *, pin: bool) -> HttpRequest:
    """``request`` checked by ``guard``; with ``pin``, a plain-``http`` URL goes to the checked address.

    Pinning keeps the name in the ``Host`` header, so virtual hosts still work, while a name that
    resolves elsewhere a moment later (DNS rebinding) is never connected to. ``https`` keeps its
    name (TLS verifies the certificate against it); the aiohttp backend pins both schemes at
    connect time through its resolver instead, so it passes ``pin=False``.
    """
    parts = urlsplit(request.url)
    host = parts.hostname
    if not host:
        return request
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await guard.addresses(host, port)
    if not pin or not addresses or parts.scheme != "http" or addresses[0] == host:
        return request
    address = addresses[0]
    literal = f"[{address}]" if isinstance(ipaddress.ip_address(address), ipaddress.IPv6Address) else address
    userinfo, at, named = parts.netloc.rpartition("@")
    netloc = f"{userinfo}{at}{literal}" + (f":{parts.port}" if parts.port else "")
    headers = {**request.headers, "host": named}
    return replace(request, url=parts._replace(netloc=netloc).geturl(), headers=headers)


# --------------------------------------------------------------------------- shared error rules


def where(request: HttpRequest) -> str:
    """The URL without its query string (some providers put keys there)."""
    return request.url.split("?", 1)[0]


def timed_out(request: HttpRequest, what: str) -> RequestTimeoutError:
    """An upstream that was too slow (``what``: which timeout ran out)."""
    return RequestTimeoutError(f"timed out waiting for {where(request)} ({what})")


def malformed(request: HttpRequest, error: BaseException) -> MalformedResponseError:
    """A response that broke HTTP itself (bad status line or framing, headers over the limit)."""
    return MalformedResponseError(f"{where(request)} sent a malformed HTTP response: {_describe(error)}")


def redirect_error(request: HttpRequest, status: int, location: str | None) -> UpstreamError:
    """A 3xx answer to a request that is not a GET/HEAD: never followed (a body would be re-sent)."""
    target = f" to {location.split('?', 1)[0]}" if location else ""
    return UpstreamError(
        f"{where(request)} answered {status} (a redirect{target}); redirects are not followed for "
        f"{request.method}: point custom_host at the final URL",
        status_code=status,
    )


def unexpected(request: HttpRequest, error: BaseException) -> GatewayError:
    """Anything a backend raised that it did not map itself: the catch-all at the boundary.

    An invalid URL (``http://[::1``, a port out of range), a connector's ``ExceptionGroup`` or a
    library bug all mean "this target could not be reached", which fallback moves on from.
    """
    if isinstance(error, GatewayError):
        return error
    if isinstance(error, TIMEOUTS):
        return timed_out(request, type(error).__name__)
    return UpstreamConnectionError(f"could not send to {where(request)}: {_describe(error)}")


def _describe(error: BaseException) -> str:
    """The error's type and first line, cut short; URLs in it lose their query strings."""
    text = str(error).split("\n", 1)[0]
    if "?" in text:
        text = " ".join(word.split("?", 1)[0] if "://" in word else word for word in text.split(" "))
    if len(text) > 200:
        text = text[:200] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
