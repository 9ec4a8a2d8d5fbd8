"""Fixtures for the conformance table: one scripted upstream and one Portkey gateway per session.

``portkey_observed(case)`` runs a case through Portkey's gateway once per session and remembers the
outcome, so the test comparing our ``Gateway`` with Portkey reuses the run that the Portkey-side
test already checked against the table (and runs it itself when selected alone).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

import portkey_gateway as portkey_gateway_lib
from scripted_upstream import ScriptedUpstream

from .harness import Case, Outcome, run_portkey

PORTKEY_TIMEOUT_S = 30.0  # no case takes more than ~9 s on Portkey's side (LATE_S + backoff); a hang fails


@pytest.fixture(scope="session")
def scripted_upstream() -> Iterator[ScriptedUpstream]:
    with ScriptedUpstream() as upstream:
        yield upstream


@pytest.fixture(scope="session")
def portkey_http() -> Iterator[httpx.Client]:
    # trust_env=False: loopback calls must never go through an HTTP(S)_PROXY from the environment.
    with httpx.Client(trust_env=False, timeout=PORTKEY_TIMEOUT_S) as client:
        yield client


@pytest.fixture(scope="session")
def portkey_observed(
    portkey_gateway: portkey_gateway_lib.RunningGateway,
    portkey_http: httpx.Client,
    scripted_upstream: ScriptedUpstream,
) -> Callable[[Case], Outcome]:
    seen: dict[str, Outcome] = {}

    def observe(case: Case) -> Outcome:
        if case.id not in seen:
            seen[case.id] = run_portkey(case, portkey_http, portkey_gateway.base_url, scripted_upstream)
        return seen[case.id]

    return observe
