from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.providers_api import Providers
from strands_portkey.errors import (
    ConflictError,
    InvalidRequestError,
    LimitExceededError,
    ResourceNotFoundError,
)
from strands_portkey.store.windows import StoreWindows
from strands_portkey.types import Usage

from .conftest import GOOD, GOOD2, MASTER, Clock, FakeProvider

RATE = {"model": "gpt-4o", "type": "chatCompletion", "inputRate": 3, "outputRate": 15}


def _openai(providers: Providers) -> None:
    providers.create({"name": "openai", "displayName": "OpenAI", "baseUrl": "https://api.openai.com/v1/"})


def test_provider_crud_and_unique_names(plane: ControlPlane) -> None:
    providers = Providers(plane)
    created = providers.create(
        {"name": "openai", "displayName": "OpenAI", "baseUrl": "https://api.openai.com/v1/"}
    )
    assert (created.name, created.display_name, created.base_url, created.enabled) == (
        "openai", "OpenAI", "https://api.openai.com/v1", True
    )  # fmt: skip
    with pytest.raises(ConflictError, match="'openai' already exists"):
        providers.create({"name": "openai"})
    updated = providers.update("openai", {"region": "us-east-1", "enabled": False})
    assert (updated.region, updated.enabled) == ("us-east-1", False)
    assert providers.retrieve(created.id).region == "us-east-1"
    assert [p.name for p in providers.list()] == ["openai"]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"name": "Open AI"}, "body.name"),
        ({"displayName": "x"}, "body.name"),
        ({"name": "openai", "baseUrl": "ftp://x"}, "body.baseUrl"),
        ({"name": "openai", "enabled": "yes"}, "body.enabled"),
        ({"name": "openai", "colour": "red"}, "body"),
    ],
)
def test_bad_provider_bodies(plane: ControlPlane, body: dict[str, object], path: str) -> None:
    providers = Providers(plane)
    with pytest.raises(InvalidRequestError) as caught:
        providers.create(body)
    assert caught.value.path == path
    assert providers.list() == []


def test_delete_cascades_credentials_and_rates(plane: ControlPlane) -> None:
    providers = Providers(plane)
    _openai(providers)
    providers.create_credential("openai", {"name": "k1", "value": GOOD, "credentialType": "api_key"})
    providers.rates.create({**RATE, "providers": ["openai"]})
    listed = providers.list()[0]
    assert [c.name for c in listed.credentials] == ["k1"]
    assert [r.model for r in listed.rates] == ["gpt-4o"]
    providers.delete("openai")
    assert providers.list() == []
    assert providers.rates.list().to_list() == []
    assert plane.resolve_virtual_key("k1") is None
    with pytest.raises(ResourceNotFoundError):
        providers.retrieve("openai")


def test_credentials_under_a_provider(plane: ControlPlane, fake_provider: FakeProvider) -> None:
    providers = Providers(plane)
    providers.create({"name": "vllm", "baseUrl": "http://127.0.0.1:9/v1"})
    key = providers.create_credential("vllm", {"name": "k1", "value": GOOD, "weight": 7})
    assert str(fake_provider.requests[-1].url) == "http://127.0.0.1:9/v1/models"
    assert key.weight == 7
    providers.create({"name": "groq"})
    with pytest.raises(ResourceNotFoundError, match="'groq' has no credential"):
        providers.delete_credential("groq", key.id)
    assert providers.check_credential("vllm", "k1").success
    assert providers.update_credential("vllm", "k1", {"value": GOOD2}).masked_key.endswith("dcba")
    assert providers.delete_credential("vllm", "k1")["deleted"] is True


