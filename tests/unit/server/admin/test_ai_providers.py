"""The AI Providers API of seed 002 over ASGI: every route with the seed's bodies, as admin and member.

The store is a real SQLite control plane (credential validation off, as in the conftest); the
routes' answers are checked against what ``gw.providers`` (the same service) holds afterwards.
"""

from __future__ import annotations

from typing import Any

from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.providers_api import Providers
from tests.unit.server.admin import provider_fixtures as fx
from tests.unit.server.admin.conftest import Keys, call

GOOD_KEY = fx.GOOD_KEY
validating_plane, validating_app, validating_keys = fx.validating_plane, fx.validating_app, fx.validating_keys

OPENAI = {"name": "openai", "displayName": "OpenAI", "baseUrl": "https://api.openai.com/v1", "enabled": True}
KEY = "sk-canary-openai-0123456789abcdefghij"
CREDENTIAL = {"name": "My API Key", "value": KEY, "credentialType": "api_key"}
RATE = {"model": "claude-3-sonnet", "type": "chatCompletion", "inputRate": 3, "outputRate": 15}


async def _provider(app: Any, keys: Keys, body: dict[str, Any]) -> dict[str, Any]:
    made = await call(app, "POST", "/api/ai-providers", key=keys.admin, json=body)
    assert made.status_code == 201, made.text
    return dict(made.json())


async def test_providers_are_created_listed_updated_and_deleted_as_the_seed_says(
    app: Any, keys: Keys, plane: ControlPlane
) -> None:
    created = await _provider(app, keys, OPENAI)
    assert {k: created[k] for k in OPENAI} == OPENAI
    assert created["id"].startswith("prov-")
    assert created["credentials"] == created["modelRates"] == []
    await call(app, "POST", f"/api/ai-providers/{created['id']}/credentials", key=keys.admin, json=CREDENTIAL)
    await call(
        app,
        "POST",
        "/api/ai-providers/model-rates",
        key=keys.admin,
        json={**RATE, "providers": [created["id"]]},
    )
    listed = await call(app, "GET", "/api/ai-providers", key=keys.member)
    assert listed.status_code == 200
    page = listed.json()
    assert (page["total"], page["limit"], page["offset"]) == (1, 50, 0)
    provider = page["data"][0]
    assert [c["name"] for c in provider["credentials"]] == ["My API Key"]
    assert provider["credentials"][0]["maskedValue"].endswith("ghij")
    assert [(r["model"], r["inputRate"], r["outputRate"]) for r in provider["modelRates"]] == [
        ("claude-3-sonnet", 3, 15)
    ]
    one = await call(app, "GET", "/api/ai-providers/openai", key=keys.member)
    assert one.json()["id"] == created["id"]
    updated = await call(
        app,
        "PUT",
        f"/api/ai-providers/{created['id']}",
        key=keys.admin,
        json={"region": "us-east-1", "enabled": False},
    )
    assert (updated.status_code, updated.json()["region"], updated.json()["enabled"]) == (
        200,
        "us-east-1",
        False,
    )
    assert updated.json()["displayName"] == "OpenAI"
    deleted = await call(app, "DELETE", f"/api/ai-providers/{created['id']}", key=keys.admin)
    assert deleted.json() == {"id": created["id"], "deleted": True}
    providers = Providers(plane)
    assert providers.list() == []
    assert providers.rates.list().to_list() == []
    assert plane.resolve_virtual_key("My API Key") is None


async def test_providers_list_pages(app: Any, keys: Keys) -> None:
    for name in ("c", "a", "b"):
        await _provider(app, keys, {"name": name})
    page = (await call(app, "GET", "/api/ai-providers?limit=2&offset=1", key=keys.member)).json()
    assert ([p["name"] for p in page["data"]], page["total"], page["limit"], page["offset"]) == (
        ["b", "c"],
        3,
        2,
        1,
    )


