"""``GET /metrics``: the server's Prometheus exposition, and the telemetry its route gateways share.

No gateway key is needed, as for ``/health/*``: a Prometheus scrapes with no key of ours. Operators
who expose the port beyond their network set ``STRANDS_PORTKEY_METRICS_TOKEN`` (then a bearer
token is required) or turn the route off with ``STRANDS_PORTKEY_METRICS=off`` (then it answers 404
and no counters are kept). The exposition never carries a secret, a user or (unless
``STRANDS_PORTKEY_METRICS_KEY_LABELS=1``) a key id. With several workers every worker's samples are
summed (``prometheus_client``'s multiprocess mode, set up by ``strands-portkey serve``).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from .._json import dumps
from ..telemetry import Telemetry, exposition, prometheus_available, prometheus_instruments

if TYPE_CHECKING:
    from ..controlplane import ControlPlane
    from .state import Admitted, ServerState

__all__ = ["metrics", "observe_budget", "server_telemetry"]

_log = logging.getLogger("strands_portkey.server")


def server_telemetry(metrics_on: bool) -> Telemetry:
    """The route gateways' telemetry: the OpenTelemetry setup, plus Prometheus when ``/metrics`` is on."""
    prometheus = metrics_on and prometheus_available()
    if metrics_on and not prometheus:
        _log.warning("GET /metrics is off: prometheus_client is not installed (the [server] extra has it)")
    return Telemetry(prometheus=prometheus)


def _credential_states(plane: ControlPlane) -> dict[tuple[str, str], int]:
    """Provider keys in the vault by (provider, state): active, throttled (429 cooldown) or disabled."""
    counts: dict[tuple[str, str], int] = {}
    selector = plane.selector
    for provider in selector.providers():
        for row in selector.status(provider):
            weight, effective = row["weight"], row["effective_weight"]
            throttled = isinstance(weight, float) and isinstance(effective, float) and effective < weight
            state = "disabled" if row["disabled"] else "throttled" if throttled else "active"
            counts[(provider, state)] = counts.get((provider, state), 0) + 1
    return counts


def _error(status: int, kind: str, message: str) -> Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return Response(dumps(body), status_code=status, media_type="application/json")


def _authorized(request: Request, state: ServerState) -> bool:
    token = state.settings.metrics_token
    if token is None:
        return True
    presented = request.headers.get("authorization", "")
    return hmac.compare_digest(presented.encode(), f"Bearer {token.reveal()}".encode())


async def metrics(request: Request) -> Response:
    """The Prometheus text exposition (404 when metrics are off, 401 without the token when one is set)."""
    state: ServerState = request.app.state.server
    if not state.settings.metrics or not prometheus_available():
        return _error(404, "not_found_error", "no route /metrics")
    if not _authorized(request, state):
        return _error(401, "authentication_error", "a metrics token is required")
    if state.plane is not None:
        try:
            prometheus_instruments().credential_states(_credential_states(state.plane))
        except Exception as failure:  # the store may be unreachable: the counters still answer
            _log.warning("metrics: credential states not read: %s", type(failure).__name__)
    body, content_type = await asyncio.to_thread(exposition)
    return Response(body, headers={"content-type": content_type})


def observe_budget(state: ServerState, admitted: Admitted) -> None:
    """Set the budget-remaining gauge of the request's key (only when key labels are opted in)."""
    if not state.settings.metrics_key_labels or not state.settings.metrics or not prometheus_available():
        return
    remaining = admitted.reservation.headers.get("x-portkey-budget-remaining")
    if remaining is None:
        return
    try:
        prometheus_instruments().budget_remaining(admitted.principal.key_id, float(remaining))
    except ValueError:
        return
