"""A config target's ``prompt_id``: fallback and load balancing across prompts (each with its own
model and messages), the request's parameters over the prompt's, ``variables`` never upstream.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from strands_portkey import Gateway
from strands_portkey.controlplane import ControlPlane
from strands_portkey.errors import ConfigurationError, InvalidRequestError, ResourceNotFoundError

from .conftest import MASTER


@pytest.fixture
def plane(tmp_path: Path) -> Iterator[ControlPlane]:
    opened = ControlPlane(
        f"sqlite:///{tmp_path / 'targets.db'}",
        env={"STRANDS_PORTKEY_HOME": str(tmp_path)},
        master_key=MASTER,
        validate_credentials=False,
        refresh_interval=None,
    )
    yield opened
    opened.close()


class Upstream:
    """503 for the model 'down'; otherwise answers with the model and the system message."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        if body["model"] == "down":
            return httpx.Response(503, json={"error": {"message": "overloaded"}})
        text = f"{body['model']}: {body['messages'][0]['content']}"
        message = {"role": "assistant", "content": text}
        return httpx.Response(
            200,
            json={
                "id": "r",
                "model": body["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            },
        )


def leaf(prompt_id: str) -> dict[str, Any]:
    return {"provider": "openai", "api_key": "sk-test", "prompt_id": prompt_id}


async def test_fallback_across_two_prompts(plane: ControlPlane) -> None:
    upstream = Upstream()
    config = {"strategy": {"mode": "fallback"}, "targets": [leaf("for-claude"), leaf("for-gpt")]}
    gw = Gateway(config=config, control_plane=plane, transport=httpx.MockTransport(upstream))
    gw.prompts.create(
        "for-claude", [{"role": "system", "content": "Terse steps for {{goal}}."}], model="down"
    )
    gw.prompts.create(
        "for-gpt",
        [{"role": "system", "content": "Numbered steps for {{goal}}."}],
        model="gpt-4o",
        params={"seed": 1},
    )
    body = {"model": "ignored", "messages": [{"role": "user", "content": "go"}], "variables": {"goal": "abs"}}
    response = await gw.chat({**body, "temperature": 0.4})
    assert response.choices[0].message.content == "gpt-4o: Numbered steps for abs."
    assert response.route.last_used_option_index == "config.targets[1]"
    sent = upstream.bodies[-1]
    assert "variables" not in sent
    assert sent["messages"][-1] == {"role": "user", "content": "go"}  # the request's messages follow
    assert (sent["temperature"], sent["seed"]) == (0.4, 1)  # the request's parameters over the prompt's

    # Through gw.prompts.completions: the targets' prompts win over the one named in the call.
    answer = await gw.prompts.completions("for-claude", {"goal": "tea"})
    assert answer.choices[0].message.content == "gpt-4o: Numbered steps for tea."
    assert len(upstream.bodies[-1]["messages"]) == 1
    more = {"messages": [{"role": "user", "content": "and quickly"}]}
    await gw.prompts.completions("for-claude", {"goal": "tea"}, more)  # what the caller added still follows
    assert [m["content"] for m in upstream.bodies[-1]["messages"]] == [
        "Numbered steps for tea.",
        "and quickly",
    ]
    await gw.aclose()


async def test_a_plain_target_never_sends_variables_upstream(plane: ControlPlane) -> None:
    upstream = Upstream()
    config = {
        "strategy": {"mode": "fallback"},
        "targets": [leaf("first"), {"provider": "openai", "api_key": "sk-test"}],
    }
    gw = Gateway(config=config, control_plane=plane, transport=httpx.MockTransport(upstream))
    gw.prompts.create("first", [{"role": "system", "content": "Hi {{name}}"}], model="down")
    response = await gw.chat(
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], "variables": {"name": "b"}}
    )
    assert response.choices[0].message.content == "gpt-4o-mini: x"
    assert all("variables" not in body for body in upstream.bodies)
    await gw.aclose()


def test_a_prompt_target_still_names_where_to_send() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Gateway(config={"prompt_id": "bot"})
    assert "prompt_id" in str(caught.value)
    with pytest.raises(ConfigurationError) as caught:
        Gateway(config={"provider": "openai", "prompt_id": ""})
    assert caught.value.path == "config.prompt_id"
    targets = [
        {"provider": "openai", "api_key": "sk-x"},
        {"provider": "openai", "api_key": "sk-y", "prompt_id": "bot@Staging"},
    ]
    with pytest.raises(ConfigurationError) as caught:  # a bad reference: at construction, not per request
        Gateway(config={"strategy": {"mode": "fallback"}, "targets": targets})
    assert caught.value.path == "config.targets[1].prompt_id"


async def test_an_unknown_prompt_at_a_target_is_an_error_naming_it_not_a_silent_fallback(
    plane: ControlPlane,
) -> None:
    upstream = Upstream()
    config = {"strategy": {"mode": "fallback"}, "targets": [leaf("missing"), leaf("there")]}
    gw = Gateway(config=config, control_plane=plane, transport=httpx.MockTransport(upstream))
    gw.prompts.create("there", [{"role": "system", "content": "ok {{who}}"}], model="gpt-4o")
    with pytest.raises(ResourceNotFoundError, match="missing"):
        await gw.chat({"model": "m", "messages": [{"role": "user", "content": "x"}]})
    gw.reconfigure({"strategy": {"mode": "fallback"}, "targets": [leaf("there")]})
    with pytest.raises(InvalidRequestError, match="who"):
        await gw.chat({"model": "m", "messages": [{"role": "user", "content": "x"}]})
    assert upstream.bodies == []  # nothing was sent
    await gw.aclose()


async def test_an_agent_with_a_prompt_through_prompt_targets_keeps_its_conversation(
    plane: ControlPlane,
) -> None:
    from strands import Agent

    from strands_portkey import PortkeyModel

    upstream = Upstream()
    config = {"strategy": {"mode": "fallback"}, "targets": [leaf("for-claude"), leaf("for-gpt")]}
    gw = Gateway(config=config, control_plane=plane, transport=httpx.MockTransport(upstream))
    gw.prompts.create("for-claude", [{"role": "system", "content": "Claude: {{goal}}"}], model="down")
    gw.prompts.create("for-gpt", [{"role": "system", "content": "GPT: {{goal}}"}], model="gpt-4o")
    gw.prompts.create("called", [{"role": "system", "content": "Called: {{goal}}"}], model="x")
    model = PortkeyModel(gateway=gw, prompt="called", prompt_variables={"goal": "abs"}, stream=False)
    agent = Agent(model=model, callback_handler=None)
    assert str(agent("hello")).strip() == "gpt-4o: GPT: abs"
    sent = upstream.bodies[-1]["messages"]
    assert [m["role"] for m in sent] == ["system", "user"]  # the called prompt's system replaced, not doubled
    assert sent[1]["content"] in ("hello", [{"type": "text", "text": "hello"}])
    await gw.aclose()
