"""Where the server may send requests: the SSRF address policy and the guard that applies it.

A server that takes upstream URLs from its callers (``x-portkey-custom-host``, a config's
``custom_host``, a registered provider's ``baseUrl``, a guardrail webhook) must not become a
proxy into its own network. Every upstream request is therefore checked by :class:`AddressGuard`,
the egress guard of the server's shared transport (:class:`~strands_portkey.transport.Transport`,
either backend): its host is resolved and the request is refused (403, :class:`AddressRefusedError`) when any
address is private, link-local (cloud metadata ``169.254.169.254`` included), shared (CGNAT),
multicast, reserved or unspecified. Loopback is allowed (local models), as is any host, address
or network listed in ``STRANDS_PORTKEY_TRUSTED_HOSTS`` (comma-separated: ``models.internal``,
``10.0.0.7``, ``10.1.0.0/16``).

The connection goes to an address that was checked, so a name that resolves differently a
moment later (DNS rebinding) cannot slip through. With aiohttp (the default) the connector
resolves names through the guard, for ``http`` and ``https`` alike, and TLS still verifies the
certificate against the name. With httpx a plain-``http`` URL is pinned to the checked address
(the ``Host`` header keeps the name); an ``https`` one keeps its name, so an internal address
would have to present a valid certificate for it. Decisions are cached per host for 30 s.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from .errors import AddressRefusedError

__all__ = ["AddressGuard", "AddressPolicy", "Resolver", "system_resolver"]

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


class AddressGuard:
    """Applies an :class:`AddressPolicy` to every upstream request (the transport's egress guard).

    Given to the server's shared :class:`~strands_portkey.transport.Transport` (both backends)
    and to the control plane's validation calls. Allowed decisions are kept for a short while, so
    the check costs a dict lookup per request; refusals are not kept (they are rare).
    """

    def __init__(
        self,
        policy: AddressPolicy,
        resolver: Resolver = system_resolver,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._policy = policy
        self._resolver = resolver
        self._clock = clock
        self._decisions: dict[tuple[str, int], tuple[float, tuple[str, ...]]] = {}

    async def addresses(self, host: str, port: int, *, path: str | None = None) -> tuple[str, ...]:
        """The checked addresses of ``host`` (empty: trusted or unresolvable); refusals raise 403."""
        now = self._clock()
        cached = self._decisions.get((host, port))
        if cached is not None and cached[0] > now:
            return cached[1]
        literal = _literal(host)
        if literal is not None:
            problem = self._policy.refusal(literal)
            if problem is not None:
                raise AddressRefusedError(f"upstream address {literal} {problem}; {_HINT}", path=path)
            return self._remember(host, port, now, (literal,))
        if self._policy.name_trusted(host):
            return ()
        try:
            found = await self._resolver(host, port)
        except OSError:
            return ()  # unresolvable: the connection attempt fails with a clear connect error
        for address in found:
            problem = self._policy.refusal(address)
            if problem is not None:
                raise AddressRefusedError(
                    f"upstream host {host!r} resolves to {address}, which {problem}; {_HINT}", path=path
                )
        return self._remember(host, port, now, tuple(dict.fromkeys(found))) if found else ()

    async def check(self, host: str, port: int, *, path: str | None = None) -> str:
        """The address to connect to for ``host`` (``host`` itself when unchecked); refusals raise."""
        found = await self.addresses(host, port, path=path)
        return found[0] if found else host

    def _remember(self, host: str, port: int, now: float, found: tuple[str, ...]) -> tuple[str, ...]:
        if len(self._decisions) >= _CACHE_MAX:
            self._decisions.clear()
        self._decisions[(host, port)] = (now + _CACHE_TTL_S, found)
        return found


_HINT = f"refused by the server's SSRF policy (allow it with {TRUSTED_HOSTS_ENV})"