async def test_credentials_are_validated_added_changed_checked_and_removed_masked(
    validating_app: Any, validating_keys: Keys, validating_plane: ControlPlane
) -> None:
    app, keys, plane = validating_app, validating_keys, validating_plane
    provider = await _provider(app, keys, OPENAI)
    base = f"/api/ai-providers/{provider['id']}/credentials"
    made = await call(app, "POST", base, key=keys.admin, json={**CREDENTIAL, "value": GOOD_KEY})
    assert made.status_code == 201, made.text
    credential = made.json()
    assert (credential["name"], credential["credentialType"], credential["active"], credential["weight"]) == (
        "My API Key", "api_key", True, 100
    )  # fmt: skip
    assert credential["testResult"]["success"] is True
    assert "value" not in credential
    assert GOOD_KEY not in made.text
    assert credential["maskedValue"].endswith(GOOD_KEY[-4:])
    selected = plane.resolve_virtual_key("My API Key")
    assert selected is not None
    assert selected.credential.api_key is not None
    assert selected.credential.api_key.reveal() == GOOD_KEY  # stored encrypted, used as given
    refused = await call(app, "PUT", f"{base}/{credential['id']}", key=keys.admin, json={"value": KEY})
    assert (refused.status_code, refused.json()["error"]["type"]) == (400, "invalid_request_error")
    assert KEY not in refused.text
    still = plane.resolve_virtual_key("My API Key")
    assert still is not None
    assert still.credential.api_key is not None
    assert still.credential.api_key.reveal() == GOOD_KEY  # a refused key is not saved
    changed = await call(
        app, "PUT", f"{base}/{credential['id']}", key=keys.admin, json={"weight": 7, "value": GOOD_KEY + "9"}
    )
    assert (changed.status_code, changed.json()["weight"]) == (200, 7)
    assert changed.json()["maskedValue"] != credential["maskedValue"]
    paused = await call(app, "PUT", f"{base}/{credential['id']}", key=keys.admin, json={"active": False})
    assert paused.json()["active"] is False
    checked = await call(app, "GET", f"{base}/{credential['id']}/check", key=keys.admin)
    assert checked.status_code == 200
    assert (checked.json()["success"], checked.json()["testedAt"].endswith("Z")) == (True, True)
    again = await call(app, "GET", "/api/ai-providers/openai", key=keys.admin)
    assert again.json()["credentials"][0]["active"] is True  # a passing check re-activates it
    removed = await call(app, "DELETE", f"{base}/{credential['id']}", key=keys.admin)
    assert removed.json() == {"id": credential["id"], "deleted": True}
    assert plane.resolve_virtual_key("My API Key") is None


async def test_a_credential_the_provider_refuses_is_not_saved(
    validating_app: Any, validating_keys: Keys, validating_plane: ControlPlane
) -> None:
    await _provider(validating_app, validating_keys, OPENAI)
    refused = await call(
        validating_app,
        "POST",
        "/api/ai-providers/openai/credentials",
        key=validating_keys.admin,
        json=CREDENTIAL,
    )
    assert refused.status_code == 400
    assert "not saved" in refused.json()["error"]["message"]
    assert KEY not in refused.text
    assert Providers(validating_plane).retrieve("openai").credentials == ()
    unchecked = await call(
        validating_app,
        "POST",
        "/api/ai-providers/openai/credentials?validate=false",
        key=validating_keys.admin,
        json=CREDENTIAL,
    )
    assert unchecked.status_code == 201  # an admin may save a key unchecked (offline), as gw.providers can
    assert unchecked.json()["testResult"] is None


async def test_a_credential_of_another_provider_is_not_found(app: Any, keys: Keys) -> None:
    await _provider(app, keys, OPENAI)
    await _provider(app, keys, {"name": "groq"})
    made = await call(app, "POST", "/api/ai-providers/openai/credentials", key=keys.admin, json=CREDENTIAL)
    wrong = await call(
        app, "DELETE", f"/api/ai-providers/groq/credentials/{made.json()['id']}", key=keys.admin
    )
    assert wrong.status_code == 404
    assert wrong.json()["error"]["type"] == "not_found_error"


