"""Admin routes read at most :data:`MAX_ADMIN_BODY` bytes of a body: a larger one answers 413.

FastAPI reads a request's whole body before validating it; a route class that reads it first,
counting, refuses an oversized one (by its ``Content-Length``, or while reading a chunked body)
before any of it is parsed or written anywhere. A router opts in with
``APIRouter(route_class=BoundedRoute)``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from ..errors import ServerInputError

__all__ = ["MAX_ADMIN_BODY", "BoundedRoute"]

MAX_ADMIN_BODY = 1024 * 1024
"""The largest admin request body (bytes); the server's own ``max_body_bytes`` when smaller."""

_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


def _limit(request: Request) -> int:
    server = getattr(request.app.state, "server", None)
    configured = getattr(getattr(server, "settings", None), "max_body_bytes", MAX_ADMIN_BODY)
    return min(MAX_ADMIN_BODY, configured)


def _too_large(limit: int) -> ServerInputError:
    return ServerInputError(f"the body is larger than {limit} bytes", path="body", status=413)


async def read_bounded(request: Request) -> None:
    """Read the body into the request (where FastAPI finds it), refusing more than the limit."""
    limit = _limit(request)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        parts.append(chunk)
    request._body = b"".join(parts)


class BoundedRoute(APIRoute):
    """An :class:`APIRoute` whose body is read with :func:`read_bounded` before FastAPI parses it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, after the bounded read."""
        handler = super().get_route_handler()

        async def bounded(request: Request) -> Response:
            if request.method in _WITH_BODY:
                await read_bounded(request)
            return await handler(request)

        return bounded
