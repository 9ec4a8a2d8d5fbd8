"""Oversized admin request bodies answer 413 before any handler reads them (nothing written).

Admin bodies are small JSON objects (a key's fields, a config), so the admin API takes at most
:data:`ADMIN_MAX_BODY_BYTES` (1 MiB, or the server's ``max_body_bytes`` when lower). A declared
``Content-Length`` over it is refused at once; a body without one is read up to the bound and
refused as soon as it passes it, then replayed to the app when it fits.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..dataplane.openai import json_response

__all__ = ["ADMIN_MAX_BODY_BYTES", "BodyLimit"]

ADMIN_MAX_BODY_BYTES = 1024 * 1024


def _too_large(limit: int) -> Response:
    body = {
        "error": {
            "message": f"body: the request body is larger than {limit} bytes",
            "type": "invalid_request_error",
            "param": "body",
            "code": None,
        }
    }
    return json_response(body, 413)


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` answers 413 (the app never sees it)."""

    def __init__(self, app: ASGIApp, max_bytes: int = ADMIN_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse an oversized body, else hand the buffered body to the app."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(self.max_bytes)(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # a disconnect: let the app see it
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _too_large(self.max_bytes)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
