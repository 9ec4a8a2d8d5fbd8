"""JSON log lines with trace and span ids, and the server's access lines (no secrets in either)."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from strands_portkey.server.app import create_app
from strands_portkey.server.settings import ServerSettings
from strands_portkey.telemetry.logs import ACCESS_LOGGER, JsonFormatter, TextFormatter, configure_logging
from tests.unit.conftest import completion
from tests.unit.server.conftest import HI, client, public_resolver
from tests.unit.telemetry.conftest import Spans

CANARY = "sk-canary-logs-3030"


def record(message: str, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("strands_portkey.gateway", logging.WARNING, __file__, 1, message, (), None)
    made.__dict__.update(extra)
    return made


def test_json_lines_carry_the_current_trace_and_span_ids(spans: Spans) -> None:
    outside = json.loads(JsonFormatter().format(record("no trace")))
    assert outside["trace_id"] is None
    assert outside["span_id"] is None
    assert outside["logger"] == "strands_portkey.gateway"
    assert outside["level"] == "WARNING"
    tracer = spans.provider.get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        inside = json.loads(JsonFormatter().format(record("in a trace", route="/v1/chat/completions")))
        text = TextFormatter().format(record("in a trace"))
    context = span.get_span_context()
    assert inside["trace_id"] == f"{context.trace_id:032x}"
    assert inside["span_id"] == f"{context.span_id:016x}"
    assert inside["route"] == "/v1/chat/completions"
    assert f"trace_id={context.trace_id:032x}" in text


def test_an_exception_is_logged_by_type_only() -> None:
    try:
        raise ValueError(f"bad key {CANARY}")
    except ValueError:
        import sys

        made = logging.LogRecord(
            "strands_portkey.x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    line = JsonFormatter().format(made)
    assert json.loads(line)["exception"] == "ValueError"
    assert CANARY not in line


def test_configure_logging_refuses_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="'text' or 'json'"):
        configure_logging("xml")


async def test_access_lines_say_route_status_latency_and_cache_and_nothing_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = ServerSettings(
        env={"STRANDS_PORTKEY_HOME": "/nonexistent/strands-portkey-unit-home"},
        open_store=False,
        upstream_transport=httpx.MockTransport(lambda r: httpx.Response(200, json=completion("hi"))),
        resolver=public_resolver,
        access_log=True,
    )
    app = create_app(settings, no_auth=True)
    headers = {
        "x-portkey-provider": "openai",
        "authorization": f"Bearer {CANARY}",
        "x-portkey-trace-id": "t-9",
    }
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        async with client(app) as c:
            await c.post(
                "/v1/chat/completions?key=" + CANARY,
                json={"model": "gpt-4o", "messages": HI},
                headers=headers,
            )
            await c.get("/nope")
    lines = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    assert len(lines) == 2
    chat, missing = lines
    assert (chat.route, chat.status, chat.method) == ("/v1/chat/completions", 200, "POST")  # type: ignore[attr-defined]
    assert chat.cache_status == "DISABLED"  # type: ignore[attr-defined]
    assert chat.portkey_trace_id == "t-9"  # type: ignore[attr-defined]
    assert chat.latency_ms >= 0  # type: ignore[attr-defined]
    assert missing.status == 404  # type: ignore[attr-defined]
    rendered = "\n".join(JsonFormatter().format(r) for r in lines)
    assert CANARY not in rendered
    assert CANARY not in caplog.text