def test_access_key_pair_identifier_in_clear(plane: ControlPlane) -> None:
    providers = Providers(plane)
    providers.create({"name": "vllm", "baseUrl": "http://127.0.0.1:9/v1"})
    key = providers.create_credential(
        "vllm",
        {
            "name": "aws",
            "credentialType": "access_key_pair",
            "value": {"access_key_id": "AKIAEXAMPLE123", "secret_access_key": "x" * 40},
        },
        validate=False,
    )
    assert key.identifiers == {"access_key_id": "AKIAEXAMPLE123"}
    assert "x" * 40 not in str(key)


def test_health_shape(plane: ControlPlane) -> None:
    providers = Providers(plane)
    _openai(providers)
    providers.create_credential("openai", {"name": "Primary Key", "value": GOOD})
    providers.create_credential("openai", {"name": "Secondary Key", "value": GOOD2})
    providers.create({"name": "groq"})
    plane.report(plane.resolve_virtual_key("Secondary Key").id, 401)  # type: ignore[union-attr]
    health = providers.health()
    assert health["providers"] == {
        "groq": {},
        "openai": {"Primary Key": {"running": True}, "Secondary Key": {"running": False}},
    }
    assert health["timestamp"].endswith("Z")
    assert providers.retrieve("openai").credentials[1].is_active is False  # persisted


def test_rates_batch_create_is_all_or_nothing(plane: ControlPlane) -> None:
    providers = Providers(plane)
    for name in ("openai", "groq", "deepseek"):
        providers.create({"name": name})
    providers.rates.create({**RATE, "providers": ["deepseek"]})
    with pytest.raises(ConflictError, match="'deepseek' already has"):
        providers.rates.create({**RATE, "providers": ["openai", "groq", "deepseek"]})
    assert [r.provider for r in providers.rates.list()] == ["deepseek"]
    created = providers.rates.create({**RATE, "providers": ["openai", "groq"]})
    assert [(r.provider, r.input_rate) for r in created] == [("openai", Decimal(3)), ("groq", Decimal(3))]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"model": "m", "inputRate": 1, "outputRate": 1}, "body.providers"),
        ({"model": "m", "outputRate": 1, "providers": ["openai"]}, "body.input_rate"),
        ({"model": "m", "inputRate": -1, "outputRate": 1, "providers": ["openai"]}, "body.input_rate"),
        ({"model": "m", "inputRate": "lots", "outputRate": 1, "providers": ["openai"]}, "body.input_rate"),
        ({**RATE, "type": "music", "providers": ["openai"]}, "body.type"),
        ({**RATE, "unitCosts": {"inputs": 1}, "providers": ["openai"]}, "body.unitCosts"),
        ({**RATE, "providers": ["nobody"]}, "body.providers"),
    ],
)
def test_bad_rate_bodies(plane: ControlPlane, body: dict[str, object], path: str) -> None:
    providers = Providers(plane)
    providers.create({"name": "openai"})
    with pytest.raises((InvalidRequestError, ResourceNotFoundError)) as caught:
        providers.rates.create(body)
    assert path in str(caught.value)
    assert providers.rates.list().to_list() == []


def test_rate_list_search_filter_pages_and_update(plane: ControlPlane) -> None:
    providers = Providers(plane)
    providers.create({"name": "openai"})
    providers.create({"name": "groq"})
    for model in ("gpt-4o", "gpt-4o-mini", "o3"):
        providers.rates.create({**RATE, "model": model, "providers": ["openai", "groq"]})
    assert len(providers.rates.list(limit=4).to_list()) == 6
    assert [r.model for r in providers.rates.list(provider="groq", search="4O")] == ["gpt-4o", "gpt-4o-mini"]
    assert [r.provider for r in providers.rates.list(model="o3")] == ["groq", "openai"]
    rate = providers.rates.list(model="o3", provider="openai").to_list()[0]
    updated = providers.rates.update(
        "openai", rate.id, {"outputRate": "0.0000000001", "description": "reasoning"}
    )
    assert (updated.output_rate, updated.description) == (Decimal("1E-10"), "reasoning")
    with pytest.raises(ResourceNotFoundError):
        providers.rates.update("groq", rate.id, {"outputRate": 1})


