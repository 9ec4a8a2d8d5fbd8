"""MemoryState: the same smooth round-robin as the gateway's own, cooldowns on an injected clock."""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest

from strands_portkey.routing.balance import SharedRoundRobin, SmoothRoundRobin, scope_of
from strands_portkey.shared_state import MemberStatus, SharedState, SwrrChoice
from strands_portkey.shared_state.memory import MemoryState


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


ABC = [("a", 5.0), ("b", 1.0), ("c", 1.0)]


def sequence(state: MemoryState, count: int, scope: str = "s", **kwargs: float) -> str:
    found = []
    for _ in range(count):
        choice = state.swrr_pick(scope, ABC, **kwargs)
        found.append(choice.member if choice else "-")
    return "".join(found)


def test_it_satisfies_the_protocol() -> None:
    assert isinstance(MemoryState(), SharedState)


def test_weights_5_1_1_give_the_nginx_sequence() -> None:
    assert sequence(MemoryState(), 14) == "aabacaa" * 2


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_same_sequence_as_the_gateways_own_round_robin_for_any_weights(seed: int) -> None:
    rng = random.Random(seed)
    weights = [rng.choice([0, 0.1, 0.25, 0.5, 1, 3, 7.5]) for _ in range(6)] + [1.0]
    own = SmoothRoundRobin(weights)
    shared = SharedRoundRobin(weights, MemoryState(), "lb:x")
    assert [shared.pick() for _ in range(500)] == [own.pick() for _ in range(500)]


def test_scopes_rotate_independently() -> None:
    state = MemoryState()
    assert sequence(state, 3, "one") == "aab"
    assert sequence(state, 3, "two") == "aab"
    assert sequence(state, 4, "one") == "acaa"


def test_two_users_of_one_state_interleave_one_sequence() -> None:
    state = MemoryState()
    first = SharedRoundRobin([5, 1, 1], state, "lb:same")
    second = SharedRoundRobin([5, 1, 1], state, "lb:same")
    combined = [(first if turn % 2 == 0 else second).pick() for turn in range(14)]
    assert "".join("abc"[i] for i in combined) == "aabacaa" * 2


def test_a_throttled_member_counts_with_the_capped_weight_until_the_cooldown_ends() -> None:
    clock = Clock()
    state = MemoryState(clock=clock)
    members = [("a", 100.0), ("b", 100.0)]
    state.throttle("a", 180)
    picks = [state.swrr_pick("p", members, throttled_weight=10) for _ in range(11)]
    assert Counter(c.member for c in picks if c) == {"b": 10, "a": 1}
    assert next(c for c in picks if c and c.member == "a").throttled is True
    assert state.status(["a", "b"]) == {"a": MemberStatus(throttled_for=180), "b": MemberStatus()}
    clock.now = 180.0
    assert state.status(["a"]) == {"a": MemberStatus()}
    fresh = MemoryState(clock=clock)
    assert [fresh.swrr_pick("p", members, throttled_weight=10) for _ in range(2)] == [
        SwrrChoice("a"),
        SwrrChoice("b"),
    ]


def test_cooldowns_only_apply_when_the_caller_asks_for_them() -> None:
    state = MemoryState()
    state.disable("a", 60)
    assert sequence(state, 2) == "aa"  # a balancer scope: no throttled_weight, no cooldowns
    assert sequence(state, 2, "creds", throttled_weight=10) == "bc"


def test_disabled_members_are_skipped_untouched_and_none_when_nobody_is_left() -> None:
    clock = Clock()
    state = MemoryState(clock=clock)
    state.disable("a", 6)
    assert sequence(state, 4, throttled_weight=10) == "bcbc"
    for member in ("b", "c"):
        state.disable(member, 60)
    assert state.swrr_pick("s", ABC, throttled_weight=10) is None
    clock.now = 6.0
    assert sequence(state, 3, throttled_weight=10) == "aaa"
    state.restore("b")
    assert state.status(["b", "c"])["b"] == MemberStatus()
    assert state.status(["c"])["c"].disabled_for == pytest.approx(54)


def test_concurrent_picks_keep_exact_proportions() -> None:
    state = MemoryState()
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def run() -> None:
        local = Counter(sequence(state, 700))
        with lock:
            counts.update(local)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counts == {"a": 2000, "b": 400, "c": 400}


def test_scope_of_is_stable_distinct_and_opaque() -> None:
    one = scope_of("config", [("config.targets[0]", "openai", None, None, "gpt-4o", 1.0)])
    assert one == scope_of("config", [("config.targets[0]", "openai", None, None, "gpt-4o", 1.0)])
    assert one != scope_of("config", [("config.targets[0]", "openai", None, None, "gpt-4o", 2.0)])
    assert one.startswith("lb:")
    assert "openai" not in one
    assert "gpt" not in one
