"""The server as an application of OpenTelemetry: its SDK from ``OTEL_*``, the caller's trace continued.

``strands-portkey serve`` with ``OTEL_TRACES_EXPORTER=console`` prints its spans; a request that
carries a W3C ``traceparent`` must come out as spans of the caller's trace (the request span a child
of the caller's span), the upstream must receive a ``traceparent`` of that trace, and with
``--log-format json`` every line written inside the request carries its trace id. No secret in any.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scripted_upstream import ScriptedUpstream, ok  # scripts/ is on pytest's pythonpath
from tests.integ.test_server_process import HI, running_server

pytestmark = pytest.mark.integ

CANARY = "sk-canary-server-tracing-1212"
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


@pytest.fixture(scope="module")
def upstream() -> Iterator[ScriptedUpstream]:
    with ScriptedUpstream() as scripted:
        scripted.script("trace", "a", [ok()])
        yield scripted


def test_the_server_traces_into_the_callers_trace(tmp_path: Path, upstream: ScriptedUpstream) -> None:
    env = {"OTEL_TRACES_EXPORTER": "console", "OTEL_METRICS_EXPORTER": "none", "OTEL_SERVICE_NAME": "gw-test"}
    headers = {
        "x-portkey-provider": "openai",
        "x-portkey-custom-host": upstream.base_url("trace", "a"),
        "authorization": f"Bearer {CANARY}",
        "traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01",
    }
    with running_server(tmp_path / "home", ["--log-format", "json", "--access-log"], env=env) as server:
        response = httpx.post(
            f"{server.url}/v1/chat/completions", json={"model": "gpt-4o", "messages": HI}, headers=headers
        )
        assert response.status_code == 200, response.text
    log = server.log.read_text()
    assert response.headers["x-portkey-trace-id"] == CALLER_TRACE  # one id: ours is the trace's
    sent = upstream.calls()[-1].headers
    assert sent["traceparent"].split("-")[1] == CALLER_TRACE

    spans = [json.loads(chunk) for chunk in _json_objects(log) if '"context"' in chunk]
    request = next(span for span in spans if span["name"] == "strands_portkey.request")
    attempt = next(span for span in spans if span["name"] == "chat gpt-4o")
    assert request["context"]["trace_id"] == f"0x{CALLER_TRACE}"
    assert request["parent_id"] == f"0x{CALLER_SPAN}"
    assert attempt["parent_id"] == request["context"]["span_id"]
    assert attempt["kind"] == "SpanKind.CLIENT"
    assert attempt["resource"]["attributes"]["service.name"] == "gw-test"
    assert sent["traceparent"].split("-")[2] == attempt["context"]["span_id"].removeprefix("0x")

    access = [json.loads(line) for line in log.splitlines() if '"strands_portkey.server.access"' in line]
    chat = next(line for line in access if line["route"] == "/v1/chat/completions")
    assert chat["trace_id"] == CALLER_TRACE
    assert chat["status"] == 200
    assert CANARY not in log


def _json_objects(text: str) -> list[str]:
    """The multi-line JSON objects the console exporter prints (one per span), as strings."""
    objects, depth, start = [], 0, None
    for index, char in enumerate(text):
        if char == "{":
            if depth == 0:
                start = index
            depth += 1
        elif char == "}" and depth:
            depth -= 1
            if depth == 0 and start is not None:
                objects.append(text[start : index + 1])
    return objects