def test_bulk_update_uses_the_formula_with_10_decimals(plane: ControlPlane) -> None:
    providers = Providers(plane)
    providers.create({"name": "openai"})
    providers.rates.create(
        {
            **RATE,
            "unitCosts": {"input": 2.5e-6, "output": 1e-5, "cache_read": 1.25e-6},
            "providers": ["openai"],
        }
    )
    providers.rates.create({**RATE, "model": "no-costs", "providers": ["openai"]})
    assert providers.rates.bulk_update(profit_margin=20, credit_price=0.001)["updated"] == 1
    rate = providers.rates.list(model="gpt-4o").to_list()[0]
    assert rate.input_rate == Decimal("0.003")
    assert rate.output_rate == Decimal("0.012")
    assert rate.cache_read_rate == Decimal("0.0015")
    assert providers.rates.list(model="no-costs").to_list()[0].input_rate == Decimal(3)
    providers.rates.bulk_update(profit_margin=0, credit_price=3)
    assert providers.rates.list(model="gpt-4o").to_list()[0].input_rate == Decimal("0.0000008333")
    with pytest.raises(InvalidRequestError, match="creditPrice"):
        providers.rates.bulk_update(profit_margin=0, credit_price=0)


def test_import_litellm_price_map(plane: ControlPlane, tmp_path: Path) -> None:
    providers = Providers(plane)
    providers.create({"name": "openai"})
    price_map = {
        "sample_spec": {"input_cost_per_token": 0},
        "gpt-4o": {
            "litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 2.5e-6,
            "output_cost_per_token": 1e-5, "cache_read_input_token_cost": 1.25e-6, "max_input_tokens": 128000,
            "supports_vision": True, "supports_function_calling": True,
        },
        "text-embedding-3-small": {
            "litellm_provider": "openai", "mode": "embedding", "input_cost_per_token": 2e-8,
            "output_cost_per_token": 0,
        },
        "claude-3-5-sonnet": {
            "litellm_provider": "anthropic", "mode": "chat", "input_cost_per_token": 3e-6,
            "output_cost_per_token": 1.5e-5,
        },
        "whisper-1": {
            "litellm_provider": "openai", "mode": "audio_transcription", "input_cost_per_second": 1e-4
        },
    }  # fmt: skip
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(price_map))
    report = providers.rates.import_litellm(path, profit_margin=20, credit_price=0.001)
    assert (report.created, report.updated, report.skipped) == (2, 0, 1)
    chat = providers.rates.list(model="gpt-4o").to_list()[0]
    assert chat.input_rate == Decimal("0.003")
    assert chat.unit_costs["cache_read"] == Decimal("0.00000125")
    assert chat.model_metadata == {"maxTokens": 128000, "features": ["tools", "vision"]}
    assert providers.rates.list(model="text-embedding-3-small").to_list()[0].type == "embedding"
    again = providers.rates.import_litellm(path)
    assert (again.created, again.updated) == (0, 2)
    assert providers.rates.list(model="gpt-4o").to_list()[0].input_rate == Decimal("0.0000025")


