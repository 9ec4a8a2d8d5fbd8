"""The metrics a request records: the GenAI client metrics and the gateway's own, in one place.

Two sinks take the same measurements: OpenTelemetry instruments (from the application's
``MeterProvider``; nothing is created while none is set) and Prometheus instruments (when asked
for, see :mod:`.prometheus`). Every label is bounded: provider, model (capped per process by
:class:`BoundedLabel`), option path (a config has few), status class, cache status, error type;
never a user, key or trace id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .names import DURATION_BUCKETS, NS, TOKEN_BUCKETS

if TYPE_CHECKING:
    from opentelemetry.metrics import Meter

    from .prometheus import PrometheusInstruments

__all__ = ["AttemptMeasure", "BoundedLabel", "MetricSinks", "OtelInstruments", "RequestMeasure"]

OTHER = "_other"


class BoundedLabel:
    """The first ``limit`` distinct values pass as they are; later new ones become ``_other``.

    A model name comes from the caller: without a cap, a client sending random names would make
    every Prometheus series and OTel attribute set unbounded.
    """

    __slots__ = ("_limit", "_seen")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._seen: set[str] = set()

    def __call__(self, value: str) -> str:
        """``value`` if it was seen before or there is room, else ``_other``."""
        if value in self._seen:
            return value
        if len(self._seen) >= self._limit:
            return OTHER
        self._seen.add(value)
        return value


class AttemptMeasure:
    """One provider attempt, as the ``gen_ai.client.*`` metrics need it."""

    __slots__ = (
        "attributes",
        "duration_s",
        "error_type",
        "input_tokens",
        "labels",
        "output_tokens",
        "ttfc_s",
    )

    def __init__(
        self, attributes: Mapping[str, Any], labels: tuple[str, str, str], duration_s: float
    ) -> None:
        self.attributes = attributes  # the OpenTelemetry attributes
        self.labels = labels  # (operation, provider, request model): Prometheus' label values
        self.duration_s = duration_s
        self.error_type = ""
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.ttfc_s: float | None = None


class RequestMeasure:
    """One gateway request, as the ``strands_portkey.*`` metrics need it (label values bounded)."""

    __slots__ = (
        "cache_status",
        "cost_usd",
        "guardrails",
        "model",
        "option_path",
        "provider",
        "rescued",
        "retries",
        "status_class",
    )

    def __init__(self, *, provider: str, model: str, option_path: str, status_class: str) -> None:
        self.provider, self.model, self.option_path, self.status_class = (
            provider,
            model,
            option_path,
            status_class,
        )
        self.cache_status = "DISABLED"
        self.retries = 0
        self.rescued = False
        self.cost_usd: float | None = None
        self.guardrails: list[tuple[str, str]] = []  # (event, outcome) per hook run


class OtelInstruments:
    """The OpenTelemetry instruments of one ``Meter`` (created once per meter provider)."""

    def __init__(self, meter: Meter) -> None:
        self.duration = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.tokens = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=TOKEN_BUCKETS,
        )
        self.ttfc = meter.create_histogram(
            "gen_ai.client.operation.time_to_first_chunk",
            unit="s",
            description="Time to receive the first chunk of a streamed response.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.requests = meter.create_counter(
            f"{NS}.requests", unit="{request}", description="Gateway requests."
        )
        self.rescues = meter.create_counter(
            f"{NS}.fallback.rescues", unit="{request}", description="Requests a fallback target answered."
        )
        self.retries = meter.create_counter(f"{NS}.retries", unit="{retry}", description="Retries made.")
        self.cache = meter.create_counter(
            f"{NS}.cache.lookups", unit="{lookup}", description="Cache lookups."
        )
        self.cost = meter.create_counter(f"{NS}.cost", unit="USD", description="Cost at the model rates.")
        self.guardrails = meter.create_counter(
            f"{NS}.guardrail.verdicts", unit="{hook}", description="Guardrail hooks run, by outcome."
        )

    def attempt(self, measure: AttemptMeasure) -> None:
        """Record one provider attempt."""
        attributes = measure.attributes
        self.duration.record(measure.duration_s, attributes)
        if measure.ttfc_s is not None:
            self.ttfc.record(measure.ttfc_s, attributes)
        if measure.input_tokens is not None:
            self.tokens.record(measure.input_tokens, {**attributes, "gen_ai.token.type": "input"})
        if measure.output_tokens is not None:
            self.tokens.record(measure.output_tokens, {**attributes, "gen_ai.token.type": "output"})

    def request(self, measure: RequestMeasure) -> None:
        """Record one gateway request."""
        labels = {
            "gen_ai.provider.name": measure.provider,
            "gen_ai.request.model": measure.model,
            f"{NS}.option_path": measure.option_path,
            f"{NS}.status_class": measure.status_class,
            f"{NS}.cache_status": measure.cache_status,
        }
        self.requests.add(1, labels)
        if measure.rescued:
            self.rescues.add(1, {f"{NS}.option_path": measure.option_path})
        if measure.retries > 0:
            self.retries.add(measure.retries, {f"{NS}.option_path": measure.option_path})
        if measure.cache_status != "DISABLED":
            self.cache.add(1, {f"{NS}.cache_status": measure.cache_status})
        if measure.cost_usd:
            self.cost.add(measure.cost_usd, {"gen_ai.provider.name": measure.provider})
        for event, outcome in measure.guardrails:
            self.guardrails.add(1, {f"{NS}.hook.event": event, f"{NS}.hook.outcome": outcome})


class MetricSinks:
    """Where measurements go: OpenTelemetry instruments, Prometheus instruments, or both."""

    __slots__ = ("otel", "prometheus")

    def __init__(self, otel: OtelInstruments | None, prometheus: PrometheusInstruments | None) -> None:
        self.otel = otel
        self.prometheus = prometheus

    def attempt(self, measure: AttemptMeasure) -> None:
        """Record one provider attempt in every sink."""
        if self.otel is not None:
            self.otel.attempt(measure)
        if self.prometheus is not None:
            self.prometheus.attempt(measure)

    def request(self, measure: RequestMeasure) -> None:
        """Record one gateway request in every sink."""
        if self.otel is not None:
            self.otel.request(measure)
        if self.prometheus is not None:
            self.prometheus.request(measure)
