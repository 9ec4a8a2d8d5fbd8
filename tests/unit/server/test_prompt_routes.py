"""``/v1/prompts/{id}/completions`` and ``/render`` in process (ASGI), with Portkey's request and
response shapes: plain HTTP, and Portkey's own SDK (``prompts.completions.create``, ``render``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from portkey_ai import AsyncPortkey

from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.analytics_api import Analytics
from strands_portkey.controlplane.prompts_api import Prompts
from tests.unit.conftest import chunk, completion, sse
from tests.unit.controlplane.conftest import MASTER

from .conftest import client, make_app

OPENAI = {"provider": "openai", "api_key": "sk-test-1234"}
VARS = {"persona": "a pirate", "question": "where?"}


@pytest.fixture
def plane(tmp_path: Path) -> Iterator[ControlPlane]:
    opened = ControlPlane(
        f"sqlite:///{tmp_path / 'server.db'}",
        env={"STRANDS_PORTKEY_HOME": str(tmp_path)},
        master_key=MASTER,
        validate_credentials=False,
        refresh_interval=None,
    )
    prompts = Prompts(opened)
    prompts.create(
        "bot",
        [{"role": "system", "content": "You are {{persona}}."}, {"role": "user", "content": "{{question}}"}],
        model="gpt-4o",
        params={"temperature": 0.1, "max_tokens": 20},
    )
    prompts.update("bot", model="gpt-4o-mini")
    prompts.label("bot", "staging", 2)
    yield opened
    opened.close()


class Upstream:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        text = f"{body['model']}|{body['messages'][0]['content']}"
        if body.get("stream"):
            return httpx.Response(
                200,
                content=sse(chunk(text, role="assistant"), chunk(finish="stop")),
                headers={"content-type": "text/event-stream"},
            )
        return httpx.Response(200, json=completion(text))


async def test_completions_and_render_over_http(plane: ControlPlane) -> None:
    upstream = Upstream()
    app = make_app(upstream, control_plane=plane, default_config=OPENAI)
    async with client(app) as http:
        rendered = await http.post(
            "/v1/prompts/bot@staging/render", json={"variables": VARS, "temperature": 0.7}
        )
        assert rendered.status_code == 200
        assert rendered.json() == {
            "success": True,
            "data": {
                "model": "gpt-4o-mini",
                "temperature": 0.7,
                "max_tokens": 20,
                "messages": [
                    {"role": "system", "content": "You are a pirate."},
                    {"role": "user", "content": "where?"},
                ],
            },
        }
        answer = await http.post("/v1/prompts/bot/completions", json={"variables": VARS, "max_tokens": 5})
        assert answer.status_code == 200
        assert answer.json()["choices"][0]["message"]["content"] == "gpt-4o|You are a pirate."
        sent = upstream.bodies[-1]
        assert (sent["max_tokens"], sent["temperature"]) == (5, 0.1)
        assert "variables" not in sent

        streamed = await http.post("/prompts/bot@2/completions", json={"variables": VARS, "stream": True})
        assert streamed.status_code == 200
        assert "gpt-4o-mini|You are a pirate." in streamed.text
        assert streamed.text.endswith("data: [DONE]\n\n")
    by_version = {
        e["prompt_version"]: e["requests"] for e in Analytics(plane).prompts(prompt_id="bot").versions
    }
    assert by_version == {1: 1, 2: 1}


@pytest.mark.parametrize(
    ("path", "body", "status", "says"),
    [
        ("/v1/prompts/nope/completions", {"variables": VARS}, 404, "nope"),
        ("/v1/prompts/bot@qa/render", {"variables": VARS}, 404, "no label 'qa'"),
        ("/v1/prompts/bot@9/completions", {"variables": VARS}, 404, "no version 9"),
        ("/v1/prompts/bot/completions", {"variables": {"persona": "x"}}, 400, "question"),
        ("/v1/prompts/bot/render", {"variables": ["x"]}, 400, "variables"),
    ],
)
async def test_bad_input_names_the_field(
    plane: ControlPlane, path: str, body: dict[str, Any], status: int, says: str
) -> None:
    upstream = Upstream()
    app = make_app(upstream, control_plane=plane, default_config=OPENAI)
    async with client(app) as http:
        reply = await http.post(path, json=body)
    assert reply.status_code == status
    assert says in reply.json()["error"]["message"]
    assert upstream.bodies == []


async def test_portkeys_sdk_against_the_prompt_routes(plane: ControlPlane) -> None:
    upstream = Upstream()
    app = make_app(upstream, control_plane=plane, default_config=OPENAI)
    async with client(app) as http:
        portkey = AsyncPortkey(api_key="pk-unused", base_url="http://gateway.test/v1", http_client=http)
        answer = await portkey.prompts.completions.create(prompt_id="bot", variables=VARS, temperature=0.3)
        assert answer.choices[0].message.content == "gpt-4o|You are a pirate."
        assert upstream.bodies[-1]["temperature"] == 0.3
        texts = []
        async for part in await portkey.prompts.completions.create(
            prompt_id="bot@staging", variables=VARS, stream=True
        ):
            texts.extend(choice.delta.content or "" for choice in part.choices or [])
        assert "".join(texts) == "gpt-4o-mini|You are a pirate."
        rendered = await portkey.prompts.render(prompt_id="bot@staging", variables=VARS)
        assert rendered.data.model == "gpt-4o-mini"
        assert rendered.data.messages[0].content == "You are a pirate."


async def test_a_prompt_routes_by_its_config_id_or_provider_slug_when_headers_name_none(
    plane: ControlPlane,
) -> None:
    upstream = Upstream()
    prompts = Prompts(plane)
    prompts.create("slugged", [{"role": "system", "content": "hi"}], model="@openai/gpt-4.1")
    prompts.create("configured", [{"role": "system", "content": "hi"}], model="m", config_id="pc-team")
    saved_config = {"provider": "openai", "api_key": "sk-team", "override_params": {"model": "from-config"}}

    async def saved(config_id: str, principal: Any) -> dict[str, Any] | None:
        return saved_config if config_id == "pc-team" else None

    app = make_app(
        upstream,
        control_plane=plane,
        default_config=OPENAI,
        env={"OPENAI_API_KEY": "sk-env"},
        saved_configs=saved,
    )
    async with client(app) as http:
        slug = await http.post("/v1/prompts/slugged/completions", json={})
        assert slug.json()["choices"][0]["message"]["content"] == "gpt-4.1|hi"
        routed = await http.post("/v1/prompts/configured/completions", json={})
        assert routed.json()["choices"][0]["message"]["content"] == "from-config|hi"
        named = await http.post(
            "/v1/prompts/configured/completions",
            json={},
            headers={"x-portkey-provider": "openai", "authorization": "Bearer sk-header"},
        )
        assert named.json()["choices"][0]["message"]["content"] == "m|hi"  # the headers' route wins
