"""Logs: one logger tree (``strands_portkey.*``), a JSON line format, and the server's access lines.

Every module logs under ``strands_portkey.<package>``; an application configures that one tree.
:class:`JsonFormatter` writes one JSON object per line with the OpenTelemetry ``trace_id`` and
``span_id`` current when the line was written (null outside a trace), so a log backend joins lines
to traces. Access lines (logger ``strands_portkey.server.access``) carry the route, status,
latency, cache status, cost and our trace id: never a header value, a key or a body.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from opentelemetry import trace

__all__ = [
    "ACCESS_FIELDS",
    "ACCESS_LOGGER",
    "LOGGER_ROOT",
    "JsonFormatter",
    "TextFormatter",
    "configure_logging",
]

LOGGER_ROOT = "strands_portkey"
ACCESS_LOGGER = "strands_portkey.server.access"
ACCESS_FIELDS = ("method", "route", "status", "latency_ms", "cache_status", "cost_usd", "portkey_trace_id")
"""What an access line carries (as ``extra`` on the log record)."""


def _ids() -> tuple[str | None, str | None]:
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None, None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, trace and span ids, access fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON line (an exception as its type only: messages may quote input)."""
        trace_id, span_id = _ids()
        out: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "trace_id": trace_id,
            "span_id": span_id,
        }
        for name in ACCESS_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                out[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            out["exception"] = record.exc_info[0].__name__
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Plain lines with the trace id appended when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The usual line, then `` trace_id=...`` inside a trace."""
        line = super().format(record)
        trace_id, span_id = _ids()
        return line if trace_id is None else f"{line} trace_id={trace_id} span_id={span_id}"


def configure_logging(log_format: str = "text", level: str = "info") -> None:
    """Send the ``strands_portkey`` tree and uvicorn's loggers to stderr, as JSON or text lines.

    Called by each server worker (``strands-portkey serve --log-format json``); an application
    embedding the library configures logging itself instead.
    """
    if log_format not in ("text", "json"):
        raise ValueError(f"log format must be 'text' or 'json', got {log_format!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    for name in (LOGGER_ROOT, "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    # access lines are asked for by name (``--access-log``): written whatever the level
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO)
