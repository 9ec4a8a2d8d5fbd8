"""``POST /v1/embeddings`` over ASGI: OpenAI's shape in and out, headers, errors, fallback past chat-only."""

from __future__ import annotations

import base64
import json
import struct

import httpx

from tests.unit.server.conftest import RecordingLimiter, client, make_app

PROVIDER_KEY = "sk-canary-embed-9911"
OPENAI = {"x-portkey-provider": "openai", "authorization": f"Bearer {PROVIDER_KEY}"}
BODY = {"model": "text-embedding-3-small", "input": ["one", "two"], "encoding_format": "float"}


def vectors(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    data = [
        {"object": "embedding", "index": i, "embedding": [0.5 + i, -1.0]} for i, _ in enumerate(body["input"])
    ]
    usage = {"prompt_tokens": 4, "total_tokens": 4}
    return httpx.Response(200, json={"object": "list", "data": data, "model": body["model"], "usage": usage})


async def test_embeddings_in_openais_shape_with_portkeys_headers(limiter: RecordingLimiter) -> None:
    seen: list[httpx.Request] = []
    app = make_app(lambda r: seen.append(r) or vectors(r), limiter=limiter)
    async with client(app) as c:
        response = await c.post("/v1/embeddings", json=BODY, headers={**OPENAI, "x-portkey-trace-id": "t-e"})
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list"
    assert [item["embedding"] for item in body["data"]] == [[0.5, -1.0], [1.5, -1.0]]
    assert body["usage"] == {"prompt_tokens": 4, "total_tokens": 4}
    assert response.headers["x-portkey-trace-id"] == "t-e"
    assert response.headers["x-portkey-provider"] == "openai"
    assert str(seen[0].url) == "https://api.openai.com/v1/embeddings"
    assert seen[0].headers["authorization"] == f"Bearer {PROVIDER_KEY}"
    assert [(r.endpoint, r.model) for r in limiter.reserved] == [("embeddings", "text-embedding-3-small")]
    assert [o.status for o in limiter.settled] == [200]


async def test_base64_is_encoded_by_the_gateway_and_the_route_has_no_v1_too() -> None:
    app = make_app(vectors)
    async with client(app) as c:
        response = await c.post("/embeddings", json={**BODY, "encoding_format": "base64"}, headers=OPENAI)
    assert response.status_code == 200
    raw = base64.b64decode(response.json()["data"][0]["embedding"])
    assert struct.unpack("<2f", raw) == (0.5, -1.0)


async def test_bad_input_is_a_400_naming_the_field_and_reaches_no_upstream() -> None:
    calls: list[httpx.Request] = []
    app = make_app(lambda r: calls.append(r) or vectors(r))
    async with client(app) as c:
        response = await c.post("/v1/embeddings", json={**BODY, "input": ["ok", ""]}, headers=OPENAI)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == "body.input[1]"
    assert calls == []


async def test_upstream_error_keeps_its_status_in_openais_shape(limiter: RecordingLimiter) -> None:
    app = make_app(
        lambda r: httpx.Response(404, json={"error": {"message": "no such model"}}), limiter=limiter
    )
    async with client(app) as c:
        response = await c.post("/v1/embeddings", json=BODY, headers=OPENAI)
    assert response.status_code == 404
    assert response.json()["error"]["message"]
    assert response.json()["provider"] == "openai"
    assert PROVIDER_KEY not in response.text
    assert [o.status for o in limiter.settled] == [404]


async def test_a_config_falls_back_past_a_provider_without_embeddings() -> None:
    seen: list[httpx.Request] = []
    app = make_app(lambda r: seen.append(r) or vectors(r))
    config = {
        "strategy": {"mode": "fallback"},
        "targets": [
            {"provider": "anthropic", "api_key": "sk-ant-x"},
            {"provider": "openai", "api_key": "sk-oa"},
        ],
    }
    async with client(app) as c:
        response = await c.post("/v1/embeddings", json=BODY, headers={"x-portkey-config": json.dumps(config)})
    assert response.status_code == 200
    assert response.headers["x-portkey-last-used-option-index"] == "config.targets[1]"
    assert [str(r.url) for r in seen] == ["https://api.openai.com/v1/embeddings"]
