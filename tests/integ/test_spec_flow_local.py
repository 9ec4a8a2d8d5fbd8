"""The spec's "complete example" flow, run unchanged on ``Gateway().ai`` over the embedded SQLite store.

The gateway has no config (the spec's ``Strongly()``): the traffic takes the registered model's own
route. The spec registers an Anthropic model and an Anthropic key; offline, the provider is the local
SmolLM2 server (OpenAI-compatible, ``llama-cpp`` at its loopback URL), so the key is really
validated and the analytics show real traffic.
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import pytest

from strands_portkey import Gateway

pytestmark = pytest.mark.integ

MASTER = base64.urlsafe_b64encode(bytes(range(7, 39))).decode()
KEY = "sk-local-spec-flow-0123456789abcdef"


def test_complete_example_flow(local_model: Any, tmp_path: Path) -> None:
    env = {"STRANDS_PORTKEY_HOME": str(tmp_path), "STRANDS_PORTKEY_MASTER_KEY": MASTER}
    client = Gateway(env=env)  # the spec's Strongly(): no config, registered models only

    overview = client.ai.models.overview()
    assert (overview.total, overview.active, overview.stopped) == (0, 0, 0)

    client.providers.create(
        {"name": "llama-cpp", "displayName": "Local SmolLM2", "baseUrl": local_model.base_url}
    )
    model = client.ai.models.create(
        {
            "name": "SmolLM2 local",
            "type": "third-party",
            "provider": "llama-cpp",
            "vendor_model_id": local_model.model,
            "model_type": "chat",
            "description": "The local test model",
            "capabilities": ["chat"],
            "max_tokens": 24,
            "context_window": 2048,
            "config": {"default_temperature": 0},
        }
    )
    key = client.ai.provider_keys.create(
        {"name": "Local key", "provider": "llama-cpp", "api_key": KEY, "description": "for the local server"}
    )
    assert KEY not in key.masked_key
    assert client.ai.provider_keys.test(key.id).success is True

    assert [(m.name, m.provider, m.vendor_model_id) for m in client.ai.models.list(status="active")] == [
        ("SmolLM2 local", "llama-cpp", local_model.model)
    ]
    perms = client.ai.models.get_permissions(model.id)
    assert (perms.owner, perms.is_shared) == ("local", False)
    client.ai.models.update_permissions(model.id, is_shared=True)
    assert client.ai.models.get_permissions(model.id).is_shared is True

    async def traffic() -> list[str]:
        # the model's own route: its provider, the stored key, the provider's base URL
        body = {
            "model": model.name,
            "messages": [{"role": "user", "content": "What is the capital of France?"}],
        }
        texts = [(await client.chat(body)).text for _ in range(3)]
        async with client.stream({**body, "model": model.id}) as stream:
            texts.append("".join([c.delta.content or "" async for chunk in stream for c in chunk.choices]))
        return texts

    texts = asyncio.run(traffic())
    assert all(texts)

    today = client.ai.analytics.usage()
    assert today.total_requests == 4
    assert today.total_tokens > 0
    assert client.ai.analytics.usage(model_id=model.id).total_requests == 4
    costs = client.ai.analytics.costs(group_by="provider")
    assert costs.currency == "USD"
    assert [entry["provider"] for entry in costs.by_provider] == ["llama-cpp"]
    perf = client.ai.analytics.performance()
    assert perf.avg_latency_ms > 0
    assert perf.error_rate == 0.0
    assert perf.p50_latency_ms <= perf.p95_latency_ms <= perf.p99_latency_ms

    client.ai.provider_keys.delete(key.id)
    client.ai.models.delete(model.id)
    assert client.ai.models.overview().total == 0
    asyncio.run(client.aclose())
