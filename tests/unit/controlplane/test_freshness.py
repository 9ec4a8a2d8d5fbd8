"""Cross-process freshness: two control planes on one SQLite file, as two gateway processes would be.

Process A checks the store revision at most every ``refresh_interval`` seconds of its injected
clock, on an inline runner (no threads, no sleeps); process B writes through its own API.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from strands_portkey.controlplane import AINamespace, ControlPlane
from strands_portkey.controlplane.plane import spawn_daemon
from strands_portkey.controlplane.providers_api import Providers
from strands_portkey.errors import CredentialsUnavailableError
from strands_portkey.types import ChatRequest, Usage

from .conftest import GOOD, GOOD2, MASTER, Clock

INTERVAL = 2.0
MODEL = {"name": "team-chat", "type": "third-party", "provider": "openai", "vendor_model_id": "gpt-4o-mini"}


def inline(work: Callable[[], None]) -> None:
    work()


@pytest.fixture
def open_plane(tmp_path: Path) -> Iterator[Callable[..., ControlPlane]]:
    opened: list[ControlPlane] = []

    def open_plane(**options: Any) -> ControlPlane:
        options.setdefault("spawn", inline)
        plane = ControlPlane(
            f"sqlite:///{tmp_path / 'shared.db'}",
            env={"STRANDS_PORTKEY_HOME": str(tmp_path)},
            master_key=MASTER,
            validate_credentials=False,
            **options,
        )
        opened.append(plane)
        return plane

    yield open_plane
    for plane in opened:
        plane.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def a(open_plane: Callable[..., ControlPlane], clock: Clock) -> ControlPlane:
    return open_plane(clock=clock, refresh_interval=INTERVAL)


@pytest.fixture
def b(open_plane: Callable[..., ControlPlane]) -> ControlPlane:
    return open_plane(refresh_interval=None)


def statements(plane: ControlPlane) -> list[str]:
    """Every SQL statement the plane's engine runs from now on."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(plane.store.engine, "before_cursor_execute", record)
    return seen


def request(model: str) -> ChatRequest:
    return ChatRequest(model, [{"role": "user", "content": "hi"}])


def test_a_model_registered_elsewhere_resolves_after_the_interval_and_not_before(
    a: ControlPlane, b: ControlPlane, clock: Clock
) -> None:
    registry = a.registered_models
    AINamespace(b).models.create(MODEL)
    assert registry.resolve(request("team-chat"))[1] is None
    clock.now += INTERVAL - 0.001
    assert registry.resolve(request("team-chat"))[1] is None
    clock.now += 0.001
    resolved, model_id = registry.resolve(request("team-chat"))
    assert (resolved.model, model_id is not None) == ("gpt-4o-mini", True)


def test_a_key_added_elsewhere_joins_the_rotation_and_a_disabled_one_leaves(
    a: ControlPlane, b: ControlPlane, clock: Clock
) -> None:
    keys = AINamespace(b).provider_keys
    keys.create({"name": "first", "provider": "openai", "api_key": GOOD})
    with pytest.raises(CredentialsUnavailableError):
        a.pick("openai")
    clock.now += INTERVAL
    assert a.pick("openai").name == "first"
    second = keys.create({"name": "second", "provider": "openai", "api_key": GOOD2})
    b.report(b.pick("openai").id, 401, error="rejected")  # B's selector disables "first" on a 401
    clock.now += INTERVAL / 2
    assert {a.pick("openai").name for _ in range(4)} == {"first"}
    clock.now += INTERVAL / 2
    assert {a.pick("openai").name for _ in range(4)} == {"second"}
    keys.update(second.id, {"is_active": False})
    clock.now += INTERVAL
    with pytest.raises(CredentialsUnavailableError):
        a.pick("openai")


def test_rates_changed_elsewhere_cost_requests_after_the_interval(
    a: ControlPlane, b: ControlPlane, clock: Clock
) -> None:
    usage = Usage(prompt_tokens=10, completion_tokens=5, total_tokens=15)
    assert a.prices().cost("openai", "gpt-4o", usage) is None
    providers = Providers(b)
    providers.create({"name": "openai"})
    providers.rates.create({"model": "gpt-4o", "inputRate": 1, "outputRate": 2, "providers": ["openai"]})
    assert a.prices().cost("openai", "gpt-4o", usage) is None
    clock.now += INTERVAL
    cost = a.prices().cost("openai", "gpt-4o", usage)
    assert cost is not None
    assert cost.credits == Decimal(20)


