"""The dashboard's pages under ``/ui``, its sign-in and sign-out, and its static files.

Every page is the same HTML shell (``static/app.html``); the page's script draws what the path
names and reads its data from the admin API with the session cookie. Pages are public routes
that answer a redirect to ``/ui/login`` to a caller without a session (or key); a server started
with ``no_auth`` needs no sign-in. Static files are served from a list made of the ``static/``
directory at start (no path walking), with a Content-Security-Policy that allows only this origin.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from ....errors import GatewayError
from ..caller import Caller, CallerDep, server_state
from .session import clear_cookie, csrf_ok, open_session, same_origin, session_keys, session_of, set_cookie

__all__ = ["PAGES", "router"]

_log = logging.getLogger("strands_portkey.server.admin")
STATIC = Path(__file__).parent / "static"
PAGES = ("overview", "requests", "providers", "models", "configs")
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
}
_SECURITY = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}
_MAX_FORM = 4096


def _assets() -> dict[str, Path]:
    """Every file under ``static/`` by its relative path (listed once per app: nothing else is served)."""
    return {
        p.relative_to(STATIC).as_posix(): p for p in STATIC.rglob("*") if p.is_file() and p.suffix in _TYPES
    }


def _file(assets: dict[str, Path], name: str, cache_seconds: int = 0) -> Response:
    path = assets.get(name)
    if path is None:
        raise HTTPException(404)
    headers = dict(_SECURITY)
    if cache_seconds:
        headers["cache-control"] = f"max-age={cache_seconds}"
    return FileResponse(path, media_type=_TYPES[path.suffix], headers=headers)


def _to_login(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/ui/login?next={quote(request.url.path, safe='/')}", status_code=303)


def _page(assets: dict[str, Path], request: Request, caller: Caller) -> Response:
    if caller.role == "public":
        return _to_login(request)
    return _file(assets, "app.html")


def _next_page(value: str | None) -> str:
    """Where to go after signing in: a dashboard path only (no open redirect)."""
    if value and value.startswith("/ui/") and "//" not in value and "\\" not in value:
        return value
    return "/ui/overview"


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > _MAX_FORM:
        return {}
    return {name: values[0] for name, values in parse_qs(body.decode(errors="replace")).items()}


def _login_failed(reason: str, target: str) -> RedirectResponse:
    return RedirectResponse(f"/ui/login?error={reason}&next={quote(target, safe='/')}", status_code=303)


def router() -> APIRouter:
    """The dashboard's pages, session routes and static files."""
    r = APIRouter(include_in_schema=False)
    assets = _assets()

    @r.get("/ui")
    def home() -> Response:
        return RedirectResponse("/ui/overview", status_code=303)

    @r.get("/ui/login")
    def login_page(request: Request, caller: CallerDep) -> Response:
        if caller.role != "public":
            return RedirectResponse(_next_page(request.query_params.get("next")), status_code=303)
        return _file(assets, "login.html")

    @r.post("/ui/login")
    async def login(request: Request) -> Response:
        form = await _form(request)
        target = _next_page(form.get("next"))
        state = server_state(request)
        if not same_origin(request):
            return _login_failed("origin", target)
        if session_keys(state) is None:
            return _login_failed("unsupported", target)
        key = form.get("key", "").strip()
        try:
            opened = await open_session(state, key) if key else None
        except GatewayError:
            opened = None
        if opened is None:
            _log.info("dashboard sign-in refused")
            return _login_failed("invalid", target)
        principal, token = opened
        _log.info("dashboard sign-in with key %s", principal.key_id)
        response = RedirectResponse(target, status_code=303)
        set_cookie(response, request, token)
        return response

    @r.post("/ui/logout")
    async def logout(request: Request) -> Response:
        session = session_of(request, server_state(request))
        form = await _form(request)
        if session is not None and not csrf_ok(request, session, form.get("csrf")):
            raise HTTPException(403, "sign-out needs the session's CSRF token")
        response = RedirectResponse("/ui/login?signed_out=1", status_code=303)
        clear_cookie(response, request)
        return response

    @r.get("/ui/session")
    def who(request: Request, caller: CallerDep) -> dict[str, Any]:
        session = session_of(request, server_state(request))
        return {
            "keyId": caller.principal.key_id,
            "name": caller.principal.name,
            "user": caller.actor.user,
            "organizationId": caller.actor.organization_id,
            "role": caller.role,
            "csrf": session.csrf if session is not None else None,
            "expiresAt": session.expires_at if session is not None else None,
        }

    @r.get("/ui/static/{name:path}")
    def static(name: str) -> Response:
        return _file(assets, name, cache_seconds=300)

    @r.get("/ui/requests/{request_id}")
    def request_page(request_id: str, request: Request, caller: CallerDep) -> Response:
        return _page(assets, request, caller)

    for page in PAGES:

        def show(request: Request, caller: CallerDep) -> Response:
            return _page(assets, request, caller)

        r.add_api_route(f"/ui/{page}", show, methods=["GET"], name=f"ui_{page}")
    return r
