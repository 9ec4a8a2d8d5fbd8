"""Telemetry in the ecosystem's conventions: OpenTelemetry GenAI spans and metrics, Prometheus, logs.

``Gateway(telemetry=Telemetry(...))`` says how a gateway reports; by default it follows the
application's OpenTelemetry setup (a no-op until an SDK is installed) and keeps no Prometheus
counters. :func:`prometheus_registry` is for in-process users serving their own ``/metrics``.
"""

from .attempt import AttemptTrace
from .core import CAPTURE_CONTENT_ENV, Telemetry
from .prometheus import exposition, prometheus_available, prometheus_instruments, prometheus_registry
from .spans import RequestTrace

__all__ = [
    "CAPTURE_CONTENT_ENV",
    "AttemptTrace",
    "RequestTrace",
    "Telemetry",
    "exposition",
    "prometheus_available",
    "prometheus_instruments",
    "prometheus_registry",
]
