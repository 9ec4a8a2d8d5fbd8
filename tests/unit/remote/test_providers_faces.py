"""``gw.providers`` and ``client.providers`` behave alike: one suite, run against both faces.

Each test takes ``face`` (``Gateway(control_plane=plane)`` or a ``Client`` of the server over the
same plane) and asserts what a caller of ``.providers`` sees: the same dataclasses, the same
listings, the same exceptions with the same field paths.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest

from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.rates_api import ModelRate
from strands_portkey.controlplane.views import Provider, ProviderKey, ProviderKeyTestResult
from strands_portkey.errors import (
    ConflictError,
    InvalidRequestError,
    LimitExceededError,
    ResourceNotFoundError,
)

KEY = "sk-canary-faces-0123456789abcdefghij"
RATE = {"model": "claude-3-sonnet", "type": "chatCompletion", "inputRate": 3, "outputRate": 15}


def _openai(face: Any) -> Provider:
    return face.providers.create(
        {"name": "openai", "displayName": "OpenAI", "baseUrl": "https://api.openai.com/v1", "enabled": True}
    )


def test_providers_round_trip_as_the_same_dataclasses(face: Any, plane: ControlPlane) -> None:
    providers = face.providers
    created = _openai(face)
    assert isinstance(created, Provider)
    assert (created.name, created.display_name, created.base_url, created.enabled) == (
        "openai", "OpenAI", "https://api.openai.com/v1", True
    )  # fmt: skip
    key = providers.create_credential(
        "openai", {"name": "Primary Key", "value": KEY, "credentialType": "api_key"}
    )
    assert isinstance(key, ProviderKey)
    assert (key.name, key.provider, key.is_active, key.weight) == ("Primary Key", "openai", True, 100)
    assert KEY not in repr(key)
    providers.rates.create({**RATE, "providers": [created.id]})
    listed = providers.list()
    assert listed == [providers.retrieve("openai")] == [providers.retrieve(created.id)]
    assert [c.name for c in listed[0].credentials] == ["Primary Key"]
    assert [(r.model, r.input_rate, r.output_rate) for r in listed[0].rates] == [
        ("claude-3-sonnet", Decimal(3), Decimal(15))
    ]
    updated = providers.update("openai", {"region": "us-east-1", "enabled": False})
    assert (updated.region, updated.enabled, updated.display_name) == ("us-east-1", False, "OpenAI")
    assert providers.delete("openai") == {"id": created.id, "deleted": True}
    assert providers.list() == []
    assert plane.resolve_virtual_key("Primary Key") is None


def test_credentials_change_pause_check_and_go(face: Any, plane: ControlPlane) -> None:
    providers = face.providers
    _openai(face)
    key = providers.create_credential("openai", {"name": "k", "value": KEY})
    changed = providers.update_credential("openai", key.id, {"weight": 7, "is_active": False})
    assert (changed.weight, changed.is_active) == (7, False)
    assert providers.health()["providers"] == {"openai": {"k": {"running": False}}}
    checked = providers.check_credential("openai", "k")
    assert isinstance(checked, ProviderKeyTestResult)
    assert checked.tested_at.endswith("Z")
    assert providers.delete_credential("openai", key.id) == {"id": key.id, "deleted": True}
    with pytest.raises(ResourceNotFoundError):
        providers.delete_credential("openai", key.id)


def test_secrets_in_separate_fields_and_a_providers_api_format(face: Any) -> None:
    providers = face.providers
    providers.create({"name": "my-llm", "baseUrl": "http://10.0.0.5:8000/v1"})
    assert providers.update("my-llm", {"apiFormat": "anthropic"}).api_format == "anthropic"
    flat = providers.create_credential("my-llm", {"name": "flat", "api_key": KEY})
    assert flat.masked_key.endswith(KEY[-4:])
    pair = providers.create_credential(
        "my-llm",
        {"name": "aws", "credentialType": "access_key_pair", "access_key_id": "AKIAEXAMPLE123",
         "secret_access_key": "s" * 40},
    )  # fmt: skip
    assert (pair.credential_type, pair.identifiers) == (
        "access_key_pair",
        {"access_key_id": "AKIAEXAMPLE123"},
    )


def test_rates_list_page_update_delete_and_bulk_update(face: Any) -> None:
    providers = face.providers
    for name in ("openai", "groq"):
        providers.create({"name": name})
    made = providers.rates.create({**RATE, "providers": ["openai", "groq"]})
    assert all(isinstance(rate, ModelRate) for rate in made)
    costs = {"input": 2.5e-6, "output": 1e-5}
    providers.rates.create(
        {"model": "gpt-4o", "inputRate": 2.5, "outputRate": 10, "unitCosts": costs, "providers": ["openai"]}
    )
    everything = providers.rates.list(limit=2).to_list()
    assert [(r.provider, r.model) for r in everything] == [
        ("groq", "claude-3-sonnet"), ("openai", "claude-3-sonnet"), ("openai", "gpt-4o")
    ]  # fmt: skip
    page, total = providers.rates.page(model="claude-3-sonnet", limit=1, offset=1)
    assert ([r.provider for r in page], total) == (["openai"], 2)
    assert providers.rates.retrieve(made[0].id) == made[0]
    changed = providers.rates.update(made[0].provider, made[0].id, {"inputRate": 4, "description": "Sonnet"})
    assert (changed.input_rate, changed.description) == (Decimal(4), "Sonnet")
    assert providers.rates.bulk_update(profit_margin=20, credit_price=0.001) == {
        "updated": 1, "profitMargin": "20", "creditPrice": "0.001"
    }  # fmt: skip
    gpt = providers.rates.list(model="gpt-4o").to_list()[0]
    assert (gpt.input_rate, gpt.output_rate, gpt.unit_costs["input"]) == (
        Decimal("0.003"), Decimal("0.012"), Decimal("0.0000025")
    )  # fmt: skip
    assert providers.rates.delete("groq", made[0].id if made[0].provider == "groq" else made[1].id)["deleted"]
    assert providers.rates.page()[1] == 2


def test_discovery_and_health_answer_alike(face: Any, plane: ControlPlane) -> None:
    providers = face.providers
    _openai(face)
    providers.create({"name": "groq"})
    providers.create_credential("openai", {"name": "Primary Key", "value": KEY})
    providers.rates.create({**RATE, "modelMetadata": {"maxTokens": 4096}, "providers": ["openai", "groq"]})
    models = providers.models()
    assert [(m["key"], m["status"]) for m in models] == [
        ("groq/claude-3-sonnet", "unavailable"), ("openai/claude-3-sonnet", "available")
    ]  # fmt: skip
    assert providers.models(type="embedding") == []
    assert [g["model"] for g in providers.chat_models()] == ["claude-3-sonnet"]
    health = providers.health()
    assert health["providers"] == {"groq": {}, "openai": {"Primary Key": {"running": True}}}


def test_mistakes_raise_the_same_exceptions_with_the_same_paths(face: Any) -> None:
    providers = face.providers
    _openai(face)
    with pytest.raises(ConflictError):
        _openai(face)
    with pytest.raises(ResourceNotFoundError):
        providers.retrieve("nobody")
    with pytest.raises(ResourceNotFoundError):
        providers.update("nobody", {"region": "eu"})
    with pytest.raises(InvalidRequestError) as bad_name:
        providers.create({"name": "Not A Slug"})
    assert bad_name.value.path == "body.name"
    with pytest.raises(InvalidRequestError) as bad_url:
        providers.update("openai", {"baseUrl": "ftp://x"})
    assert bad_url.value.path == "body.baseUrl"
    with pytest.raises(InvalidRequestError) as bad_limit:
        providers.rates.page(limit=0)
    assert bad_limit.value.path == "limit"
    with pytest.raises(ResourceNotFoundError):
        providers.rates.create({**RATE, "providers": ["openai", "nobody"]})
    assert providers.rates.list().to_list() == []
    providers.create_credential("openai", {"name": "dup", "value": KEY})
    with pytest.raises(ConflictError):
        providers.create_credential("openai", {"name": "dup", "value": KEY})


def test_test_models_is_limited_to_five_starts(face: Any) -> None:
    for _ in range(5):
        assert face.providers.test_models(user="ana").id.startswith("job-")
    with pytest.raises(LimitExceededError) as caught:
        face.providers.test_models(user="ana")
    assert 590 <= caught.value.retry_after <= 600


def test_a_test_models_job_is_followed_to_its_results(face: Any) -> None:
    providers = face.providers
    providers.create({"name": "groq"})  # no key: its models are reported unavailable, no call made
    providers.rates.create({**RATE, "providers": ["groq"]})
    job = providers.test_models(user="ana")
    for thread in threading.enumerate():  # the job's thread, named after it (the server is in-process)
        if thread.name == job.id:
            thread.join(timeout=30)
    results = job.wait(timeout=30)
    assert job.done
    assert job.status == "done"
    assert [(r["provider"], r["model"], r["ok"]) for r in results] == [("groq", "claude-3-sonnet", False)]
    again = providers.test_models_job(job.id)
    assert (again.id, again.status, again.results, again.user) == (job.id, "done", results, "ana")
    with pytest.raises(ResourceNotFoundError):
        providers.test_models_job("job-000000000000")