@pytest.mark.parametrize(("content", "words"), [("{not json", "not valid JSON"), ("[1, 2]", "JSON object")])
def test_import_bad_files(plane: ControlPlane, tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "prices.json"
    path.write_text(content)
    with pytest.raises(InvalidRequestError, match=words):
        Providers(plane).rates.import_litellm(path)
    with pytest.raises(InvalidRequestError, match="cannot read"):
        Providers(plane).rates.import_litellm(tmp_path / "missing.json")


def test_cost_in_usd_and_credits(plane: ControlPlane) -> None:
    providers = Providers(plane)
    providers.create({"name": "openai"})
    providers.rates.create(
        {
            "model": "gpt-4o", "inputRate": "0.003", "outputRate": "0.012", "cacheReadRate": "0.0015",
            "unitCosts": {"input": 2.5e-6, "output": 1e-5, "cache_read": 1.25e-6, "cache_write": 3.75e-6},
            "providers": ["openai"],
        }
    )  # fmt: skip
    usage = Usage(prompt_tokens=1000, completion_tokens=200, cache_read_tokens=400, cache_write_tokens=100)
    cost = providers.cost("openai", "gpt-4o", usage)
    assert cost is not None
    # credits: 500 uncached x 0.003 + 400 x 0.0015 + 100 x 0.003 (write falls back to input) + 200 x 0.012
    assert cost.credits == Decimal("4.8")
    # usd: 500 x 2.5e-6 + 400 x 1.25e-6 + 100 x 3.75e-6 + 200 x 1e-5
    assert cost.usd == Decimal("0.004125")
    assert providers.cost("openai", "unknown", usage) is None


def test_discovery_litellm_format_and_grouped(plane: ControlPlane) -> None:
    providers = Providers(plane)
    providers.create({"name": "openai", "displayName": "OpenAI"})
    providers.create({"name": "groq", "displayName": "Groq"})
    providers.create({"name": "deepseek", "enabled": False})
    providers.create_credential("openai", {"name": "k", "value": GOOD})
    providers.rates.create(
        {**RATE, "modelMetadata": {"maxTokens": 4096}, "providers": ["openai", "groq", "deepseek"]}
    )
    providers.rates.create({**RATE, "model": "emb", "type": "embedding", "providers": ["openai"]})
    models = providers.models()
    assert [m["key"] for m in models] == ["groq/gpt-4o", "openai/emb", "openai/gpt-4o"]
    entry = models[2]
    assert entry == {
        "key": "openai/gpt-4o", "model": "gpt-4o", "type": "chat", "provider": "openai",
        "providerId": entry["providerId"], "providerDisplayName": "OpenAI", "input_credits_per_token": 3.0,
        "output_credits_per_token": 15.0, "modelMetadata": {"maxTokens": 4096}, "status": "available",
    }  # fmt: skip
    assert models[0]["status"] == "unavailable"
    assert [m["key"] for m in providers.models(type="embedding")] == ["openai/emb"]
    grouped = providers.chat_models()
    assert [g["model"] for g in grouped] == ["gpt-4o"]
    assert [p["name"] for p in grouped[0]["providers"]] == ["groq", "openai"]


def test_test_models_job_and_rate_limit(
    plane: ControlPlane, clock: Clock, fake_provider: FakeProvider
) -> None:
    providers = Providers(plane, windows=StoreWindows(plane.store, clock=clock))
    providers.create({"name": "openai"})
    providers.create({"name": "groq"})
    providers.create_credential("openai", {"name": "k", "value": GOOD})
    providers.rates.create({**RATE, "providers": ["openai", "groq"]})
    providers.rates.create({**RATE, "model": "retired", "providers": ["openai"]})
    job = providers.test_models(user="ann")
    results = job.wait(timeout=10)
    assert job.status == "done"
    assert {(r["provider"], r["model"], r["ok"]) for r in results} == {
        ("openai", "gpt-4o", True), ("openai", "retired", False), ("groq", "gpt-4o", False)
    }  # fmt: skip
    assert (
        "no credential is stored for provider 'groq'"
        in next(r for r in results if r["provider"] == "groq")["message"]
    )
    for _ in range(4):
        providers.test_models(user="ann").wait(timeout=10)
    providers.test_models(user="bob").wait(timeout=10)  # another user has their own window
    clock.now += 420
    with pytest.raises(LimitExceededError) as caught:
        providers.test_models(user="ann")
    assert caught.value.retry_after == 180
    assert caught.value.status_code == 429
    clock.now += 180
    providers.test_models(user="ann").wait(timeout=10)


def test_a_page_of_rates_with_its_total_filtered_and_searched(plane: ControlPlane) -> None:
    providers = Providers(plane)
    for name in ("openai", "groq", "azure"):
        providers.create({"name": name})
    providers.rates.create({**RATE, "providers": ["openai", "groq", "azure"]})
    providers.rates.create({**RATE, "model": "gpt-4o-mini", "providers": ["openai"]})
    providers.rates.create({**RATE, "model": "llama-3", "description": "Meta", "providers": ["groq"]})
    rates = providers.rates
    everything, total = rates.page(limit=2)
    assert total == 5
    assert [(r.provider, r.model) for r in everything] == [("azure", "gpt-4o"), ("groq", "gpt-4o")]
    rest, _ = rates.page(limit=2, offset=2)
    assert [(r.provider, r.model) for r in rest] == [("groq", "llama-3"), ("openai", "gpt-4o")]
    groq_id = providers.retrieve("groq").id
    assert [r.model for r in rates.page(provider=groq_id)[0]] == ["gpt-4o", "llama-3"]
    assert rates.page(model="gpt-4o")[1] == 3
    assert [r.model for r in rates.page(search="META")[0]] == ["llama-3"]
    assert [r.provider for r in rates.page(search="azu")[0]] == ["azure"]
    assert rates.page(provider="nobody") == ([], 0)
    with pytest.raises(InvalidRequestError) as caught:
        rates.page(limit=1001)
    assert caught.value.path == "limit"
    with pytest.raises(InvalidRequestError) as caught:
        rates.page(offset=-1)
    assert caught.value.path == "offset"


def test_discovery_is_served_from_memory_until_something_it_shows_changes(
    plane: ControlPlane, db_url: str
) -> None:
    providers = Providers(plane)
    _openai(providers)
    providers.create_credential("openai", {"name": "k", "value": GOOD})
    providers.rates.create({**RATE, "providers": ["openai"]})
    assert providers.cached_discovery("models") is None  # nothing built yet
    first = providers.discovery("models")
    assert providers.cached_discovery("models") is first
    assert providers.discovery("models") is first  # no rebuild while nothing moved
    assert providers.models() == first
    assert providers.models() is not first  # callers get their own copy
    providers.rates.create({**RATE, "model": "gpt-4o-mini", "providers": ["openai"]})
    assert providers.cached_discovery("models") is None
    assert [m["model"] for m in providers.discovery("models")] == ["gpt-4o", "gpt-4o-mini"]
    plane.report(plane.resolve_virtual_key("k").id, 401)  # type: ignore[union-attr]
    assert providers.cached_discovery("models") is None  # which providers serve is part of the key
    assert {m["status"] for m in providers.discovery("models")} == {"unavailable"}
    other = ControlPlane(db_url, env=plane.env, master_key=MASTER, validate_credentials=False)
    try:
        Providers(other).rates.create({**RATE, "model": "o1", "providers": ["openai"]})
    finally:
        other.close()
    plane.refresh()  # what maybe_refresh does once the other process's change is seen
    assert "o1" in [m["model"] for m in providers.discovery("models")]


def test_a_test_models_job_is_recorded_for_every_process(plane: ControlPlane, db_url: str) -> None:
    providers = Providers(plane)
    providers.create({"name": "groq"})
    providers.rates.create({**RATE, "providers": ["groq"]})
    job = providers.test_models(user="ann")
    results = job.wait(timeout=10)
    other = ControlPlane(db_url, env=plane.env, master_key=MASTER, validate_credentials=False)
    try:
        seen = Providers(other).test_models_job(job.id)
    finally:
        other.close()
    assert (seen.status, seen.user, seen.results, seen.error, seen.done) == (
        "done",
        "ann",
        results,
        None,
        True,
    )
    assert results[0]["ok"] is False
    with pytest.raises(ResourceNotFoundError) as caught:
        providers.test_models_job("job-unknown")
    assert "job-unknown" in caught.value.message
