"""CredentialSelector with a shared state: two selectors (two processes) behave as one."""

from __future__ import annotations

from collections import Counter

import pytest

from strands_portkey.errors import CredentialsUnavailableError
from strands_portkey.shared_state.memory import MemoryState
from strands_portkey.vault.selector import CredentialSelector

from .test_selector import Clock, Recorder, entry


def pair(
    *weights: int, clock: Clock | None = None
) -> tuple[CredentialSelector, CredentialSelector, Recorder]:
    clock = clock or Clock()
    state = MemoryState(clock=clock)
    listener = Recorder()
    entries = [entry(name, weight) for name, weight in zip("abc", weights, strict=False)]
    selectors = []
    for notified in (listener, None):
        chosen = CredentialSelector(clock=clock, listener=notified)
        chosen.load(entries)
        chosen.share(state)
        selectors.append(chosen)
    return selectors[0], selectors[1], listener


def test_two_selectors_interleave_one_nginx_sequence() -> None:
    first, second, _ = pair(5, 1, 1)
    combined = "".join((first if turn % 2 else second).pick("openai").name for turn in range(14))
    assert combined == "aabacaa" * 2


def test_a_429_seen_by_one_throttles_the_key_for_the_other_until_the_cooldown_ends() -> None:
    clock = Clock()
    first, second, _ = pair(100, 100, clock=clock)
    first.report("a", 429)
    assert [row["effective_weight"] for row in second.status("openai")] == [10, 100]
    assert Counter(second.pick("openai").name for _ in range(110)) == {"a": 10, "b": 100}
    clock.now = 180.0
    assert [row["effective_weight"] for row in second.status("openai")] == [100, 100]


def test_a_success_on_a_key_picked_while_throttled_restores_it_for_everyone() -> None:
    first, second, _ = pair(100, 100)
    first.report("a", 429)
    picked = [second.pick("openai") for _ in range(11)]
    assert [c.name for c in picked].count("a") == 1
    second.report("a", 200)
    assert [row["effective_weight"] for row in first.status("openai")] == [100, 100]


def test_a_401_seen_by_one_takes_the_key_out_of_the_others_rotation() -> None:
    first, second, listener = pair(100, 100)
    first.report("a", 401, error="invalid key")
    assert listener.events == [("disabled", "a", "invalid key")]
    assert {second.pick("openai").name for _ in range(10)} == {"b"}
    row = second.status("openai")[0]
    assert row["disabled"] is True
    assert "another gateway process" in str(row["error"])


def test_every_key_disabled_elsewhere_is_a_clear_error() -> None:
    first, second, _ = pair(100, 100)
    first.report("a", 403)
    first.report("b", 401)
    with pytest.raises(CredentialsUnavailableError, match="another gateway process"):
        second.pick("openai")


def test_a_passed_recheck_brings_the_key_back_for_everyone() -> None:
    clock = Clock()
    first, second, listener = pair(100, 100, clock=clock)
    first.report("a", 401)
    clock.now = 6.0
    assert first.due_revalidations() == ["a"]
    first.revalidated("a", ok=True)
    assert listener.events[-1] == ("restored", "a", None)
    assert {second.pick("openai").name for _ in range(4)} == {"a", "b"}


def test_a_reload_with_the_key_active_again_lifts_the_shared_disable() -> None:
    first, second, _ = pair(100, 100)
    first.report("a", 401)
    first.load([entry("a"), entry("b")])  # e.g. the key was fixed with provider_keys.update
    assert {second.pick("openai").name for _ in range(4)} == {"a", "b"}


def test_the_shared_disable_expires() -> None:
    clock = Clock()
    first, second, _ = pair(100, 100, clock=clock)
    first.report("a", 401)
    clock.now = 3_600.0  # shared_disable_s: the database's durable disable takes over by then
    assert {second.pick("openai").name for _ in range(4)} == {"a", "b"}


def test_share_none_goes_back_to_the_local_rotation() -> None:
    first, _, _ = pair(5, 1, 1)
    first.share(None)
    assert "".join(first.pick("openai").name for _ in range(7)) == "aabacaa"
