"""``gw.ai.provider_keys`` and ``client.ai.provider_keys`` behave alike (both faces, one suite)."""

from __future__ import annotations

from typing import Any

import pytest

from strands_portkey.controlplane.views import ProviderKey, ProviderKeyTestResult
from strands_portkey.errors import (
    ConflictError,
    CredentialRejectedError,
    InvalidRequestError,
    ResourceNotFoundError,
)
from tests.unit.remote.ai_fixtures import BAD_KEY, GOOD_KEY, plane

__all__ = ["plane"]

PROD = {
    "name": "Production OpenAI Key",
    "provider": "openai",
    "api_key": GOOD_KEY,
    "description": "Main production key for chat models",
    "provider_organization": "org-abc123",
}


def test_create_masks_the_key_and_it_never_comes_back(face: Any) -> None:
    key = face.ai.provider_keys.create(PROD)
    assert isinstance(key, ProviderKey)
    assert (key.name, key.provider, key.provider_organization, key.is_active) == (
        "Production OpenAI Key",
        "openai",
        "org-abc123",
        True,
    )
    assert (key.owner, key.organization_id) == ("ana", "local")
    assert key.masked_key.startswith("sk-")
    assert GOOD_KEY not in key.masked_key
    assert GOOD_KEY not in repr(key)
    assert GOOD_KEY not in str(key.to_dict())
    assert face.ai.provider_keys.retrieve(key.id) == key
    assert face.ai.provider_keys.retrieve("Production OpenAI Key").id == key.id


def test_list_filters_update_test_delete(face: Any) -> None:
    first = face.ai.provider_keys.create(PROD)
    second = face.ai.provider_keys.create({"name": "Anthropic", "provider": "anthropic", "api_key": GOOD_KEY})
    assert [k.name for k in face.ai.provider_keys.list()] == [first.name, second.name]
    assert [k.name for k in face.ai.provider_keys.list(provider="openai")] == [first.name]
    assert [k.name for k in face.ai.provider_keys.list(search="anthrop")] == [second.name]
    assert [k.name for k in face.ai.provider_keys.list(status="active", limit=1)] == [first.name, second.name]
    assert face.ai.provider_keys.list(status="inactive").to_list() == []
    updated = face.ai.provider_keys.update(first.id, {"name": "Updated Key Name", "description": "Rotated"})
    assert (updated.name, updated.description, updated.masked_key) == (
        "Updated Key Name",
        "Rotated",
        first.masked_key,
    )
    result = face.ai.provider_keys.test(first.id)
    assert isinstance(result, ProviderKeyTestResult)
    assert result.success is True
    assert result.tested_at.endswith("Z")
    assert face.ai.provider_keys.retrieve(first.id).last_tested_at == result.tested_at
    assert face.ai.provider_keys.delete(first.id) == {"id": first.id, "deleted": True}
    with pytest.raises(ResourceNotFoundError):
        face.ai.provider_keys.retrieve(first.id)
    assert [k.name for k in face.ai.provider_keys.list()] == ["Anthropic"]


def test_refused_keys_bad_bodies_and_duplicates_write_nothing(face: Any) -> None:
    face.ai.provider_keys.create(PROD)
    with pytest.raises(CredentialRejectedError):
        face.ai.provider_keys.create({**PROD, "name": "bad", "api_key": BAD_KEY})
    with pytest.raises(ConflictError):
        face.ai.provider_keys.create(PROD)
    with pytest.raises(InvalidRequestError, match="colour"):
        face.ai.provider_keys.create({**PROD, "name": "other", "colour": "red"})
    with pytest.raises(InvalidRequestError, match="weight"):
        face.ai.provider_keys.create({**PROD, "name": "other", "weight": "heavy"})
    with pytest.raises(InvalidRequestError, match="provider"):
        face.ai.provider_keys.update(PROD["name"], {"provider": "anthropic"})
    with pytest.raises(InvalidRequestError, match="status"):
        face.ai.provider_keys.list(status="sleeping")
    with pytest.raises(InvalidRequestError, match="limit"):
        face.ai.provider_keys.list(limit=1001)
    with pytest.raises(ResourceNotFoundError):
        face.ai.provider_keys.test("key-missing")
    assert [k.name for k in face.ai.provider_keys.list()] == [PROD["name"]]
