"""One behaviour suite for ``gw.api_keys`` / ``gw.configs`` and ``client.api_keys`` / ``client.configs``.

Every test takes ``face`` (the remote conftest): it runs once in process and once over HTTP
against the real server app on the same store, so the two faces cannot drift.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from strands_portkey.controlplane.api_key_fields import ApiKeyUsage, CreatedApiKey, GatewayApiKey
from strands_portkey.controlplane.configs_api import SavedConfig, SavedConfigVersion
from strands_portkey.controlplane.views import SyncPaginator
from strands_portkey.errors import ConflictError, InvalidRequestError, ResourceNotFoundError

FALLBACK = {"strategy": {"mode": "fallback"}, "targets": [{"provider": "openai"}, {"provider": "anthropic"}]}
SINGLE = {"provider": "openai", "override_params": {"model": "gpt-4o-mini"}}
LIMITS = {
    "rate_limits": [{"type": "requests", "unit": "rpm", "value": 60}],
    "usage_limits": {"credit_limit": 10, "type": "cost", "periodic_reset": "monthly"},
}


def test_a_key_is_created_once_and_read_back_masked(face: Any) -> None:
    created = face.api_keys.create({"name": "ci", "scopes": ["completions.write"], **LIMITS})
    assert isinstance(created, CreatedApiKey)
    assert isinstance(created.api_key, GatewayApiKey)
    assert created.key.startswith("spk-")
    assert created.key not in repr(created)
    assert created.api_key.masked_key == f"spk-…{created.key[-4:]}"
    assert (created.api_key.user, created.api_key.organization_id) == ("ana", "local")
    assert created.api_key.usage_limits == [
        {"credit_limit": 10.0, "type": "cost", "alert_threshold": None, "periodic_reset": "monthly"}
    ]
    assert face.api_keys.retrieve(created.api_key.id) == created.api_key


def test_update_rotate_and_revoke(face: Any) -> None:
    created = face.api_keys.create({"name": "before"})
    key_id = created.api_key.id
    later = dt.datetime(2099, 1, 1, tzinfo=dt.timezone.utc)
    changed = face.api_keys.update(
        key_id, {"name": "after", "expires_at": later, "allowed_models": ["gpt-4o"]}
    )
    assert (changed.name, changed.expires_at, changed.allowed_models) == (
        "after",
        "2099-01-01T00:00:00.000Z",
        ["gpt-4o"],
    )
    rotated = face.api_keys.rotate(key_id)
    assert isinstance(rotated, CreatedApiKey)
    assert rotated.api_key.id == key_id
    assert rotated.key != created.key
    assert rotated.api_key.rotated_at is not None
    revoked = face.api_keys.revoke(key_id)
    assert revoked.status == "revoked"
    assert face.api_keys.revoke(key_id).revoked_at == revoked.revoked_at  # idempotent
    with pytest.raises(InvalidRequestError, match="revoked"):
        face.api_keys.rotate(key_id)
    with pytest.raises(InvalidRequestError, match="revoked"):
        face.api_keys.update(key_id, {"name": "again"})


def test_keys_are_listed_lazily_oldest_first(face: Any) -> None:
    made = [face.api_keys.create({"name": f"k{i}", "user": "pat"}).api_key.id for i in range(3)]
    listing = face.api_keys.list(user="pat", limit=2)
    assert isinstance(listing, SyncPaginator)
    assert [key.id for key in listing.first_page()] == made[:2]
    assert [key.id for key in listing.to_list()] == made
    face.api_keys.revoke(made[1])
    assert [key.id for key in face.api_keys.list(user="pat", status="active")] == [made[0], made[2]]
    assert [key.id for key in face.api_keys.list(user="pat", status="revoked")] == [made[1]]
    assert face.api_keys.list(user="nobody").to_list() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "colour": "red"}, "colour"),
        ({"name": "x", "role": "owner"}, "role"),
        ({"name": "x", "expires_at": "not a date"}, "expires_at"),
        ({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        (
            {"name": "x", "rate_limits": [{"type": "requests", "unit": "rpw", "value": 1}]},
            "rate_limits[0].unit",
        ),
    ],
)
def test_bad_key_fields_raise_the_same_error_naming_the_field(
    face: Any, body: dict[str, Any], field: str
) -> None:
    before = face.api_keys.list(limit=1000).to_list()
    with pytest.raises(InvalidRequestError) as raised:
        face.api_keys.create(body)
    assert (raised.value.path or "").removeprefix("body.") in (field, "body")
    assert field in str(raised.value)
    assert face.api_keys.list(limit=1000).to_list() == before


def test_an_unknown_key_is_not_found(face: Any) -> None:
    for call in (
        lambda: face.api_keys.retrieve("ak-0000000000000000"),
        lambda: face.api_keys.update("ak-0000000000000000", {"name": "x"}),
        lambda: face.api_keys.rotate("ak-0000000000000000"),
        lambda: face.api_keys.revoke("ak-0000000000000000"),
        lambda: face.api_keys.usage("ak-0000000000000000"),
    ):
        with pytest.raises(ResourceNotFoundError):
            call()


def test_usage_has_the_keys_limits(face: Any) -> None:
    created = face.api_keys.create({"name": "limited", **LIMITS})
    usage = face.api_keys.usage(created.api_key.id)
    assert isinstance(usage, ApiKeyUsage)
    assert usage.key_id == created.api_key.id
    rate = usage.rate_limits[0]
    assert (rate["type"], rate["unit"], rate["value"]) == ("requests", "rpm", 60)
    budget = usage.usage_limits[0]
    assert (budget["credit_limit"], budget["periodic_reset"], budget["alerting"]) == (10.0, "monthly", False)
    # in process nothing counts a key (None); the server's limiter has counted nothing yet
    assert (usage.counted_in, rate["remaining"], budget["used"]) in [(None, None, None), ("memory", 60, 0)]


def test_a_config_is_saved_versioned_and_deleted(face: Any) -> None:
    saved = face.configs.create("team-route", FALLBACK, description="first")
    assert isinstance(saved, SavedConfig)
    assert (saved.version, saved.latest_version, saved.owner, saved.config) == (1, 1, "ana", FALLBACK)
    assert face.configs.update(saved.id, config=FALLBACK).version == 1  # identical: no new version
    second = face.configs.update("team-route", config='{"provider": "openai"}', name="renamed")
    assert (second.version, second.name, second.config) == (2, "renamed", {"provider": "openai"})
    assert face.configs.retrieve(saved.id, 1).config == FALLBACK
    assert face.configs.retrieve("renamed") == second
    versions = face.configs.versions(saved.id)
    assert all(isinstance(v, SavedConfigVersion) for v in versions)
    assert [(v.version, v.created_by) for v in versions] == [(1, "ana"), (2, "ana")]
    face.configs.create("other", SINGLE)
    assert [c.name for c in face.configs.list(limit=1).to_list()] == ["other", "renamed"]
    assert [c.name for c in face.configs.list(search="ren")] == ["renamed"]
    assert face.configs.delete(saved.id) == {"id": saved.id, "deleted": True}
    with pytest.raises(ResourceNotFoundError):
        face.configs.retrieve(saved.id)


def test_config_errors_are_the_same_on_both_faces(face: Any) -> None:
    face.configs.create("taken", SINGLE)
    bad = {
        "strategy": {"mode": "fallback"},
        "targets": [{"provider": "openai"}, {"provider": "x", "weight": -1}],
    }
    with pytest.raises(InvalidRequestError) as invalid:
        face.configs.create("bad", bad)
    assert (invalid.value.path or "").endswith("config.targets[1].weight")
    with pytest.raises(InvalidRequestError) as secret:
        face.configs.create("leaky", {"provider": "openai", "api_key": "sk-live-canary"})
    assert "sk-live-canary" not in str(secret.value)
    assert (secret.value.path or "").endswith("config.api_key")
    with pytest.raises(InvalidRequestError) as not_json:
        face.configs.create("broken", "{not json")
    assert not_json.value.path == "config"
    with pytest.raises(ConflictError):
        face.configs.create("taken", SINGLE)
    with pytest.raises(ResourceNotFoundError):
        face.configs.retrieve("taken", 9)
    with pytest.raises(ResourceNotFoundError):
        face.configs.delete("pc-nothing")
    assert [c.name for c in face.configs.list()] == ["taken"]  # nothing else was written
