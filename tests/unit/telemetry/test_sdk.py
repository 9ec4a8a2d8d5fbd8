"""The server's SDK from the ``OTEL_*`` variables: which exporters, none unless asked, disabled."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider

from strands_portkey.telemetry.sdk import sdk_from_env


@pytest.mark.parametrize(
    "env",
    [{}, {"OTEL_TRACES_EXPORTER": "none"}, {"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "console"}],
)
def test_no_sdk_unless_an_exporter_is_asked_for(env: dict[str, str]) -> None:
    assert sdk_from_env(env) == (None, None)


def test_console_traces_only() -> None:
    traces, metrics = sdk_from_env({"OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "gw-1"})
    assert isinstance(traces, TracerProvider)
    assert metrics is None
    assert traces.resource.attributes["service.name"] == "gw-1"
    traces.shutdown()


def test_an_otlp_endpoint_turns_on_traces_and_metrics_with_a_default_service_name() -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_METRICS_EXPORTER": "console"}
    traces, metrics = sdk_from_env(env)  # traces over OTLP (nothing is sent: no span ends here)
    assert isinstance(traces, TracerProvider)
    assert isinstance(metrics, MeterProvider)
    assert traces.resource.attributes["service.name"] == "strands-portkey"
    traces.shutdown()
    metrics.shutdown()
