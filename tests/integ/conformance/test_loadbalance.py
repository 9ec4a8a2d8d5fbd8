"""Loadbalance picks: Portkey's gateway against ours, over 1,000 draws on each side.

Portkey draws with ``Math.random()`` per request (unseeded); ours with a seeded ``random.Random``,
so our side is reproducible and only Portkey's side varies between runs. Three checks per config:

* weight 0 is never picked, on either side (exact);
* each side fits the configured weights: Pearson's chi-square goodness of fit over the targets with
  a positive weight, below the critical value at p = 0.001 (df = targets - 1);
* the two sides agree with each other: chi-square test of homogeneity on the 2 x k table of counts,
  below the same critical value.

At p = 0.001 a correct, unseeded Portkey side fails a given check about once in a thousand runs;
an implementation that mixes up two targets' weights (0.7/0.3 read as 0.3/0.7) gives chi-square
values in the hundreds. Every draw is also checked against the upstream: one call per request,
to the target the gateway reported.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import json
import random
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import pytest

import portkey_gateway as portkey_gateway_lib
from scripted_upstream import ScriptedUpstream
from strands_portkey import Gateway

from .harness import PROMPT, RNG_SEED, leaf, materialize, node

pytestmark = pytest.mark.integ

DRAWS = 1000
CHI2_CRITICAL_P001 = {1: 10.828, 2: 13.816, 3: 16.266}  # chi-square quantile 0.999 by degrees of freedom


@dataclasses.dataclass(frozen=True)
class Distribution:
    id: str
    config: Mapping[str, Any]

    def weights(self) -> dict[str, float]:
        """Option index -> weight (default 1), as Portkey reads them."""
        return {
            f"config.targets[{i}]": float(t.get("weight", 1)) for i, t in enumerate(self.config["targets"])
        }

    def target_names(self) -> dict[str, str]:
        """Option index -> scripted target name."""
        return {
            f"config.targets[{i}]": t["custom_host"].rsplit(":", 1)[1]
            for i, t in enumerate(self.config["targets"])
        }


DISTRIBUTIONS = [
    Distribution("lb-70-30", node("loadbalance", leaf("a", weight=0.7), leaf("b", weight=0.3))),
    Distribution(
        "lb-2-default-0-1",
        node("loadbalance", leaf("a", weight=2), leaf("b"), leaf("c", weight=0), leaf("d", weight=1)),
    ),
]


def chi_square_fit(counts: Mapping[str, int], weights: Mapping[str, float]) -> float:
    positive = {index: w for index, w in weights.items() if w > 0}
    total, weight_sum = sum(counts.values()), sum(positive.values())
    return sum(
        (counts.get(i, 0) - total * w / weight_sum) ** 2 / (total * w / weight_sum)
        for i, w in positive.items()
    )


def chi_square_homogeneity(
    first: Mapping[str, int], second: Mapping[str, int], categories: list[str]
) -> float:
    rows = [first, second]
    totals = [sum(row.get(c, 0) for c in categories) for row in rows]
    grand = sum(totals)
    statistic = 0.0
    for category in categories:
        column = sum(row.get(category, 0) for row in rows)
        for row, row_total in zip(rows, totals, strict=True):
            expected = row_total * column / grand
            statistic += (row.get(category, 0) - expected) ** 2 / expected
    return statistic


def _check_against_upstream(
    picks: list[str], upstream: ScriptedUpstream, scenario: str, dist: Distribution
) -> None:
    calls = upstream.calls(scenario)
    names = dist.target_names()
    assert [call.target for call in calls] == [names[index] for index in picks]  # one call, to the pick


def draw_portkey(
    dist: Distribution, client: httpx.Client, base_url: str, upstream: ScriptedUpstream
) -> collections.Counter[str]:
    scenario = f"portkey.{dist.id}"
    upstream.reset()
    upstream.script_all(scenario, {name: [200] for name in "abcd"})
    headers = {"x-portkey-config": json.dumps(materialize(dist.config, upstream, scenario))}
    body = {"model": "gpt-test", "messages": PROMPT}
    picks = []
    for _ in range(DRAWS):
        response = client.post(f"{base_url}/chat/completions", json=body, headers=headers)
        assert response.status_code == 200, response.text
        picks.append(response.headers["x-portkey-last-used-option-index"])
    _check_against_upstream(picks, upstream, scenario, dist)
    return collections.Counter(picks)


async def draw_ours(
    dist: Distribution, upstream: ScriptedUpstream, **kwargs: Any
) -> tuple[list[str], collections.Counter[str]]:
    scenario = f"ours.{dist.id}"
    upstream.reset()
    upstream.script_all(scenario, {name: [200] for name in "abcd"})
    picks = []
    async with Gateway(
        config=materialize(dist.config, upstream, scenario), rng=random.Random(RNG_SEED), **kwargs
    ) as gw:
        for _ in range(DRAWS):
            response = await gw.chat({"model": "gpt-test", "messages": PROMPT})
            assert response.route is not None
            picks.append(response.route.last_used_option_index)
    _check_against_upstream(picks, upstream, scenario, dist)
    return picks, collections.Counter(picks)


def _assert_fits(counts: Mapping[str, int], dist: Distribution, side: str) -> None:
    weights = dist.weights()
    for index, weight in weights.items():
        if weight == 0:
            assert counts.get(index, 0) == 0, f"{side} picked {index} (weight 0) {counts[index]} times"
    df = sum(1 for w in weights.values() if w > 0) - 1
    statistic = chi_square_fit(counts, weights)
    assert statistic < CHI2_CRITICAL_P001[df], (
        f"{side} counts {dict(counts)} do not fit {weights}: chi2={statistic:.1f}"
    )


@pytest.fixture(scope="module")
def portkey_counts(
    portkey_gateway: portkey_gateway_lib.RunningGateway,
    portkey_http: httpx.Client,
    scripted_upstream: ScriptedUpstream,
) -> Callable[[Distribution], collections.Counter[str]]:
    seen: dict[str, collections.Counter[str]] = {}

    def counts(dist: Distribution) -> collections.Counter[str]:
        if dist.id not in seen:
            seen[dist.id] = draw_portkey(dist, portkey_http, portkey_gateway.base_url, scripted_upstream)
        return seen[dist.id]

    return counts


@pytest.mark.parametrize("dist", DISTRIBUTIONS, ids=lambda d: d.id)
def test_portkey_draws_fit_the_weights(
    dist: Distribution, portkey_counts: Callable[[Distribution], collections.Counter[str]]
) -> None:
    _assert_fits(portkey_counts(dist), dist, "Portkey")


@pytest.mark.parametrize("dist", DISTRIBUTIONS, ids=lambda d: d.id)
async def test_our_draws_fit_the_weights_and_match_portkey(
    dist: Distribution,
    scripted_upstream: ScriptedUpstream,
    portkey_counts: Callable[[Distribution], collections.Counter[str]],
) -> None:
    _, ours = await draw_ours(dist, scripted_upstream)
    _assert_fits(ours, dist, "ours")
    theirs = portkey_counts(dist)
    categories = [index for index, weight in dist.weights().items() if weight > 0]
    statistic = chi_square_homogeneity(theirs, ours, categories)
    assert statistic < CHI2_CRITICAL_P001[len(categories) - 1], (
        f"Portkey {dict(theirs)} and ours {dict(ours)} differ: chi2={statistic:.1f}"
    )


async def test_our_round_robin_is_exact_and_interleaved(scripted_upstream: ScriptedUpstream) -> None:
    """Deliberate difference: opt-in smooth weighted round-robin (Portkey declined it, #328).

    With weights 2:1 it serves a, b, a, a, b, a, ... : exact shares, never three a in a row.
    """
    dist = Distribution("swrr-2-1", node("loadbalance", leaf("a", weight=2), leaf("b", weight=1)))
    picks, counts = await draw_ours(dist, scripted_upstream, balance="round_robin")
    assert counts == {"config.targets[0]": 2 * DRAWS // 3 + 1, "config.targets[1]": DRAWS // 3}
    assert picks[:6] == ["config.targets[0]", "config.targets[1]", "config.targets[0]"] * 2
    longest_run = max(len(list(run)) for _, run in itertools.groupby(picks))
    assert longest_run == 2
