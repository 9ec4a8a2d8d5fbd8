"""PortkeyModel(prompt=...): a Strands Agent takes its model, parameters and system prompt from a
stored prompt, and its answer changes when ``production`` moves (in this process at once, in
another process within the refresh interval).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from strands import Agent

from strands_portkey import Gateway, PortkeyModel
from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.prompts_api import Prompts
from strands_portkey.errors import ConfigurationError

from .controlplane.conftest import MASTER, Clock

PROMPT = [{"role": "system", "content": "Answer as {{persona}}."}]


def echo(bodies: list[dict[str, Any]]) -> Callable[[httpx.Request], httpx.Response]:
    """Answers with the model, the temperature and the first (system) message it was sent."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(body)
        text = f"{body['model']} t={body.get('temperature')} {body['messages'][0]['content']}"
        delta = {
            "choices": [
                {"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ]
        }
        sse = f"data: {json.dumps(delta)}\n\ndata: [DONE]\n\n"
        return httpx.Response(200, text=sse, headers={"content-type": "text/event-stream"})

    return handler


def plane_at(tmp_path: Path, **options: Any) -> ControlPlane:
    options.setdefault("refresh_interval", None)
    return ControlPlane(
        f"sqlite:///{tmp_path / 'p.db'}",
        env={"STRANDS_PORTKEY_HOME": str(tmp_path)},
        master_key=MASTER,
        validate_credentials=False,
        spawn=lambda work: work(),
        **options,
    )


def test_an_agents_answer_follows_production(tmp_path: Path) -> None:
    clock = Clock()
    writer = Prompts(plane_at(tmp_path))
    writer.create("support-bot", PROMPT, model="gpt-4o", params={"temperature": 0.1})
    bodies: list[dict[str, Any]] = []
    gw = Gateway(
        config={"provider": "openai", "api_key": "sk-test"},
        control_plane=plane_at(tmp_path, refresh_interval=2.0, clock=clock),
        transport=httpx.MockTransport(echo(bodies)),
    )
    model = PortkeyModel(
        gateway=gw, prompt="support-bot@production", prompt_variables={"persona": "a pirate"}
    )
    agent = Agent(model=model, callback_handler=None)
    assert str(agent("hello")).strip() == "gpt-4o t=0.1 Answer as a pirate."
    assert bodies[0]["messages"][-1] == {"role": "user", "content": "hello"}  # the agent's own follow

    writer.update("support-bot", model="gpt-4o-mini", params={"temperature": 0.9})
    writer.publish("support-bot")  # another process moves production
    assert str(agent("again")).strip().startswith("gpt-4o ")  # still the snapshot
    clock.now += 2.5
    assert str(agent("and now")).strip() == "gpt-4o-mini t=0.9 Answer as a pirate."

    model.update_config(prompt="support-bot@1", prompt_variables={"persona": "a poet"})
    assert str(agent("switch")).strip() == "gpt-4o t=0.1 Answer as a poet."
    by_version = {
        e["prompt_version"]: e["requests"] for e in gw.ai.analytics.prompts(prompt_id="support-bot").versions
    }
    assert by_version == {1: 3, 2: 1}  # every agent request recorded its prompt version


def test_model_id_is_optional_with_a_prompt_and_bad_prompt_settings_name_the_field() -> None:
    gw = Gateway(config={"provider": "openai", "api_key": "sk-test"})
    for bad in ("", "bot@0", "a b", 3):
        with pytest.raises(ConfigurationError) as caught:
            PortkeyModel(gateway=gw, prompt=bad)  # type: ignore[arg-type]
        assert caught.value.path == "prompt"
    with pytest.raises(ConfigurationError) as caught:
        PortkeyModel(gateway=gw, prompt="bot", prompt_variables=["x"])  # type: ignore[typeddict-item]
    assert caught.value.path == "prompt_variables"
    with pytest.raises(ConfigurationError) as caught:
        PortkeyModel(gateway=gw)
    assert caught.value.path == "model_id"
