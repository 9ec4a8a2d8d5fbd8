"""Dashboard sessions: signed cookies that name a gateway key without holding it.

Signing in checks a gateway key once, then sets ``spk_session``: ``payload.signature`` where the
payload is the key's id, a fingerprint of its current secret (8 bytes of the store's HMAC digest,
which reveals nothing of the key), the expiry and a nonce, and the signature an HMAC-SHA256 under
a key derived from the master key (so every worker of a deployment accepts it, and a master-key
rotation ends all sessions). Every request re-checks the key in the in-memory snapshot: a revoked,
expired, rotated or deleted key ends the session within a second.

The cookie is ``HttpOnly``, ``SameSite=Strict``, ``Path=/``, and ``Secure`` over https (also
behind a proxy that ends TLS and says so in ``x-forwarded-proto``). Requests
that change state with a session (anything but GET/HEAD) must also send the session's CSRF token
(``x-csrf-token`` header, or a ``csrf`` form field) and, when the browser sends one, an ``Origin``
equal to the server's own: a cookie alone never authorises a change.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from ....errors import PermissionDeniedError
from ...auth import Principal
from ...gateway_keys import ADMIN_KEY_ENV, ADMIN_KEY_ID, GatewayKeyAuth

if TYPE_CHECKING:
    from ...state import ServerState

__all__ = [
    "COOKIE",
    "SESSION_SECONDS",
    "Session",
    "SessionKeys",
    "clear_cookie",
    "csrf_ok",
    "open_session",
    "require_csrf",
    "same_origin",
    "session_of",
    "set_cookie",
]

COOKIE = "spk_session"
SESSION_SECONDS = 12 * 3600
_PURPOSE = "dashboard sessions"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Session:
    """A verified session: the key's principal, the cookie's payload and its CSRF token."""

    principal: Principal
    payload: str
    csrf: str
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionKeys:
    """Signs and checks session tokens for one server (``secret`` from the master key)."""

    def __init__(self, secret: bytes, clock: Callable[[], float] = time.time) -> None:
        self._secret, self._clock = secret, clock

    def _mac(self, purpose: str, payload: str) -> str:
        return _b64(hmac.new(self._secret, f"{purpose}|{payload}".encode(), hashlib.sha256).digest())

    def token(self, key_id: str, fingerprint: str, seconds: int = SESSION_SECONDS) -> str:
        """A new session token for key ``key_id`` (its secret's ``fingerprint``)."""
        expires = int(self._clock()) + seconds
        payload = _b64(f"{key_id}|{fingerprint}|{expires}|{secrets.token_hex(8)}".encode())
        return f"{payload}.{self._mac('session', payload)}"

    def read(self, token: str) -> tuple[str, str, int, str] | None:
        """``(key_id, fingerprint, expires, payload)`` of a genuine, unexpired token; else None."""
        payload, _, signature = token.partition(".")
        if not signature or not hmac.compare_digest(signature, self._mac("session", payload)):
            return None
        try:
            key_id, fingerprint, expires, _nonce = _unb64(payload).decode().split("|")
            expires_at = int(expires)
        except (ValueError, UnicodeDecodeError):
            return None
        if expires_at <= self._clock():
            return None
        return key_id, fingerprint, expires_at, payload

    def csrf(self, payload: str) -> str:
        """The CSRF token of a session (derived, so nothing is stored)."""
        return self._mac("csrf", payload)[:32]

    def fingerprint(self, value: str) -> str:
        """A fingerprint of a secret this server holds (the environment's admin key)."""
        return self._mac("admin-key", value)[:16]


def session_keys(state: ServerState) -> SessionKeys | None:
    """The server's session signer, when it has gateway keys and a master key (else None)."""
    plane = state.plane
    if plane is None or not isinstance(state.authenticator, GatewayKeyAuth):
        return None
    return SessionKeys(plane.keyring.primary.derive(_PURPOSE))


def _current(state: ServerState, keys: SessionKeys, key_id: str) -> tuple[Principal, str] | None:
    """The key's principal and its current fingerprint, if it still works."""
    auth = state.authenticator
    if not isinstance(auth, GatewayKeyAuth):
        return None
    if key_id == ADMIN_KEY_ID:
        value = state.settings.env.get(ADMIN_KEY_ENV, "").strip()
        if not value:
            return None
        return auth.admin_principal, keys.fingerprint(value)
    found = auth.api_keys.active(key_id)
    if found is None:
        return None
    return auth.principal_of(found[0]), found[1]


async def open_session(state: ServerState, key: str) -> tuple[Principal, str] | None:
    """Check ``key`` as the data plane would; the principal and a session token, or None."""
    keys = session_keys(state)
    if keys is None:
        return None
    principal = await state.authenticator.authenticate({"x-portkey-api-key": key})
    current = _current(state, keys, principal.key_id)
    if current is None:
        return None
    return principal, keys.token(principal.key_id, current[1])


def session_of(request: Request, state: ServerState) -> Session | None:
    """The request's session, if its cookie is genuine and its key still works (else None)."""
    token = request.cookies.get(COOKIE)
    keys = session_keys(state) if token else None
    read = keys.read(token) if keys is not None and token else None
    if keys is None or read is None:
        return None
    key_id, fingerprint, expires_at, payload = read
    current = _current(state, keys, key_id)
    if current is None or not hmac.compare_digest(current[1], fingerprint):
        return None
    return Session(current[0], payload, keys.csrf(payload), expires_at)


def same_origin(request: Request) -> bool:
    """No ``Origin`` header (not a browser's cross-site request), or one naming this server's host.

    The host and port are compared, not the scheme: behind a proxy that ends TLS the server sees
    ``http`` while the browser says ``https``, and another site cannot borrow this host either way.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return origin.partition("://")[2].rstrip("/") == request.url.netloc


def csrf_ok(request: Request, session: Session, form_token: str | None = None) -> bool:
    """Whether a state-changing request carries the session's CSRF token and a same origin."""
    if request.method in _SAFE:
        return True
    sent = request.headers.get("x-csrf-token") or form_token or ""
    return same_origin(request) and hmac.compare_digest(sent, session.csrf)


def require_csrf(request: Request, session: Session) -> None:
    """Refuse (403) a state-changing request made with a session but without its CSRF token."""
    if not csrf_ok(request, session):
        raise PermissionDeniedError(
            f"{request.method} {request.url.path} with a dashboard session needs its CSRF token "
            "(x-csrf-token) from the same origin"
        )


def _https(request: Request) -> bool:
    """Served over https: directly, or behind a proxy that ended TLS (``x-forwarded-proto``)."""
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


def set_cookie(response: Response, request: Request, token: str) -> None:
    """Set the session cookie (HttpOnly, SameSite=Strict, Secure over https)."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=SESSION_SECONDS,
        path="/",
        httponly=True,
        samesite="strict",
        secure=_https(request),
    )


def clear_cookie(response: Response, request: Request) -> None:
    """Remove the session cookie."""
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=_https(request))
