"""What a request record keeps of its route for the dashboard: attempts, guardrails, the identity.

:func:`route_detail` is the JSON stored in ``request_records.route_detail``: every attempt (the
plan path it tried, provider, status, latency, error class), the retries of the answering leaf,
and each guardrail hook's verdict with its checks' ids and verdicts (never the checked text or a
check's data, which may quote the request). :func:`verdict` and :func:`rescued` classify a
record for the rollups. Pure functions of a :class:`~strands_portkey.types.RouteInfo`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from ..hook_results import HookResult
from ..types import RouteInfo

__all__ = ["Verdict", "identity_columns", "rescued", "route_detail", "verdict"]

# the metadata a server's gateway key stamps on each request (model_routes' names, a layer above)
KEY_ID_METADATA, USER_METADATA, ORGANIZATION_METADATA = "_api_key_id", "_user", "_organization_id"

Verdict = Literal["none", "passed", "failed", "denied"]


def _hooks(route: RouteInfo) -> list[HookResult]:
    results = route.hook_results
    return [] if results is None else [*results.before_request_hooks, *results.after_request_hooks]


def route_detail(route: RouteInfo) -> dict[str, Any]:
    """The route as stored: attempts in order, retries, guardrail hooks (ids and verdicts only)."""
    hooks = []
    for hook in _hooks(route):
        hooks.append(
            {
                "id": hook.id,
                "event": hook.event,
                "verdict": hook.verdict,
                "deny": hook.deny,
                "checks": [{"id": check.id, "verdict": check.verdict} for check in hook.checks],
            }
        )
    return {
        "attempts": [
            {
                "path": attempt.option_index,
                "provider": attempt.provider,
                "status": attempt.status_code,
                "latency_ms": round(attempt.latency_ms, 3),
                "error": attempt.error_type,
            }
            for attempt in route.attempts
        ],
        "retry_attempt_count": route.retry_attempt_count,
        "hooks": hooks,
    }


def verdict(route: RouteInfo) -> Verdict:
    """The request's guardrail outcome: denied, failed (not denying), passed, or none ran."""
    hooks = _hooks(route)
    if not hooks:
        return "none"
    if any(hook.deny for hook in hooks):
        return "denied"
    return "passed" if all(hook.verdict for hook in hooks) else "failed"


def rescued(route: RouteInfo, status: str) -> bool:
    """A fallback saved the request: it succeeded on a leaf after another leaf had failed."""
    if status != "success":
        return False
    final = route.last_used_option_index
    return any(attempt.option_index != final for attempt in route.attempts)


def identity_columns(metadata: Mapping[str, str]) -> dict[str, str | None]:
    """The gateway key that made the request (its id, user, organization; never the key)."""
    return {
        "api_key_id": (metadata.get(KEY_ID_METADATA) or None),
        "key_user": (metadata.get(USER_METADATA) or None) if KEY_ID_METADATA in metadata else None,
        "organization_id": (metadata.get(ORGANIZATION_METADATA) or None),
    }
