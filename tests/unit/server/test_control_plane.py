"""With a control plane: registered models route by name, /v1/models lists them, the cost header."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import httpx
import pytest

from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.models_api import AIModels
from strands_portkey.controlplane.providers_api import Providers
from strands_portkey.server.headers import COST_HEADER
from tests.unit.conftest import completion
from tests.unit.server.conftest import HI, client, make_app

MASTER = base64.urlsafe_b64encode(bytes(range(32))).decode()


@pytest.fixture
def plane(tmp_path):
    env = {"STRANDS_PORTKEY_HOME": str(tmp_path), "STRANDS_PORTKEY_VALIDATE_KEYS": "off"}
    cp = ControlPlane(f"sqlite:///{tmp_path / 'cp.db'}", env=env, master_key=MASTER)
    yield cp
    cp.close()


async def test_models_cost_and_registered_names(plane: ControlPlane) -> None:
    providers = Providers(plane)
    providers.create({"name": "openai", "displayName": "OpenAI", "baseUrl": "https://api.openai.com/v1"})
    providers.rates.create(
        {
            "model": "gpt-4o",
            "type": "chatCompletion",
            "inputRate": 3,
            "outputRate": 15,
            "unitCosts": {"input": "0.0000025", "output": "0.00001"},
            "providers": ["openai"],
        }
    )
    AIModels(plane, plane.registered_models).create(
        {"name": "house-model", "provider": "openai", "vendor_model_id": "gpt-4o"}
    )
    seen: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={**completion("hi"), "model": "gpt-4o"})

    app = make_app(respond, control_plane=plane, env={"OPENAI_API_KEY": "sk-env"})
    async with client(app) as c:
        models = await c.get("/v1/models")
        named = await c.post("/v1/chat/completions", json={"model": "house-model", "messages": HI})
        direct = await c.post(
            "/v1/chat/completions",
            json={"model": "gpt-4o", "messages": HI},
            headers={"x-portkey-provider": "openai", "authorization": "Bearer sk-direct"},
        )
    ids = [entry["id"] for entry in models.json()["data"]]
    assert models.json()["object"] == "list"
    assert ids == ["@openai/gpt-4o", "house-model"]
    assert named.status_code == 200, named.text
    assert json.loads(seen[0].content)["model"] == "gpt-4o"
    # 3 prompt tokens x 0.0000025 + 2 completion tokens x 0.00001
    assert Decimal(direct.headers[COST_HEADER]) == Decimal("0.0000275")
