"""The conformance table through Portkey's real gateway, then through our ``Gateway``.

``test_portkey_gateway_matches_the_table`` keeps the table honest: every row's ``expect`` is what
the real gateway decides today. ``test_our_gateway_decides_like_portkey`` then requires our
decision (status, serving target, retry count, upstream call sequence, stream completion) to equal
the one Portkey made in this run, and the bodies the upstream saw to be identical call for call,
except in rows marked as deliberate differences, where our documented behaviour is asserted.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from scripted_upstream import ScriptedUpstream

from .harness import Case, Outcome, body_differences, mismatches, run_ours
from .table import ROUTING
from .table_edges import CASES as EDGE_CASES
from .table_more import CASES

ALL_CASES = [*ROUTING, *CASES, *EDGE_CASES]
PORTKEY_CASES = [case for case in ALL_CASES if case.expect is not None]

pytestmark = pytest.mark.integ


def test_the_table_is_big_and_unique() -> None:
    ids = [case.id for case in ALL_CASES]
    assert len(set(ids)) == len(ids), "case ids must be unique (they name upstream scripts)"
    assert len(PORTKEY_CASES) >= 25


@pytest.mark.parametrize("case", PORTKEY_CASES, ids=lambda case: case.id)
def test_portkey_gateway_matches_the_table(case: Case, portkey_observed: Callable[[Case], Outcome]) -> None:
    assert case.expect is not None
    outcome = portkey_observed(case)
    problems = mismatches(outcome, case.expect, case, ours=False)
    assert not problems, f"Portkey's gateway departs from the table row {case.id}:\n  " + "\n  ".join(
        problems
    )


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda case: case.id)
async def test_our_gateway_decides_like_portkey(
    case: Case, scripted_upstream: ScriptedUpstream, request: pytest.FixtureRequest
) -> None:
    ours = await run_ours(case, scripted_upstream)
    problems = mismatches(ours, case.expected_for_ours(), case, ours=True)
    if case.ours is None:
        observe: Callable[[Case], Outcome] = request.getfixturevalue("portkey_observed")
        theirs, served = observe(case), case.expected_for_ours().served
        portkey_decision, our_decision = theirs.decision(served=served), ours.decision(served=served)
        if portkey_decision != our_decision:
            problems.append(f"decision differs: Portkey {portkey_decision}, ours {our_decision}")
        problems += body_differences(theirs, ours)
    else:
        problems = [f"(deliberate difference: {case.why})", *problems] if problems else []
    assert not problems, f"our Gateway departs on {case.id}:\n  " + "\n  ".join(problems)
