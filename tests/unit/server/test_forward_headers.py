"""``x-portkey-forward-headers`` and a config target's ``forward_headers``: what the upstream receives."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.unit.conftest import completion
from tests.unit.server.conftest import HI, client, make_app

PROVIDER_KEY = "sk-canary-forward-3344"
OPENAI = {"x-portkey-provider": "openai", "authorization": f"Bearer {PROVIDER_KEY}"}


def recording() -> tuple[list[httpx.Request], object]:
    seen: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/embeddings"):
            data = [{"object": "embedding", "index": 0, "embedding": [0.1]}]
            return httpx.Response(200, json={"object": "list", "data": data, "model": "e", "usage": {}})
        return httpx.Response(200, json=completion("hi"))

    return seen, respond


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/chat/completions", {"model": "gpt-4o", "messages": HI}),
        ("/v1/messages", {"model": "gpt-4o", "max_tokens": 8, "messages": HI}),
        ("/v1/embeddings", {"model": "e", "input": "x"}),
    ],
)
async def test_named_headers_reach_the_upstream_as_they_came(path: str, body: dict) -> None:
    seen, respond = recording()
    headers = {
        **OPENAI,
        "x-portkey-forward-headers": "X-Tenant, x-request-source",
        "x-tenant": "Acme-7",
        "x-request-source": "batch",
        "x-not-named": "stays",
    }
    async with client(make_app(respond)) as c:
        response = await c.post(path, json=body, headers=headers)
    assert response.status_code == 200
    sent = seen[0].headers
    assert (sent["x-tenant"], sent["x-request-source"]) == ("Acme-7", "batch")
    assert "x-not-named" not in sent
    assert "x-portkey-forward-headers" not in sent
    assert sent["authorization"] == f"Bearer {PROVIDER_KEY}"


async def test_request_names_merge_with_a_config_targets_forward_headers() -> None:
    seen, respond = recording()
    config = {
        "strategy": {"mode": "fallback"},
        "forward_headers": ["x-from-config"],
        "targets": [{"provider": "openai", "api_key": "sk-cfg"}],
    }
    headers = {
        "x-portkey-config": json.dumps(config),
        "x-portkey-forward-headers": "x-from-request",
        "x-from-config": "c",
        "x-from-request": "r",
    }
    async with client(make_app(respond)) as c:
        response = await c.post(
            "/v1/chat/completions", json={"model": "gpt-4o", "messages": HI}, headers=headers
        )
    assert response.status_code == 200
    assert (seen[0].headers["x-from-config"], seen[0].headers["x-from-request"]) == ("c", "r")
    assert seen[0].headers["authorization"] == "Bearer sk-cfg"


async def test_a_forwarded_header_replaces_the_adapters_own_as_in_portkey() -> None:
    seen, respond = recording()
    headers = {
        **OPENAI,
        "x-portkey-forward-headers": "openai-organization",
        "openai-organization": "org-caller",
    }
    config_headers = {**OPENAI, "x-portkey-openai-organization": "org-config", **headers}
    async with client(make_app(respond)) as c:
        await c.post("/v1/chat/completions", json={"model": "m", "messages": HI}, headers=config_headers)
    assert seen[0].headers["openai-organization"] == "org-caller"


@pytest.mark.parametrize("name", ["authorization", "x-api-key", "x-portkey-config", "connection", "host"])
async def test_credentials_portkey_and_hop_by_hop_headers_are_refused(name: str) -> None:
    seen, respond = recording()
    async with client(make_app(respond)) as c:
        response = await c.post(
            "/v1/chat/completions",
            json={"model": "m", "messages": HI},
            headers={**OPENAI, "x-portkey-forward-headers": f"x-ok, {name}"},
        )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "x-portkey-forward-headers"
    assert name in response.json()["error"]["message"]
    assert seen == []


async def test_a_config_naming_a_refused_header_does_not_forward_it() -> None:
    seen, respond = recording()
    config = {"provider": "openai", "api_key": "sk-cfg", "forward_headers": ["x-api-key", "x-tenant"]}
    headers = {"x-portkey-config": json.dumps(config), "x-api-key": "gateway-key-secret", "x-tenant": "t"}
    async with client(make_app(respond)) as c:
        response = await c.post("/v1/chat/completions", json={"model": "m", "messages": HI}, headers=headers)
    assert response.status_code == 200
    assert "x-api-key" not in seen[0].headers
    assert seen[0].headers["x-tenant"] == "t"
    assert seen[0].headers["authorization"] == "Bearer sk-cfg"


async def test_nothing_is_forwarded_unless_named() -> None:
    seen, respond = recording()
    async with client(make_app(respond)) as c:
        await c.post(
            "/v1/chat/completions", json={"model": "m", "messages": HI}, headers={**OPENAI, "x-tenant": "t"}
        )
    assert "x-tenant" not in seen[0].headers
