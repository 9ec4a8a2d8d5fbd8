"""Guardrail conformance: each row through Portkey's real gateway, then through our ``Gateway``.

Same rules as :mod:`.test_table`: the Portkey side keeps the table honest, and our decision
(status 200 / 246 / 446, serving target, retry count, upstream calls) must equal Portkey's.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from scripted_upstream import ScriptedUpstream

from .harness import Case, Outcome, body_differences, mismatches, run_ours
from .table_guardrails import CASES

pytestmark = pytest.mark.integ


def test_the_guardrail_table_covers_every_check_portkey_ships() -> None:
    ids = [case.id for case in CASES]
    assert len(set(ids)) == len(ids)
    named = {key for case in CASES for key in _check_ids(case.config)}
    shipped = {"contains", "regexMatch", "wordCount", "sentenceCount", "characterCount", "jsonSchema",
               "jsonKeys", "validUrls", "endsWith", "modelWhitelist", "requiredMetadataKeys"}  # fmt: skip
    assert shipped <= {name.removeprefix("default.") for name in named}


def _check_ids(config: object) -> set[str]:
    found: set[str] = set()
    if isinstance(config, dict):
        for key, value in config.items():
            if key in ("input_guardrails", "output_guardrails"):
                found |= {k for hook in value for k in hook if k not in ("deny", "async")}
            elif key == "checks":
                found |= {check["id"] for check in value}
            found |= _check_ids(value)
    elif isinstance(config, list):
        for item in config:
            found |= _check_ids(item)
    return found


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_portkey_gateway_matches_the_guardrail_table(
    case: Case, portkey_observed: Callable[[Case], Outcome]
) -> None:
    assert case.expect is not None
    problems = mismatches(portkey_observed(case), case.expect, case, ours=False)
    assert not problems, f"Portkey's gateway departs from row {case.id}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_our_gateway_guards_like_portkey(
    case: Case, scripted_upstream: ScriptedUpstream, portkey_observed: Callable[[Case], Outcome]
) -> None:
    ours = await run_ours(case, scripted_upstream)
    problems = mismatches(ours, case.expected_for_ours(), case, ours=True)
    if case.ours is None:
        theirs, served = portkey_observed(case), case.expected_for_ours().served
        portkey_decision, our_decision = theirs.decision(served=served), ours.decision(served=served)
        if portkey_decision != our_decision:
            problems.append(f"decision differs: Portkey {portkey_decision}, ours {our_decision}")
        problems += body_differences(theirs, ours)
    else:
        problems = [f"(deliberate difference: {case.why})", *problems] if problems else []
    assert not problems, f"our Gateway departs on {case.id}:\n  " + "\n  ".join(problems)
