from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from strands_portkey.controlplane import VALIDATE_KEYS_ENV, ControlPlane, ProviderKeys, open_control_plane
from strands_portkey.controlplane.views import ProviderKey, SyncPaginator
from strands_portkey.errors import (
    ConflictError,
    CredentialRejectedError,
    InvalidRequestError,
    ResourceNotFoundError,
)
from strands_portkey.store.tables import CredentialRow, ProviderRow

from .conftest import BAD, GOOD, GOOD2, MASTER, FakeProvider

SPEC_FIELDS = {
    "id", "name", "provider", "description", "provider_organization", "owner", "organization_id", "is_active",
    "last_used_at", "last_tested_at", "test_result", "masked_key", "created_at", "updated_at",
}  # fmt: skip


def _create(keys: ProviderKeys, name: str = "prod", key: str = GOOD, **extra: object) -> ProviderKey:
    return keys.create({"name": name, "provider": "openai", "api_key": key, **extra})


def test_create_validates_with_a_model_listing_and_returns_masked(
    plane: ControlPlane, fake_provider: FakeProvider
) -> None:
    keys = ProviderKeys(plane)
    key = _create(keys, description="main", provider_organization="org-1")
    request = fake_provider.requests[-1]
    assert (request.method, str(request.url)) == ("GET", "https://api.openai.com/v1/models")
    assert request.headers["authorization"] == f"Bearer {GOOD}"
    assert set(key.to_dict()) >= SPEC_FIELDS
    assert key.masked_key == "sk-g" + "*" * 16 + "mnop"
    assert (key.provider, key.description, key.provider_organization, key.is_active) == (
        "openai",
        "main",
        "org-1",
        True,
    )
    assert key.test_result is not None
    assert key.test_result["success"] is True
    assert key.last_tested_at == key.test_result["tested_at"]
    assert key.created_at.endswith("Z")
    assert dt.datetime.fromisoformat(key.created_at.replace("Z", "+00:00"))
    assert GOOD not in repr(key)
    assert GOOD not in str(key.to_dict())


def test_refused_key_is_not_saved(plane: ControlPlane) -> None:
    keys = ProviderKeys(plane)
    with pytest.raises(CredentialRejectedError) as caught:
        _create(keys, key=BAD)
    assert "refused the key (HTTP 401)" in caught.value.message
    assert BAD not in str(caught.value)  # the provider echoed it; scrubbed
    assert keys.list().to_list() == []


def test_unreachable_provider_rejects_unless_offline(
    plane: ControlPlane, fake_provider: FakeProvider
) -> None:
    keys = ProviderKeys(plane)
    fake_provider.down = True
    with pytest.raises(CredentialRejectedError, match="validate=False"):
        _create(keys)
    key = keys.create({"name": "prod", "provider": "openai", "api_key": GOOD}, validate=False)
    assert key.test_result is None
    assert key.last_tested_at is None
    assert key.is_active


def test_offline_control_plane_never_calls(plane: ControlPlane, fake_provider: FakeProvider) -> None:
    plane.validate_credentials = False
    _create(ProviderKeys(plane), key=BAD)
    assert fake_provider.requests == []


def test_list_filters_search_and_lazy_pages(plane: ControlPlane) -> None:
    keys = ProviderKeys(plane)
    for index in range(5):
        _create(keys, name=f"key-{index}", description="backup" if index % 2 else "primary")
    keys.create({"name": "groq-1", "provider": "groq", "api_key": GOOD2}, validate=False)
    keys.update("key-4", {"is_active": False})
    calls: list[tuple[int, int]] = []
    paginator = keys.list(limit=2)
    original = paginator._fetch
    paginator._fetch = lambda offset, size: calls.append((offset, size)) or original(offset, size)  # type: ignore[method-assign]
    assert isinstance(paginator, SyncPaginator)
    assert calls == []
    iterator = iter(paginator)
    assert next(iterator).name == "key-0"
    assert calls == [(0, 2)]
    assert [key.name for key in paginator.to_list()] == [
        "key-0",
        "key-1",
        "key-2",
        "key-3",
        "key-4",
        "groq-1",
    ]
    assert [k.name for k in keys.list(provider="groq")] == ["groq-1"]
    assert [k.name for k in keys.list(status="inactive")] == ["key-4"]
    assert [k.name for k in keys.list(search="BACKUP")] == ["key-1", "key-3"]
    assert len(keys.list(status="active", provider="openai").to_list()) == 4


