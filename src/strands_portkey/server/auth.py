"""Who is calling: the :class:`Authenticator` seam and where the caller's gateway key is read.

The gateway-key scheme (``spk-...`` keys stored hashed, roles, scopes, allow-lists, expiry,
revocation) is :class:`~strands_portkey.server.gateway_keys.GatewayKeyAuth`;
:func:`~strands_portkey.server.app.create_app` needs an authenticator or an explicit
``no_auth=True`` (which ``strands-portkey serve`` allows only on a loopback bind).

Where the gateway key is read, first found wins: ``x-portkey-api-key``, else
``Authorization: Bearer <key>``, else ``x-api-key`` (Anthropic's SDK). ``Authorization`` is
shared with provider keys, as in Portkey: **with ``x-portkey-api-key`` present, ``Authorization``
carries the provider key**; without it, ``Authorization`` is the gateway key only when the
authenticator :meth:`~Authenticator.claims` its token (a gateway key's format), and the provider
key otherwise. With ``no_auth`` nothing is claimed, so ``Authorization`` is always a provider key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from .errors import UnauthorizedError

if TYPE_CHECKING:
    from ..controlplane.api_key_fields import ApiKeyPrincipal

__all__ = [
    "ANONYMOUS",
    "Authenticator",
    "CallerKey",
    "NoAuth",
    "Principal",
    "bearer_token",
    "caller_key",
    "provider_key",
    "require_key",
]

_BEARER = "bearer "


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: a gateway key's id and name (never the key), and what it carries.

    ``metadata`` is merged under each request's ``x-portkey-metadata`` (the request wins);
    ``identity`` over it (the key's user, organization and id: the caller cannot change them);
    ``key`` is the gateway key's principal (role, scopes, allow-lists, limits), None without keys.
    """

    key_id: str
    name: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    attributes: Mapping[str, object] = field(default_factory=dict)
    identity: Mapping[str, str] = field(default_factory=dict)
    key: ApiKeyPrincipal | None = None


ANONYMOUS = Principal(key_id="anonymous", name="anonymous")
"""The caller of a server started with ``no_auth``."""


@dataclass(frozen=True, slots=True)
class CallerKey:
    """The gateway key a request presents and the header it came in (``repr`` hides the key)."""

    value: str = field(repr=False)
    header: str


class Authenticator(Protocol):
    """Decides who a request is from. Implementations must not log or echo the key."""

    def claims(self, token: str) -> bool:
        """Whether a bearer token has this scheme's key format (then ``Authorization`` is no provider key)."""
        ...

    async def authenticate(self, headers: Mapping[str, str]) -> Principal:
        """The caller of a request with these headers; raise :class:`UnauthorizedError` if none."""
        ...


class NoAuth:
    """Every request is :data:`ANONYMOUS` (a loopback development server); claims no token."""

    def claims(self, token: str) -> bool:
        """Never: ``Authorization`` always carries a provider key."""
        return False

    async def authenticate(self, headers: Mapping[str, str]) -> Principal:
        """Return the anonymous principal."""
        return ANONYMOUS


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    value = headers.get("authorization")
    if not value or value[:7].lower() != _BEARER:
        return None
    token = value[7:].strip()
    return token or None


def caller_key(headers: Mapping[str, str], authenticator: Authenticator) -> CallerKey | None:
    """The gateway key presented (see the module docstring for the order), or None."""
    explicit = headers.get("x-portkey-api-key")
    if explicit:
        return CallerKey(explicit.strip(), "x-portkey-api-key")
    token = bearer_token(headers)
    if token is not None and authenticator.claims(token):
        return CallerKey(token, "authorization")
    api_key = headers.get("x-api-key")
    if api_key:
        return CallerKey(api_key.strip(), "x-api-key")
    return None


def provider_key(headers: Mapping[str, str], authenticator: Authenticator) -> str | None:
    """The provider key in ``Authorization``, unless that header carries the gateway key."""
    token = bearer_token(headers)
    if token is None:
        return None
    if headers.get("x-portkey-api-key") or not authenticator.claims(token):
        return token
    return None


def require_key(headers: Mapping[str, str], authenticator: Authenticator) -> CallerKey:
    """The presented gateway key, or an :class:`UnauthorizedError` naming where keys are read."""
    key = caller_key(headers, authenticator)
    if key is None:
        raise UnauthorizedError(
            "no gateway API key: send it in 'x-portkey-api-key', 'Authorization: Bearer <key>' or 'x-api-key'"
        )
    return key
