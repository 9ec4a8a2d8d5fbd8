"""The server's Starlette app, with its plain routes dispatched directly on the hot path.

Starlette sends every request through its error middleware, its exception middleware, the
router's walk over every route (with a regex match each) and a per-request exception wrapper:
some 15-30 µs a request at the server's scale, where the data plane's own handlers catch their
errors already. :class:`ServerApp` looks a request's ``(method, path)`` up in a table built once
and calls the endpoint itself, answering an unexpected exception with the app's 500 handler and
re-raising it (as Starlette's error middleware does). The table holds only what the router would
pick the same way: plain function endpoints of :class:`~starlette.routing.Route` without path
parameters, that no earlier route (a mount, a host, a parameterised path) could match first.
Everything else (other methods, 404 / 405, lifespan, an app with user middleware or a
``root_path``) goes through Starlette unchanged.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Message, Receive, Scope, Send

from .access_log import logged

__all__ = ["ServerApp", "direct_routes"]

Endpoint = Callable[[Request], Awaitable[Response]]
ErrorHandler = Callable[[Request, Exception], Awaitable[Response]]


def _first_match(routes: Sequence[BaseRoute], method: str, path: str) -> BaseRoute | None:
    """The route Starlette's router would call for ``method path``, or None (404 / 405)."""
    scope: dict[str, Any] = {"type": "http", "method": method, "path": path, "root_path": ""}
    for route in routes:
        if not isinstance(route, Route):
            return None  # a mount or host may match on more than the path: leave it to the router
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
    return None


def direct_routes(routes: Sequence[BaseRoute]) -> dict[tuple[str, str], Endpoint]:
    """``(method, path) -> endpoint`` for the routes the router would pick for exactly that request."""
    table: dict[tuple[str, str], Endpoint] = {}
    for route in routes:
        if not isinstance(route, Route) or route.param_convertors or not route.methods:
            continue
        if not inspect.iscoroutinefunction(route.endpoint):
            continue
        for method in route.methods:
            if (method, route.path) not in table and _first_match(routes, method, route.path) is route:
                table[(method, route.path)] = route.endpoint
    return table


class ServerApp(Starlette):
    """Starlette with a direct dispatch for plain routes (see the module docstring)."""

    def __init__(self, *, error_handler: ErrorHandler, **kwargs: Any) -> None:
        """``error_handler`` answers ``HTTPException`` and every unexpected exception (with its 500)."""
        handlers = {HTTPException: error_handler, Exception: error_handler}
        super().__init__(exception_handlers=handlers, **kwargs)
        self._direct = direct_routes(self.router.routes)
        self._error_handler = error_handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A plain route's request straight to its endpoint; anything else through Starlette.

        A request's W3C ``traceparent`` is continued: the gateway's spans join the caller's trace;
        with ``STRANDS_PORTKEY_ACCESS_LOG=1`` each request writes an access line (see :mod:`.access_log`).
        """
        server = getattr(self.state, "server", None)
        telemetry = getattr(server, "telemetry", None)
        http = scope["type"] == "http"
        token = telemetry.continue_incoming(scope["headers"]) if telemetry and http else None
        try:
            if http and server is not None and server.settings.access_log:
                await logged(self._dispatch, scope, receive, send)
            else:
                await self._dispatch(scope, receive, send)
        finally:
            if token is not None and telemetry is not None:
                telemetry.end_incoming(token)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.user_middleware and not scope.get("root_path"):
            endpoint = self._direct.get((scope["method"], scope["path"]))
            if endpoint is not None:
                scope["app"] = self
                await self._call(endpoint, scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    async def _call(self, endpoint: Endpoint, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        request = Request(scope, receive, send)
        try:
            response = await endpoint(request)
            await response(scope, receive, sending)
        except Exception as error:
            if started:
                raise
            answer = await self._error_handler(request, error)
            await answer(scope, receive, send)
            if not isinstance(error, HTTPException):
                raise  # as Starlette's error middleware does: the server logs it
