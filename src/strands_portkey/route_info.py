"""How a request was served: :class:`RouteInfo` (Portkey's ``x-portkey-*`` headers) and its attempts.

Kept apart from :mod:`.types` so that :mod:`.errors` (every ``GatewayError`` carries the route up to
its failure) needs nothing above the ground floor: ``errors`` -> ``route_info`` -> ``hook_results``,
and ``types`` builds on all three, without an import cycle. ``types`` re-exports these names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .hook_results import HookResults

__all__ = ["Attempt", "CacheStatus", "RouteInfo"]

CacheStatus = Literal["HIT", "SEMANTIC HIT", "MISS", "SEMANTIC MISS", "REFRESH", "DISABLED"]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One upstream call made while serving a request (retries and fallbacks each add one)."""

    option_index: str
    provider: str
    status_code: int | None
    latency_ms: float
    error_type: str | None = None


@dataclass(slots=True)
class RouteInfo:
    """How a request was served; mirrors Portkey's ``x-portkey-*`` response headers.

    ``last_used_option_index`` is the JSON path of the leaf that answered (``config``,
    ``config.targets[1].targets[0]``); ``retry_attempt_count`` is the retries that leaf made
    (``-1`` when retries ran out); ``cache_status`` is one of :data:`CacheStatus`.
    ``hook_results`` holds the guardrail hooks run (None when the target has none); when a hook
    failed without denying, ``status_code`` is 246, as Portkey answers.
    """

    trace_id: str
    provider: str = ""
    model: str = ""
    last_used_option_index: str = "config"
    retry_attempt_count: int = 0
    cache_status: CacheStatus = "DISABLED"
    status_code: int | None = None
    attempts: list[Attempt] = field(default_factory=list)
    hook_results: HookResults | None = None
    credential_id: str | None = None  # the vault key the last attempt used (its id, never the key)

    def to_headers(self) -> dict[str, str]:
        """The equivalent ``x-portkey-*`` response headers."""
        return {
            "x-portkey-last-used-option-index": self.last_used_option_index,
            "x-portkey-retry-attempt-count": str(self.retry_attempt_count),
            "x-portkey-cache-status": self.cache_status,
            "x-portkey-provider": self.provider,
            "x-portkey-trace-id": self.trace_id,
        }