@pytest.mark.parametrize(
    ("kwargs", "path"), [({"status": "dead"}, "status"), ({"limit": 0}, "limit"), ({"limit": True}, "limit")]
)
def test_list_rejects_bad_arguments(plane: ControlPlane, kwargs: dict[str, object], path: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        ProviderKeys(plane).list(**kwargs)  # type: ignore[arg-type]
    assert caught.value.path == path


def test_retrieve_by_id_or_name_and_missing(plane: ControlPlane) -> None:
    keys = ProviderKeys(plane)
    key = _create(keys)
    assert keys.retrieve(key.id) == keys.retrieve("prod")
    with pytest.raises(ResourceNotFoundError, match="'nope'"):
        keys.retrieve("nope")


def test_update_metadata_needs_no_provider_call(plane: ControlPlane, fake_provider: FakeProvider) -> None:
    keys = ProviderKeys(plane)
    key = _create(keys)
    calls = len(fake_provider.requests)
    updated = keys.update(key.id, {"name": "renamed", "description": "rotated Q2", "weight": 50})
    assert len(fake_provider.requests) == calls
    assert (updated.name, updated.description, updated.weight, updated.masked_key) == (
        "renamed", "rotated Q2", 50, key.masked_key
    )  # fmt: skip


def test_update_secret_is_validated_and_reencrypted(plane: ControlPlane) -> None:
    keys = ProviderKeys(plane)
    key = _create(keys)
    with pytest.raises(CredentialRejectedError):
        keys.update(key.id, {"api_key": BAD})
    assert keys.retrieve(key.id).masked_key == key.masked_key  # unchanged
    updated = keys.update(key.id, {"api_key": GOOD2})
    assert updated.masked_key.endswith("dcba")
    assert plane.pick("openai").api_key.reveal() == GOOD2  # type: ignore[union-attr]


def test_test_reactivates_and_auth_failure_deactivates(plane: ControlPlane) -> None:
    keys = ProviderKeys(plane)
    key = keys.create({"name": "prod", "provider": "openai", "api_key": BAD}, validate=False)
    result = keys.test(key.id)
    assert (result.success, "HTTP 401" in result.message) == (False, True)
    stored = keys.retrieve(key.id)
    assert stored.is_active is False
    assert stored.error == result.message
    assert stored.test_result == {"success": False, "message": result.message, "tested_at": result.tested_at}
    keys.update(key.id, {"api_key": GOOD})
    assert keys.retrieve(key.id).is_active is True
    assert keys.test(key.id).success


def test_delete(plane: ControlPlane) -> None:
    keys = ProviderKeys(plane)
    key = _create(keys)
    assert keys.delete("prod") == {"id": key.id, "deleted": True}
    assert keys.list().to_list() == []
    with pytest.raises(ResourceNotFoundError):
        keys.delete("prod")


def test_duplicate_name_conflicts_before_any_call(plane: ControlPlane, fake_provider: FakeProvider) -> None:
    keys = ProviderKeys(plane)
    _create(keys)
    calls = len(fake_provider.requests)
    with pytest.raises(ConflictError, match="'prod' already exists"):
        _create(keys, key=GOOD2)
    assert len(fake_provider.requests) == calls
    other = _create(keys, name="other", key=GOOD2)
    with pytest.raises(ConflictError):
        keys.update(other.id, {"name": "prod"})


@pytest.mark.parametrize(
    ("body", "path", "words"),
    [
        ({"name": "k", "provider": "openai", "apikey": GOOD}, "body", "unknown field(s) ['apikey']"),
        ({"name": "k", "api_key": GOOD}, "body.provider", "needs a 'provider'"),
        ({"name": "k", "provider": "opnai", "api_key": GOOD}, "body.provider", "Did you mean 'openai'"),
        ({"provider": "openai", "api_key": GOOD}, "body.name", "needs a 'name'"),
        ({"name": "k", "provider": "openai"}, "body.api_key", "missing"),
        (
            {"name": "k", "provider": "openai", "api_key": GOOD, "credential_type": "jwt"},
            "body.credential_type",
            "unknown",
        ),
        ({"name": "k", "provider": "openai", "api_key": GOOD, "weight": 0}, "body.weight", "whole number"),
    ],
)
def test_bad_input_is_clear_and_writes_nothing(
    plane: ControlPlane, body: dict[str, object], path: str, words: str
) -> None:
    keys = ProviderKeys(plane)
    with pytest.raises(InvalidRequestError) as caught:
        keys.create(body)
    assert caught.value.path == path
    assert words in caught.value.message
    assert keys.list().to_list() == []


def test_alias_creates_the_canonical_provider(plane: ControlPlane) -> None:
    key = ProviderKeys(plane).create({"name": "t", "provider": "together", "api_key": GOOD}, validate=False)
    assert key.provider == "together-ai"


def test_usage_is_flushed_to_last_used_at(plane: ControlPlane) -> None:
    keys = ProviderKeys(plane)
    key = _create(keys)
    assert keys.retrieve(key.id).last_used_at is None
    plane.pick("openai")
    assert keys.retrieve(key.id).last_used_at is not None


@pytest.mark.parametrize(("setting", "validates"), [("off", False), ("0", False), ("", True), ("on", True)])
def test_the_default_plane_of_a_gateway_validates_unless_the_environment_says_off(
    tmp_path: Path, setting: str, validates: bool
) -> None:
    calls: list[str] = []

    def unreachable(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        raise httpx.ConnectError("offline", request=request)

    env = {
        "STRANDS_PORTKEY_HOME": str(tmp_path),
        "STRANDS_PORTKEY_MASTER_KEY": MASTER,
        VALIDATE_KEYS_ENV: setting,
    }
    plane = open_control_plane(env, transport=httpx.MockTransport(unreachable), create=True)
    assert plane is not None
    body = {"name": "k", "provider": "anthropic", "api_key": GOOD}
    if validates:
        with pytest.raises(CredentialRejectedError, match="could not reach anthropic"):
            ProviderKeys(plane).create(body)
        assert calls == ["https://api.anthropic.com/v1/models"]
    else:
        assert ProviderKeys(plane).create(body).name == "k"
        assert calls == []
    plane.close()


def test_concurrent_first_keys_of_a_new_provider_all_succeed(plane: ControlPlane) -> None:
    """8 threads add 4 keys each to a provider the store has never seen: one provider row, 32 keys."""
    keys = ProviderKeys(plane)
    start = threading.Barrier(8)

    def add(thread: int) -> list[str]:
        start.wait()
        return [
            keys.create({"name": f"k-{thread}-{i}", "provider": "groq", "api_key": GOOD}).name
            for i in range(4)
        ]

    with ThreadPoolExecutor(max_workers=8) as pool:
        created = [name for names in pool.map(add, range(8)) for name in names]
    assert len(created) == 32
    with plane.store.reading() as session:
        providers = session.scalars(select(ProviderRow).where(ProviderRow.name == "groq")).all()
        assert len(providers) == 1
        owned = session.scalars(
            select(CredentialRow.name).where(CredentialRow.provider_id == providers[0].id)
        )
        assert sorted(owned) == sorted(created)
    assert len(keys.list(provider="groq", limit=100).to_list()) == 32
