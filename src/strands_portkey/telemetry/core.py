"""``Telemetry``: a gateway's telemetry settings, and the one check every request makes.

OpenTelemetry is used through its API only: the application (or Strands' ``StrandsTelemetry``)
installs an SDK and exporters; until then the global providers are proxies and
:meth:`Telemetry.begin` returns None after two type checks, so a request pays well under a
microsecond (``benchmarks/telemetry.py``). Prometheus counters are opt-in (``prometheus=True``; the
server turns them on) and need the ``[prometheus]`` extra.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.trace import NoOpTracerProvider, ProxyTracerProvider, SpanKind

from .metrics import BoundedLabel, MetricSinks, OtelInstruments
from .names import NS, server_of
from .spans import CostFn, RequestTrace

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import Tracer, TracerProvider

__all__ = ["CAPTURE_CONTENT_ENV", "Telemetry"]

CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
"""``true``: attempt spans carry ``gen_ai.input.messages`` / ``gen_ai.output.messages`` (off by default)."""

_SCOPE = "strands_portkey"
_RECHECK_S = 1.0


def _noop_tracer_provider(provider: object) -> bool:
    return isinstance(provider, (ProxyTracerProvider, NoOpTracerProvider))


def _noop_meter_provider(provider: object) -> bool:
    return isinstance(provider, NoOpMeterProvider) or type(provider).__name__ == "_ProxyMeterProvider"


class Telemetry:
    """How a gateway reports what it does: spans, metrics, trace propagation, content capture.

    Args:
        tracer_provider: Where spans go (default: OpenTelemetry's global provider, as Strands uses).
        meter_provider: Where the ``gen_ai.client.*`` and ``strands_portkey.*`` metrics go
            (default: the global one).
        prometheus: Also count in ``prometheus_client`` (see :func:`prometheus_registry`).
        capture_content: Put prompts and answers on the attempt spans (default: the
            ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` environment variable, off).
        propagate: Send the W3C ``traceparent`` to upstreams (a target turns it off with
            ``"trace_propagation": false`` in its config).
        model_label_limit: Distinct model names kept as metric labels per process; later new
            names count as ``_other``.
        env: Where the capture variable is read (default ``os.environ``).
    """

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        prometheus: bool = False,
        capture_content: bool | None = None,
        propagate: bool = True,
        model_label_limit: int = 200,
        env: Mapping[str, str] | None = None,
    ) -> None:
        environ = os.environ if env is None else env
        self.capture_content = (
            capture_content
            if capture_content is not None
            else environ.get(CAPTURE_CONTENT_ENV, "").strip().lower() == "true"
        )
        self.propagate = propagate
        self._tracer_provider, self._meter_provider = tracer_provider, meter_provider
        self._traced: tuple[object, Tracer | None] = (None, None)  # (provider, tracer) last seen
        self._metered: tuple[object, MetricSinks | None] = (None, None)
        self._prometheus = None
        if prometheus:
            from .prometheus import prometheus_instruments

            self._prometheus = prometheus_instruments()
        self._models = BoundedLabel(model_label_limit)
        self._servers: dict[str, tuple[str, int] | None] = {}  # base URL -> server (configs have few)
        self._listening: tuple[Tracer | None, MetricSinks | None] = (None, None)
        self._recheck_at = float("-inf")  # when to look at the global providers again

    def __repr__(self) -> str:
        return (
            f"Telemetry(prometheus={self._prometheus is not None}, capture_content={self.capture_content}, "
            f"propagate={self.propagate})"
        )

    def _tracer(self) -> Tracer | None:
        provider = self._tracer_provider or trace.get_tracer_provider()
        seen, tracer = self._traced
        if provider is not seen:  # a provider installed (or replaced) since the last request
            tracer = None if _noop_tracer_provider(provider) else provider.get_tracer(_SCOPE)
            self._traced = (provider, tracer)
        return tracer

    def _metric_sinks(self) -> MetricSinks | None:
        provider = self._meter_provider or metrics.get_meter_provider()
        seen, sinks = self._metered
        if provider is not seen:  # a provider installed (or replaced) since the last request
            otel = None if _noop_meter_provider(provider) else OtelInstruments(provider.get_meter(_SCOPE))
            sinks = MetricSinks(otel, self._prometheus) if otel or self._prometheus else None
            self._metered = (provider, sinks)
        return sinks

    def _listeners(self) -> tuple[Tracer | None, MetricSinks | None]:
        """The tracer and metric sinks in force, the global providers looked at once a second.

        Reading them costs about 1 us a request (each lookup consults the environment); a provider
        the application installs later is picked up within a second.
        """
        now = time.monotonic()
        if now >= self._recheck_at:
            self._recheck_at = now + _RECHECK_S
            self._listening = (self._tracer(), self._metric_sinks())
        return self._listening

    def continue_incoming(self, headers: Iterable[tuple[bytes, bytes]]) -> object | None:
        """Make the caller's W3C ``traceparent`` (an ASGI request's headers) the current context.

        Returns the token to give :meth:`end_incoming`, or None when tracing is off or the
        request carries no trace context (then nothing was changed).
        """
        if self._listeners()[0] is None:
            return None
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in headers
            if name in (b"traceparent", b"tracestate")
        }
        if "traceparent" not in carrier:
            return None
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        return otel_context.attach(TraceContextTextMapPropagator().extract(carrier))

    @staticmethod
    def end_incoming(token: object) -> None:
        """Restore the context :meth:`continue_incoming` replaced."""
        otel_context.detach(token)  # type: ignore[arg-type]

    def _server_of(self, base_url: str) -> tuple[str, int] | None:
        """``server_of`` memoised (parsing a URL costs ~2 us); bounded, a config has few base URLs."""
        try:
            return self._servers[base_url]
        except KeyError:
            found = server_of(base_url)
            if len(self._servers) < 1024:
                self._servers[base_url] = found
            return found

    def begin(
        self,
        operation: str,
        model: str,
        *,
        strategy: str,
        genai_usage: bool = True,
        cost: CostFn | None = None,
        clock: Callable[[], float] = time.perf_counter,
        server: bool = False,
    ) -> RequestTrace | None:
        """The telemetry of one request, or None when nothing listens (no SDK, no Prometheus).

        The request span is a child of the current context (Strands' ``chat`` span under an
        agent; the caller's ``traceparent`` on the server). ``cost`` prices the usage in USD
        (the gateway's control-plane rates); ``genai_usage=False`` when the caller's own GenAI
        span carries the usage (see :mod:`.spans`).
        """
        tracer, sinks = self._listeners()
        if tracer is None and sinks is None:
            return None
        span = None
        if tracer is not None:
            attributes: dict[str, Any] = {
                f"{NS}.operation": operation,
                f"{NS}.request.model": model,
                f"{NS}.config.strategy": strategy,
            }
            kind = SpanKind.SERVER if server else SpanKind.INTERNAL
            span = tracer.start_span(f"{NS}.request", kind=kind, attributes=attributes)
        return RequestTrace(
            tracer=tracer,
            span=span,
            sinks=sinks,
            operation=operation,
            model=model,
            clock=clock,
            bound_model=self._models,
            capture=self.capture_content and tracer is not None,
            genai_usage=genai_usage,
            cost=cost,
            propagate=self.propagate,
            servers=self._server_of,
        )