def test_no_database_read_until_the_interval_and_one_read_when_nothing_changed(
    a: ControlPlane, b: ControlPlane, clock: Clock
) -> None:
    AINamespace(b).provider_keys.create({"name": "first", "provider": "openai", "api_key": GOOD})
    clock.now += INTERVAL
    registry, _ = a.registered_models, a.prices()  # both loaded on first use
    a.pick("openai")
    seen = statements(a)
    for _ in range(100):
        a.pick("openai")
        registry.resolve(request("gpt-4o"))
        a.prices()
        clock.now += INTERVAL / 200
    assert seen == []
    clock.now += INTERVAL
    a.pick("openai")
    assert len(seen) == 1
    assert "store_revision" in seen[0]


def test_a_change_made_here_is_seen_at_once_without_waiting(a: ControlPlane, clock: Clock) -> None:
    AINamespace(a).provider_keys.create({"name": "local", "provider": "openai", "api_key": GOOD})
    AINamespace(a).models.create(MODEL)
    assert a.pick("openai").name == "local"
    assert a.registered_models.resolve(request("team-chat"))[1] is not None


def test_a_failed_refresh_keeps_the_snapshot_logs_no_secret_and_retries(
    a: ControlPlane, b: ControlPlane, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    AINamespace(b).provider_keys.create({"name": "first", "provider": "openai", "api_key": GOOD})
    clock.now += INTERVAL
    assert a.pick("openai").name == "first"
    AINamespace(b).provider_keys.create({"name": "second", "provider": "openai", "api_key": GOOD2})
    down = [True]

    def outage(*_args: Any) -> None:  # the driver fails every statement, as with the database down
        if down[0]:
            raise sqlite3.OperationalError("unable to open database file")

    event.listen(a.store.engine, "before_cursor_execute", outage)
    clock.now += INTERVAL
    with caplog.at_level(logging.WARNING, logger="strands_portkey.controlplane"):
        assert {a.pick("openai").name for _ in range(3)} == {"first"}
    assert "snapshots not refreshed" in caplog.text
    assert "unable to open database file" in caplog.text
    assert GOOD not in caplog.text
    assert GOOD2 not in caplog.text
    down[0] = False
    clock.now += INTERVAL / 2
    assert {a.pick("openai").name for _ in range(3)} == {"first"}  # the retry waits for the interval
    clock.now += INTERVAL / 2
    assert {a.pick("openai").name for _ in range(4)} == {"first", "second"}


def test_one_background_check_at_a_time(open_plane: Callable[..., ControlPlane], clock: Clock) -> None:
    pending: list[Callable[[], None]] = []
    plane = open_plane(clock=clock, refresh_interval=INTERVAL, spawn=pending.append)
    clock.now += INTERVAL
    plane.maybe_refresh()
    clock.now += 10 * INTERVAL
    plane.maybe_refresh()
    plane.maybe_refresh()
    assert len(pending) == 1
    pending.pop()()
    plane.maybe_refresh()
    assert len(pending) == 1


def test_checks_off_never_read_and_refresh_by_hand_still_works(
    open_plane: Callable[..., ControlPlane], b: ControlPlane, clock: Clock
) -> None:
    spawned: list[Callable[[], None]] = []
    plane = open_plane(clock=clock, refresh_interval=0, spawn=spawned.append)
    AINamespace(b).provider_keys.create({"name": "first", "provider": "openai", "api_key": GOOD})
    clock.now += 100 * INTERVAL
    with pytest.raises(CredentialsUnavailableError):
        plane.pick("openai")
    assert spawned == []
    plane.refresh()
    assert plane.pick("openai").name == "first"


def test_a_negative_interval_is_refused(open_plane: Callable[..., ControlPlane]) -> None:
    with pytest.raises(ValueError, match="refresh_interval"):
        open_plane(refresh_interval=-1.0)


def test_the_default_runner_is_a_daemon_thread() -> None:
    ran = threading.Event()
    seen: list[bool] = []

    def work() -> None:
        seen.append(threading.current_thread().daemon)
        ran.set()

    spawn_daemon(work)
    assert ran.wait(10)
    assert seen == [True]
