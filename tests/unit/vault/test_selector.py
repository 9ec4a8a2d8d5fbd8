from __future__ import annotations

import itertools
import threading
from collections import Counter

import pytest

from strands_portkey.errors import CredentialsUnavailableError, ResourceNotFoundError
from strands_portkey.vault.fields import CredentialSecret
from strands_portkey.vault.keys import CredentialEntry
from strands_portkey.vault.selector import CredentialSelector
from strands_portkey.wire import Secret


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str | None]] = []

    def credential_disabled(self, credential_id: str, error: str) -> None:
        self.events.append(("disabled", credential_id, error))

    def credential_restored(self, credential_id: str) -> None:
        self.events.append(("restored", credential_id, None))


def entry(name: str, weight: int = 100, *, provider: str = "openai", active: bool = True) -> CredentialEntry:
    secret = CredentialSecret("api_key", {"api_key": Secret(f"sk-{name}")})
    return CredentialEntry(
        name, name, provider, weight, active, secret if active else None, None if active else "bad"
    )


def selector(
    *entries: CredentialEntry, clock: Clock | None = None, listener: Recorder | None = None
) -> CredentialSelector:
    chosen = CredentialSelector(clock=clock or Clock(), listener=listener)
    chosen.load(entries)
    return chosen


def picks(chosen: CredentialSelector, count: int, provider: str = "openai") -> str:
    return "".join(chosen.pick(provider).name for _ in range(count))


def test_weights_5_1_1_give_the_nginx_sequence() -> None:
    chosen = selector(entry("a", 5), entry("b", 1), entry("c", 1))
    assert picks(chosen, 14) == "aabacaa" * 2


def test_equal_weights_alternate_and_default_100() -> None:
    assert picks(selector(entry("a"), entry("b")), 6) == "ababab"


def test_100_to_10_interleaves_evenly() -> None:
    sequence = picks(selector(entry("a", 100), entry("b", 10)), 110)
    assert Counter(sequence) == {"a": 100, "b": 10}
    gaps = [i for i, name in enumerate(sequence) if name == "b"]
    assert all(9 <= later - earlier <= 12 for earlier, later in itertools.pairwise(gaps))


def test_providers_rotate_independently() -> None:
    chosen = selector(entry("a"), entry("b"), entry("x", provider="groq"))
    assert chosen.pick("openai").name == "a"
    assert chosen.pick("groq").name == "x"
    assert chosen.pick("openai").name == "b"


def test_429_lowers_weight_for_the_cooldown_then_restores() -> None:
    clock = Clock()
    chosen = selector(entry("a"), entry("b"), clock=clock)
    chosen.report("a", 429)
    assert chosen.status("openai")[0]["effective_weight"] == 10
    assert Counter(picks(chosen, 110)) == {"a": 10, "b": 100}
    clock.now = 179.9
    assert chosen.status("openai")[0]["effective_weight"] == 10
    clock.now = 180.0
    chosen.load([entry("a"), entry("b")])  # reset the running counters for a clean count
    assert Counter(picks(chosen, 200)) == {"a": 100, "b": 100}


def test_retry_after_longer_than_cooldown_is_honoured() -> None:
    clock = Clock()
    chosen = selector(entry("a"), entry("b"), clock=clock)
    chosen.report("a", 429, retry_after=600)
    clock.now = 599
    assert chosen.status("openai")[0]["effective_weight"] == 10
    clock.now = 600
    assert chosen.status("openai")[0]["effective_weight"] == 100


def test_401_disables_keeps_error_and_notifies() -> None:
    listener = Recorder()
    chosen = selector(entry("a"), entry("b"), listener=listener)
    chosen.report("a", 401, error="invalid key")
    assert picks(chosen, 4) == "bbbb"
    assert listener.events == [("disabled", "a", "invalid key")]
    assert chosen.status("openai")[0]["error"] == "invalid key"
    chosen.report("a", 403)  # already disabled: no second notice
    assert len(listener.events) == 1


