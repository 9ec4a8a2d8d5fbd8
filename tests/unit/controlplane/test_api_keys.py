"""Gateway API keys: created once, stored as a keyed hash, authenticated from a snapshot that
follows revocations, rotations and expiry across processes within a second.

Two ``ControlPlane`` objects on one SQLite file play two processes; clocks are injected and the
background check runs inline, so nothing sleeps.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.api_keys import ApiKeys
from strands_portkey.errors import InvalidApiKeyError, InvalidRequestError, ResourceNotFoundError
from strands_portkey.limits import Limits, MemoryLimits, RateLimit, Spend
from strands_portkey.vault.crypto import KeyRing, MasterKey

from .conftest import MASTER

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc).timestamp()


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def inline(work: Callable[[], None]) -> None:
    work()


@pytest.fixture
def open_plane(tmp_path: Path) -> Iterator[Callable[..., ControlPlane]]:
    opened: list[ControlPlane] = []

    def open_plane(**options: Any) -> ControlPlane:
        options.setdefault("master_key", MASTER)
        plane = ControlPlane(
            f"sqlite:///{tmp_path / 'keys.db'}",
            env={
                "STRANDS_PORTKEY_HOME": str(tmp_path),
                "STRANDS_PORTKEY_USER": "ana",
                "STRANDS_PORTKEY_ORGANIZATION": "acme",
            },
            validate_credentials=False,
            refresh_interval=None,
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
def wall() -> Clock:
    return Clock(NOW)


@pytest.fixture
def keys(open_plane: Callable[..., ControlPlane], clock: Clock, wall: Clock) -> ApiKeys:
    return ApiKeys(open_plane(), clock=clock, wall_clock=wall, spawn=inline)


BODY = {
    "name": "ci pipeline",
    "role": "member",
    "scopes": ["completions.write", "configs.*"],
    "allowed_models": ["gpt-4o-mini"],
    "allowed_configs": ["pc-team"],
    "default_config": "pc-team",
    "rate_limits": [{"type": "requests", "unit": "rpm", "value": 60}],
    "usage_limits": {"credit_limit": 10, "type": "cost", "alert_threshold": 8, "periodic_reset": "monthly"},
}


def test_a_key_is_shown_once_and_stored_only_as_a_keyed_hash(keys: ApiKeys) -> None:
    created = keys.create(BODY)
    secret = created.key
    assert secret.startswith("spk-")
    assert len(secret) == 59
    assert secret not in repr(created)
    assert created.to_dict()["key"] == secret
    shown = created.api_key
    assert shown.masked_key == f"spk-…{secret[-4:]}"
    assert (shown.user, shown.organization_id, shown.status) == ("ana", "acme", "active")
    assert shown.usage_limits == [
        {"credit_limit": 10.0, "type": "cost", "alert_threshold": 8.0, "periodic_reset": "monthly"}
    ]
    assert secret not in repr(keys.retrieve(shown.id).to_dict())
    assert [k.id for k in keys.list()] == [shown.id]
    with keys._plane.store.engine.connect() as connection:
        dumped = repr(connection.execute(text("SELECT * FROM gateway_api_keys")).all())
    assert secret not in dumped
    assert secret[16:] not in dumped
    assert secret[16:40] not in dumped


def test_authenticate_returns_who_the_key_acts_as(keys: ApiKeys) -> None:
    created = keys.create(BODY)
    principal = keys.authenticate(created.key)
    assert principal.id == created.api_key.id
    assert (principal.user, principal.organization_id, principal.role) == ("ana", "acme", "member")
    assert principal.actor.user == "ana"
    assert not principal.is_admin
    assert principal.limits.rate_limits == (RateLimit("requests", "rpm", 60),)
    assert principal.has_scope("completions.write")
    assert principal.has_scope("configs.create")
    assert not principal.has_scope("keys.create")
    assert principal.may_use_model("gpt-4o-mini")
    assert not principal.may_use_model("gpt-4o")
    assert principal.may_use_config("pc-team")
    assert not principal.may_use_config("pc-other")
    assert principal.default_config == "pc-team"


async def test_a_principal_is_what_the_limits_engine_counts(keys: ApiKeys) -> None:
    created = keys.create({"name": "tiny", "rate_limits": [{"type": "requests", "unit": "rpd", "value": 1}]})
    engine = MemoryLimits(clock=Clock(), wall_clock=Clock(NOW))
    principal = keys.authenticate(created.key)
    held = await engine.reserve(principal, Spend(tokens=10))
    await engine.settle(held, Spend(tokens=5))
    rotated = keys.rotate(created.api_key.id)
    from strands_portkey.errors import RateLimitExceededError

    with pytest.raises(RateLimitExceededError):  # rotation keeps the id, so the count goes on
        await engine.reserve(keys.authenticate(rotated.key))


def test_defaults_a_member_key_of_the_acting_user(keys: ApiKeys) -> None:
    shown = keys.create({"name": "plain"}).api_key
    assert (shown.role, shown.scopes, shown.allowed_models, shown.rate_limits) == (
        "member",
        ["completions.write"],
        None,
        [],
    )
    principal = keys.authenticate(keys.rotate(shown.id).key)
    assert principal.may_use_model("anything")
    assert principal.limits == Limits()


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "k", "role": "owner"}, "role"),
        ({"name": "k", "scopes": ["ok", "has space"]}, "scopes[1]"),
        ({"name": "k", "scopes": "completions.write"}, "scopes"),
        ({"name": "k", "allowed_models": [3]}, "allowed_models[0]"),
        ({"name": "k", "allowed_configs": ["team"]}, "allowed_configs[0]"),
        ({"name": "k", "default_config": "team"}, "default_config"),
        ({"name": "k", "allowed_configs": ["pc-a"], "default_config": "pc-b"}, "default_config"),
        ({"name": "k", "expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "k", "expires_at": "next week"}, "expires_at"),
        (
            {"name": "k", "rate_limits": [{"type": "requests", "unit": "rpy", "value": 1}]},
            "rate_limits[0].unit",
        ),
        ({"name": "k", "usage_limits": {"credit_limit": 0}}, "usage_limits.credit_limit"),
        ({"name": "k", "budget": 5}, "body"),
    ],
)
def test_bad_fields_are_named(keys: ApiKeys, body: dict[str, Any], path: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        keys.create(body)
    assert info.value.path == path
    assert info.value.status_code == 400
    assert list(keys.list()) == []


def test_malformed_unknown_and_wrong_secret_keys_are_refused(keys: ApiKeys) -> None:
    created = keys.create({"name": "k"})
    forged = created.key[:-4] + ("AAAA" if not created.key.endswith("AAAA") else "BBBB")
    for presented, why in [
        ("", "not a gateway API key"),
        ("sk-" + created.key[3:], "not a gateway API key"),
        (created.key + "x", "not a gateway API key"),
        ("spk-000000000000" + created.key[16:], "unknown"),
        (forged, "unknown"),
    ]:
        with pytest.raises(InvalidApiKeyError) as info:
            keys.authenticate(presented)
        assert why in str(info.value)
        assert info.value.status_code == 401
        assert created.key[16:] not in str(info.value)


def test_rotate_gives_a_new_secret_and_the_old_one_stops(keys: ApiKeys) -> None:
    created = keys.create(BODY)
    rotated = keys.rotate(created.api_key.id)
    assert rotated.key != created.key
    assert rotated.api_key.id == created.api_key.id
    assert rotated.api_key.rotated_at is not None
    assert keys.authenticate(rotated.key).id == created.api_key.id
    with pytest.raises(InvalidApiKeyError, match="unknown"):
        keys.authenticate(created.key)


def test_revoke_and_expiry_stop_a_key(keys: ApiKeys, wall: Clock) -> None:
    revoked = keys.create({"name": "a"})
    expiring = keys.create({"name": "b", "expires_at": dt.datetime.fromtimestamp(NOW + 60, dt.timezone.utc)})
    keys.authenticate(expiring.key)
    shown = keys.revoke(revoked.api_key.id)
    assert shown.status == "revoked"
    assert keys.revoke(revoked.api_key.id).revoked_at == shown.revoked_at
    with pytest.raises(InvalidApiKeyError, match="was revoked"):
        keys.authenticate(revoked.key)
    wall.now += 60
    with pytest.raises(InvalidApiKeyError, match="has expired"):
        keys.authenticate(expiring.key)
    assert keys.retrieve(expiring.api_key.id).status == "expired"
    assert [k.name for k in keys.list(status="expired")] == ["b"]
    assert [k.name for k in keys.list(status="revoked")] == ["a"]
    assert list(keys.list(status="active")) == []
    with pytest.raises(InvalidRequestError, match="revoked"):
        keys.rotate(revoked.api_key.id)
    with pytest.raises(ResourceNotFoundError):
        keys.revoke("ak-missing")


def test_update_changes_fields_and_limits(keys: ApiKeys) -> None:
    created = keys.create(BODY)
    updated = keys.update(
        created.api_key.id, {"allowed_models": None, "rate_limits": [], "usage_limits": None, "role": "admin"}
    )
    assert (updated.allowed_models, updated.rate_limits, updated.usage_limits, updated.role) == (
        None,
        [],
        [],
        "admin",
    )
    principal = keys.authenticate(created.key)
    assert principal.is_admin
    assert not principal.limits
    assert principal.may_use_model("gpt-4o")
    with pytest.raises(InvalidRequestError) as info:
        keys.update(created.api_key.id, {"default_config": "pc-elsewhere"})
    assert info.value.path == "default_config"


def test_list_filters_and_pages(keys: ApiKeys, wall: Clock) -> None:
    for index in range(5):
        wall.now += 1
        keys.create({"name": f"k{index}", "user": "bo" if index % 2 else "ana"})
    listing = keys.list(limit=2)
    assert len(listing.first_page()) == 2
    assert [k.name for k in listing] == ["k0", "k1", "k2", "k3", "k4"]
    assert [k.name for k in keys.list(user="bo")] == ["k1", "k3"]
    assert [k.name for k in keys.list(organization_id="other")] == []
    with pytest.raises(InvalidRequestError) as info:
        keys.list(limit=0)
    assert info.value.path == "limit"


def statements(plane: ControlPlane) -> list[str]:
    seen: list[str] = []
    event.listen(plane.store.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_a_revocation_in_another_process_stops_the_key_within_one_second(
    open_plane: Callable[..., ControlPlane], clock: Clock, wall: Clock
) -> None:
    worker = ApiKeys(open_plane(), clock=clock, wall_clock=wall, spawn=inline)
    admin = ApiKeys(open_plane(), wall_clock=wall, spawn=inline)
    created = admin.create({"name": "shared"})
    clock.now += 1.0  # the worker's snapshot is a second old: checked before answering
    assert worker.authenticate(created.key).id == created.api_key.id
    seen = statements(worker._plane)
    for _ in range(100):
        worker.authenticate(created.key)
    assert seen == []  # fresh snapshot: no database read per request
    admin.revoke(created.api_key.id)
    clock.now += 0.5  # a request arriving now starts the (background) check
    with pytest.raises(InvalidApiKeyError, match="revoked"):
        worker.authenticate(created.key)
    assert len([s for s in seen if "FROM gateway_api_keys" in s]) == 1  # one reload, not one per request


def test_after_an_idle_period_the_snapshot_is_checked_before_it_answers(
    open_plane: Callable[..., ControlPlane], clock: Clock, wall: Clock
) -> None:
    ran: list[Callable[[], None]] = []
    worker = ApiKeys(open_plane(), clock=clock, wall_clock=wall, spawn=ran.append)  # background never runs
    admin = ApiKeys(open_plane(), wall_clock=wall, spawn=inline)
    created = admin.create({"name": "shared"})
    rotated = admin.rotate(created.api_key.id)
    clock.now += 0.6
    with pytest.raises(InvalidApiKeyError):  # stale by 0.6 s: answered now, checked in the background
        worker.authenticate(rotated.key)
    assert len(ran) == 1
    clock.now += 0.5  # 1.1 s since the last check: checked before answering
    assert worker.authenticate(rotated.key).id == created.api_key.id


def test_an_unreadable_store_keeps_the_snapshot(
    open_plane: Callable[..., ControlPlane], clock: Clock, wall: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    plane = open_plane()
    worker = ApiKeys(plane, clock=clock, wall_clock=wall, spawn=inline)
    created = worker.create({"name": "k"})
    plane.store.close()
    with plane.store.engine.connect() as connection:
        connection.execute(text("DROP TABLE store_revision"))
        connection.commit()
    clock.now += 5
    with caplog.at_level(logging.WARNING):
        assert worker.authenticate(created.key).id == created.api_key.id
    assert "not refreshed" in caplog.text
    assert created.key not in caplog.text


def test_keys_made_under_a_previous_master_key_still_authenticate(
    open_plane: Callable[..., ControlPlane], wall: Clock
) -> None:
    old = ApiKeys(open_plane(), wall_clock=wall, spawn=inline)
    created = old.create({"name": "k"})
    new_master = MasterKey.from_bytes(bytes(range(1, 33)))
    previous = MasterKey.from_text(MASTER, source="test")
    rotated_ring = ApiKeys(
        open_plane(master_key=None, keyring=KeyRing(new_master, [previous])), wall_clock=wall, spawn=inline
    )
    assert rotated_ring.authenticate(created.key).id == created.api_key.id
    fresh = rotated_ring.create({"name": "new"})  # hashed under the new master key
    old.reload()
    with pytest.raises(InvalidApiKeyError):  # a process with only the old master key cannot check it
        old.authenticate(fresh.key)
    assert base64.urlsafe_b64encode(new_master.key).decode() not in repr(rotated_ring)


async def test_usage_reads_the_keys_counts_from_its_limits_engine(
    open_plane: Callable[..., ControlPlane], clock: Clock, wall: Clock
) -> None:
    engine = MemoryLimits(clock=Clock(), wall_clock=Clock(NOW))
    keys = ApiKeys(open_plane(), clock=clock, wall_clock=wall, spawn=inline, limits=engine)
    created = keys.create(BODY)
    key_id = created.api_key.id
    await engine.reserve(keys.authenticate(created.key), Spend(tokens=10, cost=8.5))
    usage = keys.usage(key_id)
    assert (usage.key_id, usage.counted_in) == (key_id, "memory")
    assert usage.rate_limits[0]["remaining"] == 59.0
    assert usage.usage_limits[0] | {"resets_at": None} == {
        "type": "cost",
        "credit_limit": 10.0,
        "alert_threshold": 8.0,
        "periodic_reset": "monthly",
        "period": "2026-03-01",
        "used": 8.5,
        "remaining": 1.5,
        "resets_at": None,
        "alerting": True,
    }
    with pytest.raises(ResourceNotFoundError):
        keys.usage("ak-nothing")


def test_usage_without_an_engine_shows_the_limits_uncounted(keys: ApiKeys) -> None:
    created = keys.create(BODY)
    usage = keys.usage(created.api_key.id).to_dict()
    assert usage["counted_in"] is None
    assert usage["rate_limits"] == [
        {"type": "requests", "unit": "rpm", "value": 60, "remaining": None, "resets_in": None}
    ]
    assert (usage["usage_limits"][0]["used"], usage["usage_limits"][0]["credit_limit"]) == (None, 10.0)
