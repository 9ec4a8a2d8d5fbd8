"""Caller headers forwarded to upstreams: Portkey's ``forward_headers``, per request and per target.

Portkey's gateway copies the request headers a list names, as they came, onto the provider
request (they win over the provider's own headers). The list comes from the request
(``x-portkey-forward-headers``) and from a config target's ``forward_headers``; here both apply,
merged. The caller's headers reach the gateway as :class:`ForwardHeaders` (the server builds it
from the HTTP request; in-process callers may pass their own), and each leaf picks the names
that apply to it (:meth:`ForwardHeaders.pick`) and merges them into its request
(:func:`with_forwarded`).

Never forwarded, whatever a list says (:func:`never_forwarded`): credentials of the gateway
itself (``authorization``, ``x-api-key``: on the server they carry the gateway key or the
provider key the route already uses), ``x-portkey-*`` (the gateway's own instructions),
hop-by-hop headers (``connection``, ``transfer-encoding``...) and the headers that describe the
body the gateway builds (``content-type``, ``content-length``, ``host``...). A forwarded header
also never replaces a header that carries the attempt's credential.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from .wire import HttpRequest

__all__ = ["ForwardHeaders", "never_forwarded", "with_forwarded"]

_NEVER = frozenset(
    {
        # credentials the gateway reads for itself
        "authorization",
        "x-api-key",
        "proxy-authorization",
        # hop-by-hop (RFC 9110 section 7.6.1)
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "proxy-connection",
        "proxy-authenticate",
        # the body and the connection are the gateway's own
        "host",
        "content-length",
        "content-type",
        "content-encoding",
        "accept-encoding",
        "expect",
    }
)


def never_forwarded(name: str) -> bool:
    """Whether the header ``name`` (lower-case) is refused for forwarding (see the module docstring)."""
    return name in _NEVER or name.startswith("x-portkey-")


def _names(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name.strip().lower() for name in names if name and name.strip()))


@dataclass(frozen=True, slots=True)
class ForwardHeaders:
    """The caller's request headers that may be forwarded, and the names this request forwards.

    ``headers`` holds the caller's headers (names lower-cased; refused names are dropped here, so
    they are never kept); ``names`` is the request's own list (``x-portkey-forward-headers``),
    which applies to every target, on top of each target's ``forward_headers``.
    """

    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    names: tuple[str, ...] = ()

    @classmethod
    def of(cls, headers: Mapping[str, str], names: Iterable[str] = ()) -> ForwardHeaders:
        """Keep only the headers that may be forwarded; lower-case every name."""
        kept = {name.lower(): value for name, value in headers.items() if not never_forwarded(name.lower())}
        return cls(kept, _names(names))

    def pick(self, target_names: Iterable[str] = ()) -> dict[str, str]:
        """The headers to send to a target whose config forwards ``target_names``: name -> value."""
        picked: dict[str, str] = {}
        for name in (*self.names, *_names(target_names)):
            value = self.headers.get(name)
            if value is not None and not never_forwarded(name):
                picked[name] = value
        return picked


def with_forwarded(request: HttpRequest, forwarded: Mapping[str, str]) -> HttpRequest:
    """``request`` with the forwarded headers added.

    They replace a same-named header of the adapter's (as in Portkey), except one that carries
    the request's credential.
    """
    if not forwarded:
        return request
    headers = dict(request.headers)
    existing = {name.lower(): name for name in headers}
    for name, value in forwarded.items():
        current = existing.get(name)
        if current is not None:
            if any(secret and secret in headers[current] for secret in request.secrets):
                continue
            del headers[current]
        headers[name] = value
    return replace(request, headers=headers)
