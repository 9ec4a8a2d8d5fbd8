"""Who calls an admin route, and whether they may: the :func:`current_caller` dependency.

Every admin route depends on it (the app adds it to all routes): it finds the route's rule in
:data:`~.roles.ROUTE_ROLES`, authenticates the gateway key the way the data plane does (the same
headers, the same :class:`~strands_portkey.server.auth.Authenticator`), and checks the role.
Handlers that need the caller declare ``caller: CallerDep``; FastAPI runs
the dependency once per request either way.

Without a key header, a dashboard session cookie (:mod:`.dashboard.session`) stands for its key;
a state-changing request then also needs the session's CSRF token.

A server started with ``no_auth`` (a loopback development server) treats every caller as an
admin acting as the local user (``STRANDS_PORTKEY_USER``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from starlette.requests import Request

from ...catalog.models import Actor, actor_from_env
from ...errors import ControlPlaneError, PermissionDeniedError
from ..auth import ANONYMOUS, NoAuth, Principal, caller_key
from ..state import ServerState, plain_headers
from .dashboard.session import require_csrf, session_of
from .roles import Role, role_of

__all__ = ["Caller", "CallerDep", "current_caller", "server_state"]

_log = logging.getLogger("strands_portkey.server.admin")


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller of an admin route (never the key itself).

    ``role`` is the key's role (``admin`` / ``member``), or ``public`` when a public route was
    called without a key. ``actor`` is the user and organization the service layer acts as.
    """

    principal: Principal
    role: Role
    actor: Actor

    @property
    def is_admin(self) -> bool:
        """Whether the caller may do everything."""
        return self.role == "admin"

    @property
    def user(self) -> str:
        """The calling user's id."""
        return self.actor.user


def server_state(request: Request) -> ServerState:
    """The server's state (shared with the data plane)."""
    state: ServerState = request.app.state.server
    return state


async def current_caller(request: Request) -> Caller:
    """The caller, after the route's rule allowed it (401 no key, 403 not an admin, 500 no rule)."""
    state = server_state(request)
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    needed = role_of(request.method, path) if isinstance(path, str) else None
    if needed is None:
        _log.error("admin route %s %s has no rule in ROUTE_ROLES: refused", request.method, path)
        raise ControlPlaneError("this route has no access rule; it is not served")
    headers = plain_headers(request)
    if isinstance(state.authenticator, NoAuth):
        return Caller(ANONYMOUS, "admin", actor_from_env(state.settings.env))
    no_key = caller_key(headers, state.authenticator) is None
    session = session_of(request, state) if no_key else None  # the dashboard's cookie
    if session is not None:
        if needed != "public":  # a public route needs no authority, and checks its own forms
            require_csrf(request, session)
        principal = session.principal
    elif needed == "public" and no_key:
        return Caller(ANONYMOUS, "public", actor_from_env({}))
    else:
        principal = await state.authenticator.authenticate(headers)
    caller = _caller_of(principal)
    if needed == "admin" and not caller.is_admin:
        _log.info("refused %s %s to member key %s: admin only", request.method, path, principal.key_id)
        raise PermissionDeniedError(f"{request.method} {path} needs a gateway key with the admin role")
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]
"""A handler's ``caller: CallerDep`` parameter: the caller, checked against the roles table."""


def _caller_of(principal: Principal) -> Caller:
    key = principal.key
    if key is None:  # a custom authenticator: its principal's ``role`` attribute, else member
        role: Role = "admin" if principal.attributes.get("role") == "admin" else "member"
        return Caller(principal, role, Actor(principal.key_id, principal.key_id))
    return Caller(principal, "admin" if key.is_admin else "member", key.actor)
