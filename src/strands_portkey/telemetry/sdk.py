"""The server's OpenTelemetry SDK, set up from the standard ``OTEL_*`` environment variables.

A library never installs an SDK (the application does: Strands' ``StrandsTelemetry``, its own
code, ``opentelemetry-instrument``). The server *is* the application, so each worker installs one
when the environment asks for an exporter: ``OTEL_TRACES_EXPORTER`` / ``OTEL_METRICS_EXPORTER``
(``otlp`` or ``console``; ``none`` for neither), or an ``OTEL_EXPORTER_OTLP_*ENDPOINT`` (OTLP over
HTTP, the ``[otel]`` extra). The exporters read their own variables (endpoint, headers, timeouts),
and the resource ``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES`` (service name default:
``strands-portkey``). ``OTEL_SDK_DISABLED=true`` turns it all off.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider

__all__ = ["install_sdk_from_env", "sdk_from_env"]

_log = logging.getLogger("strands_portkey.telemetry")
_ENDPOINTS = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
)


def _exporter(env: Mapping[str, str], signal: str) -> str | None:
    """``otlp``, ``console`` or None for ``signal`` (``traces`` / ``metrics``), as the environment says."""
    named = env.get(f"OTEL_{signal.upper()}_EXPORTER", "").strip().lower()
    if named:
        return None if named == "none" else named.split(",")[0].strip()
    return "otlp" if any(env.get(name, "").strip() for name in _ENDPOINTS) else None


def sdk_from_env(env: Mapping[str, str]) -> tuple[TracerProvider | None, MeterProvider | None]:
    """A tracer provider and a meter provider with the exporters ``env`` names (None where none).

    Raises ImportError when an exporter is asked for and the SDK (``[otel]``) is not installed.
    """
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None, None
    traces, metrics = _exporter(env, "traces"), _exporter(env, "metrics")
    if traces is None and metrics is None:
        return None, None
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource

    resource = Resource.create({SERVICE_NAME: env.get("OTEL_SERVICE_NAME", "").strip() or "strands-portkey"})
    tracer_provider = _tracer_provider(traces, resource) if traces else None
    meter_provider = _meter_provider(metrics, resource) if metrics else None
    return tracer_provider, meter_provider


def _tracer_provider(kind: str, resource: object) -> TracerProvider:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

    provider = TracerProvider(resource=resource)  # type: ignore[arg-type]
    if kind == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def _meter_provider(kind: str, resource: object) -> MeterProvider:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, PeriodicExportingMetricReader

    if kind == "console":
        reader = PeriodicExportingMetricReader(ConsoleMetricExporter())
    else:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        reader = PeriodicExportingMetricReader(OTLPMetricExporter())
    return MeterProvider(resource=resource, metric_readers=[reader])  # type: ignore[arg-type]


def install_sdk_from_env(env: Mapping[str, str]) -> bool:
    """Install :func:`sdk_from_env`'s providers as OpenTelemetry's global ones (once per process).

    True when something was installed; a missing SDK is logged, not raised (the server still runs).
    """
    from opentelemetry import metrics, trace

    try:
        tracer_provider, meter_provider = sdk_from_env(env)
    except ImportError:
        _log.warning("OTEL_* exporters are set but the OpenTelemetry SDK is not installed (the [otel] extra)")
        return False
    if tracer_provider is not None:
        trace.set_tracer_provider(tracer_provider)
    if meter_provider is not None:
        metrics.set_meter_provider(meter_provider)
    return tracer_provider is not None or meter_provider is not None
