"""One provider attempt: its GenAI CLIENT span and its ``gen_ai.client.*`` measurements.

Split from :mod:`.spans` (the request). An attempt's span starts before the request is sent (its
``traceparent`` goes upstream), follows a stream's chunks (id, model, finish reasons, usage, the
time to first chunk) and ends with the answer, the failure, or the caller closing the stream.
Prompts and answers are captured (``gen_ai.input.messages`` / ``gen_ai.output.messages``) only
on opt-in.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from opentelemetry.trace import StatusCode

from ..types import ChatChunk, ChatRequest, ChatResponse, Usage
from ..wire import HttpRequest
from .metrics import AttemptMeasure, BoundedLabel, MetricSinks
from .names import NS, error_type

if TYPE_CHECKING:
    from opentelemetry.trace import Span


class AttemptOwner(Protocol):
    """What an attempt reads of its request (:class:`~.spans.RequestTrace` fits)."""

    clock: Callable[[], float]
    capture: bool
    genai_usage: bool
    sinks: MetricSinks | None
    bound_model: BoundedLabel


__all__ = ["AttemptOwner", "AttemptTrace", "input_messages"]

_log = logging.getLogger("strands_portkey.telemetry")
_CONTENT_LIMIT = 64 * 1024  # characters of captured output kept per attempt


def input_messages(request: ChatRequest) -> str:
    """``gen_ai.input.messages``: role and parts, as the conventions shape them."""
    out: list[dict[str, Any]] = []
    for message in request.messages:
        content = message.get("content")
        parts: list[dict[str, Any]] = []
        if isinstance(content, str):
            parts.append({"type": "text", "content": content})
        elif isinstance(content, list):
            parts.extend(
                {"type": "text", "content": part.get("text", "")}
                for part in content
                if isinstance(part, Mapping) and part.get("type") == "text"
            )
        calls = message.get("tool_calls")
        for call in calls if isinstance(calls, list) else ():
            if isinstance(call, Mapping):
                function = call.get("function")
                name = function.get("name") if isinstance(function, Mapping) else None
                parts.append({"type": "tool_call", "id": call.get("id"), "name": name})
        out.append({"role": message.get("role"), "parts": parts})
    return json.dumps(out, ensure_ascii=False)


def _output_messages(text: str, finish: str | None) -> str:
    message = {"role": "assistant", "parts": [{"type": "text", "content": text}], "finish_reason": finish}
    return json.dumps([message], ensure_ascii=False)


class AttemptTrace:
    """One provider attempt: its CLIENT span (if tracing) and its ``gen_ai.client.*`` measurements."""

    __slots__ = (
        "_done",
        "_finish",
        "_metric_attrs",
        "_owner",
        "_response_id",
        "_response_model",
        "_span",
        "_started",
        "_text",
        "_ttfc",
        "_usage",
    )

    def __init__(self, owner: AttemptOwner, span: Span | None, metric_attrs: dict[str, Any]) -> None:
        self._owner = owner
        self._span = span
        self._metric_attrs = metric_attrs
        self._started = owner.clock()
        self._ttfc: float | None = None
        self._response_id: str | None = None
        self._response_model: str | None = None
        self._finish: list[str] = []
        self._usage: Usage | None = None
        self._text: list[str] | None = [] if owner.capture else None
        self._done = False

    def inject(self, http: HttpRequest) -> HttpRequest:
        """``http`` with this attempt's W3C ``traceparent`` (and ``tracestate``) when tracing.

        Written here rather than by the global propagator: the W3C header is what upstreams (and
        Portkey's gateway) read, whatever propagators the application set, and it costs ~1 us.
        """
        if self._span is None:
            return http
        context = self._span.get_span_context()
        if not context.is_valid:
            return http
        headers = {
            **http.headers,
            "traceparent": f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}",
        }
        if context.trace_state:
            headers["tracestate"] = context.trace_state.to_header()
        return HttpRequest(http.method, http.url, headers, http.json, http.secrets)

    def first_chunk(self) -> None:
        """The stream committed: its first chunk arrived (``time_to_first_chunk``)."""
        self._ttfc = self._owner.clock() - self._started
        if self._span is not None:
            self._span.set_attribute("gen_ai.response.time_to_first_chunk", self._ttfc)

    def chunk(self, chunk: ChatChunk) -> None:
        """Keep what the span reports at the end: id, model, finish reasons, usage, text if captured."""
        self._response_id = self._response_id or chunk.id or None
        self._response_model = self._response_model or chunk.model or None
        if chunk.usage is not None:
            self._usage = chunk.usage
        for choice in chunk.choices:
            if choice.finish_reason:
                self._finish.append(choice.finish_reason)
            if self._text is not None and choice.delta.content and sum(map(len, self._text)) < _CONTENT_LIMIT:
                self._text.append(choice.delta.content)

    def succeed(self, response: ChatResponse | None = None) -> None:
        """The attempt answered (whole ``response``, or a stream that ended)."""
        if response is not None:
            self._response_id, self._response_model = response.id or None, response.model or None
            self._finish = [choice.finish_reason for choice in response.choices if choice.finish_reason]
            self._usage = response.usage
            if self._text is not None:
                self._text = [response.text]
        self._end(None)

    def fail(self, error: BaseException) -> None:
        """The attempt failed (or was cancelled)."""
        self._end(error)

    def close(self) -> None:
        """The caller closed the stream before its end: end the span as it stands."""
        self._end(None, cancelled=True)

    def _end(self, error: BaseException | None, *, cancelled: bool = False) -> None:
        if self._done:
            return
        self._done = True
        owner = self._owner
        attrs = self._metric_attrs
        labels = (
            attrs["gen_ai.operation.name"],
            attrs["gen_ai.provider.name"],
            attrs["gen_ai.request.model"],
        )
        measure = AttemptMeasure(attrs, labels, owner.clock() - self._started)
        measure.ttfc_s = self._ttfc
        if error is not None:
            measure.error_type = attrs["error.type"] = error_type(error)
        elif self._usage is not None:
            measure.input_tokens, measure.output_tokens = (
                self._usage.prompt_tokens,
                self._usage.completion_tokens,
            )
        if self._response_model:
            self._metric_attrs["gen_ai.response.model"] = owner.bound_model(self._response_model)
        if self._span is not None:
            self._end_span(error, cancelled)
        if owner.sinks is not None:
            try:
                owner.sinks.attempt(measure)
            except Exception as failure:  # an observer never fails the request
                _log.debug("attempt metrics not recorded: %s", type(failure).__name__)

    def _end_span(self, error: BaseException | None, cancelled: bool) -> None:
        span = self._span
        assert span is not None
        attributes: dict[str, Any] = {}
        if self._response_id:
            attributes["gen_ai.response.id"] = self._response_id
        if self._response_model:
            attributes["gen_ai.response.model"] = self._response_model
        if self._finish:
            attributes["gen_ai.response.finish_reasons"] = self._finish
        if self._usage is not None:
            prefix = "gen_ai.usage" if self._owner.genai_usage else f"{NS}.usage"
            attributes[f"{prefix}.input_tokens"] = self._usage.prompt_tokens
            attributes[f"{prefix}.output_tokens"] = self._usage.completion_tokens
        if self._text is not None and error is None:
            attributes["gen_ai.output.messages"] = _output_messages(
                "".join(self._text), self._finish[-1] if self._finish else None
            )
        if cancelled:
            attributes[f"{NS}.cancelled"] = True
        if error is not None:
            kind = error_type(error)
            attributes["error.type"] = kind
            status = getattr(error, "status_code", None)
            if isinstance(status, int):
                attributes["http.response.status_code"] = status
            span.set_status(StatusCode.ERROR, kind)
        span.set_attributes(attributes)
        span.end()
