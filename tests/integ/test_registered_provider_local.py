"""A provider registered through ``gw.providers`` under a name of its own, against the real local model.

``{"provider": "smol-local"}`` in a config goes to the provider's ``baseUrl`` (the llama-cpp server
on loopback), with its key from the vault, after that key was validated by a real model listing.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from strands_portkey import Gateway

pytestmark = pytest.mark.integ

MASTER = base64.urlsafe_b64encode(bytes(range(40, 72))).decode()
KEY = "sk-local-registered-0123456789abcdef"


async def test_a_config_names_a_registered_provider(local_model: Any, tmp_path: Path) -> None:
    env = {"STRANDS_PORTKEY_HOME": str(tmp_path), "STRANDS_PORTKEY_MASTER_KEY": MASTER}
    admin = Gateway(env=env)
    admin.providers.create({"name": "smol-local", "baseUrl": local_model.base_url})
    key = admin.ai.provider_keys.create({"name": "smol-key", "provider": "smol-local", "api_key": KEY})
    assert key.test_result is not None
    assert key.test_result["success"] is True  # validated by the server's real /models
    gateway = Gateway({"provider": "smol-local"}, env=env)
    response = await gateway.chat(
        {
            "model": local_model.model,
            "messages": [{"role": "user", "content": "Say hello."}],
            "temperature": 0,
            "seed": 7,
            "max_tokens": 8,
        }
    )
    assert response.choices[0].message.content
    assert response.route.provider == "smol-local"
    assert response.route.credential_id == key.id
    await gateway.aclose()
    await admin.aclose()
