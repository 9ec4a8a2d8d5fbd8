"""Load balancing: Portkey's weighted draw and smooth weighted round-robin."""

import random
from collections import Counter
from collections.abc import Callable

import pytest

from strands_portkey import Gateway
from strands_portkey.errors import ServerError
from strands_portkey.routing.balance import SmoothRoundRobin, WeightedDraw

from .conftest import BODY, Hosts, target

Make = Callable[..., Gateway]


class FixedRandom(random.Random):
    """Returns the given values from ``random()`` in turn."""

    def __init__(self, *values: float) -> None:
        super().__init__()
        self._values = list(values)

    def random(self) -> float:
        return self._values.pop(0)


@pytest.mark.parametrize(
    ("draw", "expected"),
    [(0.0, 0), (0.69, 0), (0.7, 1), (0.99, 1)],
)
def test_weighted_draw_picks_the_first_target_whose_cumulative_weight_exceeds_r(
    draw: float, expected: int
) -> None:
    assert WeightedDraw([0.7, 0.3], FixedRandom(draw)).pick() == expected


def test_weight_zero_is_never_picked_even_at_the_boundary() -> None:
    picker = WeightedDraw([0, 1, 0], FixedRandom(0.0, 0.999999))
    assert [picker.pick(), picker.pick()] == [1, 1]


def test_smooth_round_robin_interleaves_by_weight() -> None:
    picker = SmoothRoundRobin([5, 1, 1])
    assert "".join("abc"[picker.pick()] for _ in range(14)) == "aabacaa" * 2


def test_smooth_round_robin_equal_weights_alternate_and_zero_is_skipped() -> None:
    picker = SmoothRoundRobin([1, 0, 1])
    assert [picker.pick() for _ in range(4)] == [0, 2, 0, 2]


@pytest.mark.parametrize(
    "make", [lambda: WeightedDraw([0, 0], random.Random()), lambda: SmoothRoundRobin([0])]
)
def test_pickers_refuse_all_zero_weights(make: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="positive"):
        make()


async def test_distribution_follows_the_weights_over_2000_requests(gateway: Make, hosts: Hosts) -> None:
    config = {
        "strategy": {"mode": "loadbalance"},
        "targets": [
            target(hosts.script("a"), weight=0.7),
            target(hosts.script("b"), weight=0.3),
            target(hosts.script("c"), weight=0),
        ],
    }
    gw = gateway(config, rng=random.Random(2024))
    for _ in range(2000):
        await gw.chat(BODY)
    counts = Counter(hosts.calls)
    # Binomial(2000, 0.7): standard deviation ~20.5; 4 sigma keeps this deterministic seed honest.
    assert abs(counts["a"] - 1400) < 82
    assert counts["c"] == 0


async def test_a_seeded_rng_makes_draws_reproducible(hosts: Hosts) -> None:
    config = {
        "strategy": {"mode": "loadbalance"},
        "targets": [target(hosts.script("a")), target(hosts.script("b"))],
    }
    runs = []
    for _ in range(2):
        hosts.calls.clear()
        gw = Gateway(config, transport=hosts.transport, rng=random.Random(5))
        for _ in range(20):
            await gw.chat(BODY)
        runs.append(list(hosts.calls))
    assert runs[0] == runs[1]
    assert set(runs[0]) == {"a", "b"}


async def test_only_the_chosen_target_is_tried(gateway: Make, hosts: Hosts) -> None:
    config = {
        "strategy": {"mode": "loadbalance"},
        "targets": [target(hosts.script("a", 500), weight=1), target(hosts.script("b"), weight=0)],
    }
    with pytest.raises(ServerError) as info:
        await gateway(config).chat(BODY)
    assert hosts.calls == ["a"]
    assert info.value.route is not None
    assert info.value.route.last_used_option_index == "config.targets[0]"


async def test_round_robin_mode_through_the_gateway(gateway: Make, hosts: Hosts) -> None:
    config = {
        "strategy": {"mode": "loadbalance"},
        "targets": [target(hosts.script("a"), weight=2), target(hosts.script("b"), weight=1)],
    }
    gw = gateway(config, balance="round_robin")
    for _ in range(6):
        await gw.chat(BODY)
    assert hosts.calls == ["a", "b", "a"] * 2


async def test_two_gateways_keep_separate_round_robin_state(gateway: Make, hosts: Hosts) -> None:
    config = {
        "strategy": {"mode": "loadbalance"},
        "targets": [target(hosts.script("a")), target(hosts.script("b"))],
    }
    first, second = gateway(config, balance="round_robin"), gateway(config, balance="round_robin")
    await first.chat(BODY)
    await second.chat(BODY)
    assert hosts.calls == ["a", "a"]


def test_an_unknown_balance_mode_is_a_configuration_error(gateway: Make, hosts: Hosts) -> None:
    with pytest.raises(ValueError, match=r"Gateway\.balance: expected 'weighted' or 'round_robin'"):
        gateway(target(hosts.script("a")), balance="random")


async def test_two_gateways_sharing_a_state_interleave_one_round_robin_sequence(hosts: Hosts) -> None:
    from strands_portkey.shared_state.memory import MemoryState

    config = {
        "strategy": {"mode": "loadbalance"},
        "targets": [
            target(hosts.script("a"), weight=5),
            target(hosts.script("b"), weight=1),
            target(hosts.script("c"), weight=1),
        ],
    }
    state = MemoryState()
    first, second = (
        Gateway(config, transport=hosts.transport, balance="round_robin", shared_state=state)
        for _ in range(2)
    )
    for turn in range(14):
        await (first if turn % 2 == 0 else second).chat(BODY)
    assert "".join(hosts.calls) == "aabacaa" * 2
    other = Gateway(
        {**config, "targets": config["targets"][:2]},
        transport=hosts.transport,
        balance="round_robin",
        shared_state=state,
    )
    hosts.calls.clear()
    for _ in range(6):
        await other.chat(BODY)
    assert "".join(hosts.calls) == "aaabaa"  # another config: its own positions, from the start
