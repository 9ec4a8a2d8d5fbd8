"""The admin API's error answers: the server's one table (tree -> HTTP), and input errors.

Every error body is the server's ``{"error": {"message", "type", "param", "code"}}`` with
``param`` the JSON path of the field at fault (``body.providers[1]``, ``query.limit``,
``path.id``). Pydantic's validation errors (unknown fields, wrong types, values out of range)
answer 400 like the library's own :class:`~strands_portkey.errors.InvalidRequestError`, not
FastAPI's 422, so both faces of one mistake answer alike. Unexpected exceptions answer a
generic 500 and are logged without their arguments.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ...errors import GatewayError, kind_of
from ..dataplane.openai import json_response
from ..errors import error_reply

__all__ = ["field_path", "install_error_handlers"]

_log = logging.getLogger("strands_portkey.server.admin")


def field_path(location: Sequence[Any]) -> str:
    """Pydantic's ``loc`` as a JSON path: ``("body", "providers", 1)`` -> ``body.providers[1]``."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _problem(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "this field is required"
    return str(error.get("msg", "invalid value"))


async def _validation(request: Request, exc: Exception) -> Response:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    first = errors[0] if errors else {}
    path = field_path(first.get("loc", ()))
    message = f"{path}: {_problem(first)}" if path else "the request is not valid"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more)"
    details = [{"param": field_path(e.get("loc", ())), "message": _problem(e)} for e in errors]
    body = {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": path or None,
            "code": None,
            "errors": details,
        }
    }
    return json_response(body, 400)


async def _gateway_error(request: Request, exc: Exception) -> Response:
    reply = error_reply(exc, "openai")
    body = {**reply.body, "error": {**reply.body["error"], "kind": kind_of(exc)}}
    wait = reply.headers.get("retry-after")
    if reply.status == 429 and wait is not None:  # the seed's clients read the wait from the body
        body["retryAfter"] = int(wait)
    return json_response(body, reply.status, dict(reply.headers))


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    kind = {404: "not_found_error", 405: "invalid_request_error"}.get(status, "api_error")
    message = {404: f"no route {request.url.path}", 405: f"{request.method} is not allowed here"}.get(
        status, str(getattr(exc, "detail", "")) or "the server failed to process the request"
    )
    headers = getattr(exc, "headers", None)
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return json_response(body, status, headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    _log.error("admin route %s %s failed: %s", request.method, request.url.path, type(exc).__name__)
    return json_response(
        {
            "error": {
                "message": "the server failed to process the request",
                "type": "api_error",
                "param": None,
                "code": None,
            }
        },
        500,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Route every error of ``app`` through the answers above."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(GatewayError, _gateway_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
