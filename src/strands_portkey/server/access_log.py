"""The server's access lines: one per request, with route, status, latency, cache status and cost.

Written to ``strands_portkey.server.access`` when ``STRANDS_PORTKEY_ACCESS_LOG=1`` (``serve
--access-log``); off by default, since it costs every request. The line is built from the request
line and Portkey's response headers only (``x-portkey-cache-status``, ``x-portkey-cost-usd``,
``x-portkey-trace-id``): never another header, a key, a query string or a body.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from starlette.types import Message, Receive, Scope, Send

from ..telemetry.logs import ACCESS_LOGGER

__all__ = ["ACCESS_LOG_ENV", "logged"]

ACCESS_LOG_ENV = "STRANDS_PORTKEY_ACCESS_LOG"

_PICKED = {
    b"x-portkey-cache-status": "cache_status",
    b"x-portkey-cost-usd": "cost_usd",
    b"x-portkey-trace-id": "portkey_trace_id",
}

ASGICall = Callable[[Scope, Receive, Send], Awaitable[None]]


async def logged(call: ASGICall, scope: Scope, receive: Receive, send: Send) -> None:
    """Run ``call`` for one HTTP request and write its access line when it ends (even on failure)."""
    started = time.perf_counter()
    fields: dict[str, object] = {
        "method": scope.get("method", ""),
        "route": scope.get("path", ""),
        "status": 0,
    }

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            fields["status"] = message["status"]
            for name, value in message.get("headers", ()):
                key = _PICKED.get(name.lower())
                if key is not None:
                    fields[key] = value.decode("latin-1")
        await send(message)

    try:
        await call(scope, receive, sending)
    finally:
        fields["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
        cost = fields.get("cost_usd")
        if isinstance(cost, str):
            try:
                fields["cost_usd"] = float(cost)
            except ValueError:
                fields.pop("cost_usd")
        logging.getLogger(ACCESS_LOGGER).info(
            "%s %s %s %.1fms cache=%s",
            fields["method"],
            fields["route"],
            fields["status"],
            fields["latency_ms"],
            fields.get("cache_status", "-"),
            extra=fields,
        )
