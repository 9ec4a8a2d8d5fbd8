"""A gateway's per-request defaults, and the :class:`RequestContext` each request starts with.

``client_args`` may set a trace id, metadata and cache options for every request of a gateway;
a request's own values win (its metadata is merged over the defaults). Kept apart from
``gateway.py`` so the composition root stays about composition.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .config.client_args import normalize_metadata
from .errors import InvalidRequestError
from .forwarding import ForwardHeaders
from .pipeline.base import RequestContext
from .telemetry import RequestTrace

__all__ = ["CallDefaults"]


@dataclass(frozen=True, slots=True)
class CallDefaults:
    """What a request gets when it does not say (from ``client_args``; empty otherwise)."""

    trace_id: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    cache_namespace: str | None = None
    cache_force_refresh: bool = False

    def context(
        self,
        trace_id: str | None,
        metadata: Mapping[str, Any] | None,
        cache_namespace: str | None,
        cache_force_refresh: bool | None,
        cache_bypass: bool,
        *,
        forward: ForwardHeaders | None = None,
    ) -> RequestContext:
        """The context of one request: its values over these defaults; a fresh trace id if none."""
        merged = dict(self.metadata)
        if metadata:
            merged.update(normalize_metadata(metadata, path="metadata", error=InvalidRequestError))
        return RequestContext(
            trace_id=trace_id or self.trace_id or os.urandom(16).hex(),
            metadata=merged,
            cache_namespace=cache_namespace if cache_namespace is not None else self.cache_namespace,
            cache_force_refresh=(
                cache_force_refresh if cache_force_refresh is not None else self.cache_force_refresh
            ),
            cache_bypass=cache_bypass,
            forward=forward,
        )

    def attach(self, trace: RequestTrace | None, context: RequestContext, trace_id: str | None) -> None:
        """Give ``context`` its telemetry, linking our trace id and the OpenTelemetry trace.

        A request that names no trace id (nor do the defaults) takes the OpenTelemetry trace id
        as its own, so the request record, ``x-portkey-trace-id`` and the trace are one id;
        otherwise the span carries ours as ``strands_portkey.trace_id``.
        """
        if trace is None:
            return
        otel_id = trace.otel_trace_id
        if otel_id is not None and not (trace_id or self.trace_id):
            context.trace_id = context.route.trace_id = otel_id
        trace.link(context.trace_id, context.metadata)
        context.trace = trace