async def test_model_rates_batch_list_filter_update_and_bulk_update(app: Any, keys: Keys) -> None:
    first = await _provider(app, keys, OPENAI)
    second = await _provider(app, keys, {"name": "bedrock", "region": "us-east-1"})
    batch = await call(
        app,
        "POST",
        "/api/ai-providers/model-rates",
        key=keys.admin,
        json={**RATE, "providers": [first["id"], second["id"]]},
    )
    assert batch.status_code == 201, batch.text
    made = batch.json()["data"]
    assert sorted(r["provider"] for r in made) == ["bedrock", "openai"]
    await call(
        app,
        "POST",
        "/api/ai-providers/model-rates",
        key=keys.admin,
        json={
            "model": "gpt-4o",
            "inputRate": 2.5,
            "outputRate": 10,
            "unitCosts": {"input": 2.5e-6, "output": 1e-5},
            "providers": ["openai"],
        },
    )
    everything = (await call(app, "GET", "/api/ai-providers/model-rates", key=keys.member)).json()
    assert everything["total"] == 3
    assert [(r["provider"], r["model"]) for r in everything["data"]] == [
        ("bedrock", "claude-3-sonnet"), ("openai", "claude-3-sonnet"), ("openai", "gpt-4o")
    ]  # fmt: skip
    by_provider = await call(
        app, "GET", f"/api/ai-providers/model-rates?providerId={first['id']}", key=keys.member
    )
    assert [r["model"] for r in by_provider.json()["data"]] == ["claude-3-sonnet", "gpt-4o"]
    by_model = await call(
        app, "GET", "/api/ai-providers/model-rates?model=claude-3-sonnet&limit=1&offset=1", key=keys.member
    )
    assert (by_model.json()["total"], [r["provider"] for r in by_model.json()["data"]]) == (2, ["openai"])
    searched = await call(app, "GET", "/api/ai-providers/model-rates?search=GPT", key=keys.member)
    assert [r["model"] for r in searched.json()["data"]] == ["gpt-4o"]
    rate = made[0]
    changed = await call(
        app,
        "PUT",
        f"/api/ai-providers/{rate['providerId']}/model-rates/{rate['id']}",
        key=keys.admin,
        json={
            "inputRate": 4,
            "description": "Sonnet",
            "modelMetadata": {"maxTokens": 4096, "features": ["tools"]},
        },
    )
    assert changed.status_code == 200
    assert (changed.json()["inputRate"], changed.json()["outputRate"], changed.json()["description"]) == (
        4,
        15,
        "Sonnet",
    )
    assert changed.json()["modelMetadata"] == {"maxTokens": 4096, "features": ["tools"]}
    repriced = await call(
        app,
        "POST",
        "/api/ai-providers/bulk-rate-update",
        key=keys.admin,
        json={"profitMargin": 20, "creditPrice": 0.001},
    )
    assert repriced.json() == {"updated": 1, "profitMargin": "20", "creditPrice": "0.001"}
    gpt = (await call(app, "GET", "/api/ai-providers/model-rates?model=gpt-4o", key=keys.member)).json()[
        "data"
    ][0]
    assert (gpt["inputRate"], gpt["outputRate"]) == (0.003, 0.012)  # 2.5e-6 x 1.2 / 0.001, 1e-5 x 1.2 / 0.001


async def test_a_rate_of_another_provider_is_not_found(app: Any, keys: Keys) -> None:
    await _provider(app, keys, OPENAI)
    await _provider(app, keys, {"name": "groq"})
    made = await call(
        app, "POST", "/api/ai-providers/model-rates", key=keys.admin, json={**RATE, "providers": ["openai"]}
    )
    rate_id = made.json()["data"][0]["id"]
    wrong = await call(
        app, "PUT", f"/api/ai-providers/groq/model-rates/{rate_id}", key=keys.admin, json={"inputRate": 1}
    )
    assert wrong.status_code == 404