def test_revalidation_backoff_is_5_plus_2_pow_n_until_3_hours() -> None:
    clock = Clock()
    listener = Recorder()
    chosen = selector(entry("a"), entry("b"), clock=clock, listener=listener)
    chosen.report("a", 401)
    waits = []
    while (wait := chosen.next_revalidation_in()) is not None:
        assert chosen.due_revalidations() == ([] if wait > 0 else ["a"])
        clock.now += wait
        assert chosen.due_revalidations() == ["a"]
        waits.append(wait)
        chosen.revalidated("a", ok=False, message="still refused")
    assert waits[:4] == [6.0, 7.0, 9.0, 13.0]
    assert waits[-1] == 5 + 2**13  # the next (5 + 2**14 s) would pass 10,800 s: manual check from now
    assert chosen.status("openai")[0]["error"] == "still refused"


def test_passed_revalidation_restores_rotation() -> None:
    clock = Clock()
    listener = Recorder()
    chosen = selector(entry("a"), entry("b"), clock=clock, listener=listener)
    chosen.report("a", 401)
    clock.now = 6
    chosen.revalidated("a", ok=True)
    assert listener.events[-1] == ("restored", "a", None)
    assert set(picks(chosen, 4)) == {"a", "b"}


def test_success_clears_throttle() -> None:
    chosen = selector(entry("a"), entry("b"))
    chosen.report("a", 429)
    chosen.report("a", 200)
    assert chosen.status("openai")[0]["effective_weight"] == 100


def test_all_disabled_is_a_clear_error_listing_reasons() -> None:
    chosen = selector(entry("a"), entry("b"))
    chosen.report("a", 401, error="key revoked")
    chosen.report("b", 403, error="no permission")
    with pytest.raises(CredentialsUnavailableError) as caught:
        chosen.pick("openai")
    message = caught.value.message
    assert "every credential of provider 'openai' is disabled" in message
    assert "'a': key revoked" in message
    assert "'b': no permission" in message
    assert caught.value.status_code == 503


def test_unknown_provider_and_inactive_snapshot_entries() -> None:
    chosen = selector(entry("a", active=False))
    with pytest.raises(CredentialsUnavailableError, match="'a': bad"):
        chosen.pick("openai")
    with pytest.raises(CredentialsUnavailableError, match="no credential is stored for provider 'groq'"):
        chosen.pick("groq")


def test_reload_keeps_rotation_and_revalidation_state() -> None:
    clock = Clock()
    chosen = selector(entry("a", 5), entry("b", 1), entry("c", 1), clock=clock)
    assert picks(chosen, 3) == "aab"
    chosen.load([entry("a", 5), entry("b", 1), entry("c", 1)])
    assert picks(chosen, 4) == "acaa"
    chosen.report("b", 401)
    chosen.load([entry("a", 5), entry("b", 1, active=False), entry("c", 1)])
    assert chosen.next_revalidation_in() == 6.0


def test_virtual_key_lookup_by_id_or_name() -> None:
    chosen = selector(entry("a"))
    assert chosen.credential("a").api_key == Secret("sk-a")
    with pytest.raises(ResourceNotFoundError):
        chosen.credential("zzz")
    chosen.report("a", 401)
    with pytest.raises(CredentialsUnavailableError, match="disabled"):
        chosen.credential("a")


def test_many_concurrent_selections_keep_exact_proportions() -> None:
    chosen = selector(entry("a", 5), entry("b", 1), entry("c", 1))
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait()
        local = Counter(chosen.pick("openai").name for _ in range(700))
        with lock:
            counts.update(local)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counts == {"a": 4000, "b": 800, "c": 800}  # 5600 picks = 800 full cycles of 7


def test_usage_drained_with_counts() -> None:
    chosen = selector(entry("a"), entry("b"))
    picks(chosen, 5)
    usage = chosen.drain_usage()
    assert {key: count for key, (count, _) in usage.items()} == {"a": 3, "b": 2}
    assert chosen.drain_usage() == {}


def test_repr_shows_no_secret() -> None:
    chosen = selector(entry("a"))
    assert "sk-a" not in repr(chosen) + repr(chosen.pick("openai"))
