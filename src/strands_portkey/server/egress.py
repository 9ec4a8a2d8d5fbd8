"""Where the server may send requests: the SSRF address policy, and the one shared connection pool.

A server that takes upstream URLs from its callers (``x-portkey-custom-host``, a config's
``custom_host``, a registered provider's ``baseUrl``, a guardrail webhook) must not become a
proxy into its own network. Every upstream request therefore goes through :class:`GuardedTransport`:
its host is resolved and the request is refused (403, :class:`AddressRefusedError`) when any
address is private, link-local (cloud metadata ``169.254.169.254`` included), shared (CGNAT),
multicast, reserved or unspecified. Loopback is allowed (local models), as is any host, address
or network listed in ``STRANDS_PORTKEY_TRUSTED_HOSTS`` (comma-separated: ``models.internal``,
``10.0.0.7``, ``10.1.0.0/16``).

A plain-``http`` request is sent to the address that was checked (the URL is pinned to it, the
``Host`` header keeps the name), so a name that resolves differently a moment later (DNS
rebinding) cannot slip through; an ``https`` request keeps its name so TLS verifies the
certificate for it (an internal address would have to present a valid certificate for the name).
Decisions are cached per host for a short time.

This module is the server's only ``httpx`` user: the pool all route gateways share is built here.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import httpx

from .errors import AddressRefusedError

__all__ = ["AddressPolicy", "GuardedTransport", "Resolver", "ShardedPool", "shared_pool", "system_resolver"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]
"""Host name and port -> the addresses it resolves to (injected in tests)."""

_SHARED = ipaddress.ip_network("100.64.0.0/10")
_CACHE_TTL_S = 30.0
_CACHE_MAX = 1024
TRUSTED_HOSTS_ENV = "STRANDS_PORTKEY_TRUSTED_HOSTS"


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve with the event loop's ``getaddrinfo`` (runs in a thread)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _unmapped(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Which upstream addresses are allowed: public ones, loopback, and the trusted list."""

    trusted_names: frozenset[str] = frozenset()
    trusted_networks: tuple[Network, ...] = ()
    allow_loopback: bool = True

    @classmethod
    def parse(cls, entries: Iterable[str], *, allow_loopback: bool = True) -> AddressPolicy:
        """A policy from ``STRANDS_PORTKEY_TRUSTED_HOSTS`` entries (names, addresses, networks)."""
        names: set[str] = set()
        networks: list[Network] = []
        for raw in entries:
            entry = raw.strip().lower().strip("[]")
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                names.add(entry.rstrip("."))
        return cls(frozenset(names), tuple(networks), allow_loopback)

    @classmethod
    def from_env(cls, value: str | None) -> AddressPolicy:
        """The policy of a ``STRANDS_PORTKEY_TRUSTED_HOSTS`` value (None or empty: loopback only)."""
        return cls.parse((value or "").split(","))

    def name_trusted(self, host: str) -> bool:
        """Whether ``host`` is listed by name (then its addresses are not checked)."""
        return host.lower().rstrip(".") in self.trusted_names

    def refusal(self, address: str) -> str | None:
        """Why ``address`` may not be called, or None when it may."""
        try:
            ip = _unmapped(ipaddress.ip_address(address.split("%", 1)[0]))
        except ValueError:
            return f"{address!r} is not an IP address"
        if any(ip in network for network in self.trusted_networks):
            return None
        if ip.is_loopback:
            return None if self.allow_loopback else "is a loopback address"
        if ip.is_link_local:
            return "is a link-local address (cloud metadata lives there)"
        if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED:
            return "is a shared (carrier-grade NAT) address"
        if ip.is_private or ip.is_reserved or ip.is_multicast or ip.is_unspecified or not ip.is_global:
            return "is a private or reserved address"
        return None


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that applies an :class:`AddressPolicy` before each request leaves."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        policy: AddressPolicy,
        resolver: Resolver = system_resolver,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._policy = policy
        self._resolver = resolver
        self._clock = clock
        self._decisions: dict[tuple[str, int], tuple[float, str]] = {}

    async def check(self, host: str, port: int, *, path: str | None = None) -> str:
        """The address to connect to for ``host``; raise :class:`AddressRefusedError` if it is refused."""
        now = self._clock()
        cached = self._decisions.get((host, port))
        if cached is not None and cached[0] > now:
            return cached[1]
        literal = _literal(host)
        if literal is not None:
            problem = self._policy.refusal(literal)
            if problem is not None:
                raise AddressRefusedError(f"upstream address {literal} {problem}; {_HINT}", path=path)
            self._remember(host, port, now, host)
            return host
        if self._policy.name_trusted(host):
            return host
        try:
            addresses = await self._resolver(host, port)
        except OSError:
            return host  # unresolvable: the connection attempt fails with a clear connect error
        for address in addresses:
            problem = self._policy.refusal(address)
            if problem is not None:
                raise AddressRefusedError(
                    f"upstream host {host!r} resolves to {address}, which {problem}; {_HINT}", path=path
                )
        if not addresses:
            return host
        self._remember(host, port, now, addresses[0])
        return addresses[0]

    def _remember(self, host: str, port: int, now: float, address: str) -> None:
        """Keep an allowed decision for a while (refusals are not kept: they are rare)."""
        if len(self._decisions) >= _CACHE_MAX:
            self._decisions.clear()
        self._decisions[(host, port)] = (now + _CACHE_TTL_S, address)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Check (and for ``http``, pin) the destination, then send with the inner transport."""
        url = request.url
        address = await self.check(url.host, url.port or (443 if url.scheme == "https" else 80))
        if url.scheme == "http" and address != url.host:
            request.url = url.copy_with(host=address)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the inner transport (its pooled connections)."""
        await self._inner.aclose()


_HINT = f"refused by the server's SSRF policy (allow it with {TRUSTED_HOSTS_ENV})"


class ShardedPool(httpx.AsyncBaseTransport):
    """Several small connection pools used in turn, instead of one large one.

    httpcore's pool looks at every connection it holds on each request, so a request costs more
    the more connections are open: at 64 concurrent requests one pool of 64 connections spends
    most of its time there. Shards of a few connections each keep that scan short; each shard
    still reuses its own keep-alive connections.
    """

    def __init__(self, shards: list[httpx.AsyncBaseTransport]) -> None:
        if not shards:
            raise ValueError("a sharded pool needs at least one shard")
        self._shards = shards
        self._next = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send through the next shard."""
        shard = self._shards[self._next]
        self._next = (self._next + 1) % len(self._shards)
        return await shard.handle_async_request(request)

    async def aclose(self) -> None:
        """Close every shard."""
        for shard in self._shards:
            await shard.aclose()


def shared_pool(
    max_connections: int = 256, max_keepalive: int = 128, shards: int = 8
) -> httpx.AsyncBaseTransport:
    """The one pooled HTTP transport every route gateway of a server sends through."""
    if shards <= 1:
        return httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_keepalive),
            retries=0,
        )
    per_shard = httpx.Limits(
        max_connections=max(1, max_connections // shards),
        max_keepalive_connections=max(1, max_keepalive // shards),
    )
    return ShardedPool([httpx.AsyncHTTPTransport(limits=per_shard, retries=0) for _ in range(shards)])
