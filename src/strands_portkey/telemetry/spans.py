"""One gateway request as telemetry sees it: its span, one child span per provider attempt, metrics.

The request span (``strands_portkey.request``, our own namespace) says what the gateway decided:
the strategy, the option that answered, retries, cache status, guardrail verdicts, cost, our trace
id and the metadata keys (never their values). Under it each provider attempt is a CLIENT span in
the GenAI conventions (``chat {model}``): provider, request and response facts, usage, the server
it went to, ``error.type`` on failure and the time to first chunk on streams.

Token usage: backends that sum usage per trace (Langfuse, Datadog LLM Observability) would count it
twice if two GenAI spans of one call carried it. Under a Strands agent, Strands' own ``chat`` span
carries the call's usage, so the attempts put theirs under ``strands_portkey.usage.*`` instead
(``genai_usage=False``); standalone (a ``Gateway`` or the server), the attempt spans are the only
GenAI spans and carry ``gen_ai.usage.*``. The request span never does.

Nothing here raises into the request: telemetry is an observer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.trace import StatusCode

from ..types import ChatChunk, ChatRequest, RouteInfo, Usage
from .attempt import AttemptTrace, input_messages
from .metrics import BoundedLabel, MetricSinks, RequestMeasure
from .names import NS, error_type, provider_name, server_of, status_class

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

__all__ = ["AttemptTrace", "CostFn", "RequestTrace"]

_log = logging.getLogger("strands_portkey.telemetry")
CostFn = Callable[[str, str, Usage], "float | None"]


class RequestTrace:
    """One gateway request: the request span, its attempts, and the metrics when it ends."""

    __slots__ = (
        "_done",
        "_link",
        "_model",
        "_parent",
        "_span",
        "_tracer",
        "_usage",
        "bound_model",
        "capture",
        "clock",
        "cost",
        "genai_usage",
        "operation",
        "propagate",
        "server_of",
        "sinks",
    )

    def __init__(
        self,
        *,
        tracer: Tracer | None,
        span: Span | None,
        sinks: MetricSinks | None,
        operation: str,
        model: str,
        clock: Callable[[], float],
        bound_model: BoundedLabel,
        capture: bool,
        genai_usage: bool,
        cost: CostFn | None,
        propagate: bool = True,
        servers: Callable[[str], tuple[str, int] | None] = server_of,
    ) -> None:
        self.server_of = servers  # ``server.address`` / ``port`` of a base URL (memoised by Telemetry)
        self._tracer, self._span, self.sinks = tracer, span, sinks
        self.propagate = propagate and span is not None
        self.operation, self._model, self.clock = operation, model, clock
        self.bound_model, self.capture, self.genai_usage, self.cost = bound_model, capture, genai_usage, cost
        self._usage: Usage | None = None
        self._done = False
        self._link: tuple[str, list[str]] | None = None
        self._parent = trace.set_span_in_context(span) if span is not None else None  # of the attempts

    @property
    def otel_trace_id(self) -> str | None:
        """The OpenTelemetry trace id (32 hex digits) of the request span, when one is recorded."""
        if self._span is None:
            return None
        context = self._span.get_span_context()
        return f"{context.trace_id:032x}" if context.is_valid else None

    def link(self, trace_id: str, metadata: Mapping[str, str]) -> None:
        """Our trace id and the metadata keys (never their values), for the request span's end."""
        self._link = (trace_id, sorted(metadata))

    def attempt(
        self, provider: str, base_url: str, request_model: str, request: ChatRequest | None, path: str = ""
    ) -> AttemptTrace:
        """Start the span of one attempt at ``provider`` (a child of the request span), leaf ``path``."""
        name = provider_name(provider)
        metric_attrs: dict[str, Any] = {
            "gen_ai.operation.name": self.operation,
            "gen_ai.provider.name": name,
            "gen_ai.request.model": self.bound_model(request_model),
        }
        server = self.server_of(base_url)
        if server is not None:
            metric_attrs["server.address"], metric_attrs["server.port"] = server
        span = None
        if self._tracer is not None:
            span = self._start_attempt_span(metric_attrs, request_model, request, path)
        return AttemptTrace(self, span, metric_attrs)

    def _start_attempt_span(
        self, metric_attrs: dict[str, Any], request_model: str, request: ChatRequest | None, path: str
    ) -> Span:
        assert self._tracer is not None
        assert self._span is not None
        attributes = {**metric_attrs, "gen_ai.request.model": request_model, f"{NS}.option_path": path}
        if request is not None:
            params = request.params
            for key in (
                "max_tokens",
                "temperature",
                "top_p",
                "frequency_penalty",
                "presence_penalty",
                "seed",
            ):
                value = params.get(key)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    attributes[f"gen_ai.request.{key}"] = value
            stop = params.get("stop")
            if isinstance(stop, str):
                attributes["gen_ai.request.stop_sequences"] = [stop]
            if self.capture:
                attributes["gen_ai.input.messages"] = input_messages(request)
        return self._tracer.start_span(
            f"{self.operation} {request_model}".strip(),
            context=self._parent,
            kind=trace.SpanKind.CLIENT,
            attributes=attributes,
        )

    # the stream observer interface (ChatStream calls it as it calls analytics' recorder)
    def opened(self) -> None:
        """The stream committed (nothing to do: the attempt span has the time to first chunk)."""

    def chunk(self, chunk: ChatChunk) -> None:
        """Keep the usage a chunk reports."""
        if chunk.usage is not None:
            self._usage = chunk.usage

    def finish(
        self,
        route: RouteInfo,
        error: BaseException | None,
        *,
        complete: bool = True,
        usage: Usage | None = None,
    ) -> None:
        """End the request span and record the request's metrics (once)."""
        if self._done:
            return
        self._done = True
        usage = usage or self._usage
        cost = None
        if usage is not None and error is None and self.cost is not None and route.provider:
            try:
                cost = self.cost(route.provider, route.model or self._model, usage)
            except Exception:
                cost = None
        code = route.status_code if error is None else getattr(error, "status_code", None)
        measure = RequestMeasure(
            provider=provider_name(route.provider) if route.provider else "none",
            model=self.bound_model(self._model),
            option_path=route.last_used_option_index,
            status_class=status_class(code) if isinstance(code, int) or error is None else "error",
        )
        measure.cache_status = route.cache_status
        measure.retries = max(route.retry_attempt_count, 0)
        attempts = route.attempts  # answered by another leaf than the first one tried: a fallback
        measure.rescued = (
            error is None and len(attempts) > 1 and attempts[0].option_index != attempts[-1].option_index
        )
        measure.cost_usd = cost
        measure.guardrails = _verdicts(route)
        if self._span is not None:
            self._end_span(route, error, complete, usage, measure)
        if self.sinks is not None:
            try:
                self.sinks.request(measure)
            except Exception as failure:  # an observer never fails the request
                _log.debug("request metrics not recorded: %s", type(failure).__name__)

    def _end_span(
        self,
        route: RouteInfo,
        error: BaseException | None,
        complete: bool,
        usage: Usage | None,
        measure: RequestMeasure,
    ) -> None:
        span = self._span
        assert span is not None
        attributes: dict[str, Any] = {
            f"{NS}.trace_id": self._link[0] if self._link else route.trace_id,
            f"{NS}.metadata.keys": self._link[1] if self._link else [],
            f"{NS}.option_path": route.last_used_option_index,
            f"{NS}.retry_count": route.retry_attempt_count,
            f"{NS}.cache_status": route.cache_status,
            f"{NS}.attempts": len(route.attempts),
            f"{NS}.fallback.rescued": measure.rescued,
        }
        if route.provider:
            attributes[f"{NS}.provider"] = route.provider
        if route.status_code is not None:
            attributes[f"{NS}.status_code"] = route.status_code
        if measure.guardrails:
            attributes[f"{NS}.guardrail.verdicts"] = _verdict_strings(route)
        if measure.cost_usd is not None:
            attributes[f"{NS}.cost_usd"] = measure.cost_usd
        if usage is not None:
            attributes[f"{NS}.usage.input_tokens"] = usage.prompt_tokens
            attributes[f"{NS}.usage.output_tokens"] = usage.completion_tokens
        if error is None and not complete:
            attributes[f"{NS}.cancelled"] = True
        if error is not None:
            attributes["error.type"] = error_type(error)
            span.set_status(StatusCode.ERROR, error_type(error))
        span.set_attributes(attributes)
        span.end()


def _hooks(route: RouteInfo) -> list[tuple[str, str, str]]:
    """(event, hook id, outcome) of every guardrail hook the request ran."""
    results = route.hook_results
    if results is None:
        return []
    out = []
    for event, hooks in (("before", results.before_request_hooks), ("after", results.after_request_hooks)):
        for hook in hooks:
            outcome = "passed" if hook.verdict else ("denied" if hook.deny else "failed")
            out.append((event, hook.id, outcome))
    return out


def _verdicts(route: RouteInfo) -> list[tuple[str, str]]:
    return [(event, outcome) for event, _, outcome in _hooks(route)]


def _verdict_strings(route: RouteInfo) -> list[str]:
    return [f"{event}:{hook}={outcome}" for event, hook, outcome in _hooks(route)]
