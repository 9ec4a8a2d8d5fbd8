"""Real clients against the real server: the ``openai`` SDK, the ``portkey_ai`` SDK, ``PortkeyModel``
with ``base_url`` inside a Strands ``Agent``, and Strands' own ``OpenAIModel`` pointed at it.

Upstreams: the scripted loopback upstream (exact, countable) and the local SmolLM2 server.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from scripted_upstream import ScriptedUpstream, drop, fail, ok
from tests.integ.test_server_process import HI, ServerProcess, running_server

pytestmark = pytest.mark.integ

PROVIDER_KEY = "sk-canary-sdk-provider-4455"


@pytest.fixture(autouse=True)
def _own_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process gateways (PortkeyModel) use a fresh store, never the user's own."""
    monkeypatch.setenv("STRANDS_PORTKEY_HOME", str(tmp_path / "client-home"))
    monkeypatch.delenv("STRANDS_PORTKEY_DB_URL", raising=False)


@pytest.fixture(scope="module")
def upstream() -> Iterator[ScriptedUpstream]:
    with ScriptedUpstream(default=ok()) as scripted:
        yield scripted


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("server-sdks")) as running:
        yield running


def openai_client(
    server: ServerProcess, headers: dict[str, str], api_key: str = PROVIDER_KEY
) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=api_key, default_headers=headers, max_retries=0)


def direct(upstream: ScriptedUpstream, scenario: str, target: str = "a") -> dict[str, str]:
    return {"x-portkey-provider": "openai", "x-portkey-custom-host": upstream.base_url(scenario, target)}


def test_openai_sdk_non_streamed_with_portkey_headers(
    server: ServerProcess, upstream: ScriptedUpstream
) -> None:
    client = openai_client(server, {**direct(upstream, "sdk-plain"), "x-portkey-trace-id": "trace-sdk-1"})
    raw = client.chat.completions.with_raw_response.create(model="m", messages=HI)
    completion = raw.parse()
    assert completion.choices[0].message.content
    assert raw.headers["x-portkey-trace-id"] == "trace-sdk-1"
    assert raw.headers["x-portkey-provider"] == "openai"
    assert raw.headers["x-portkey-cache-status"] == "DISABLED"
    (call,) = upstream.calls("sdk-plain")
    assert call.authorization == f"Bearer {PROVIDER_KEY}"
    assert PROVIDER_KEY not in raw.http_response.text


def test_openai_sdk_streamed(server: ServerProcess, upstream: ScriptedUpstream) -> None:
    client = openai_client(server, direct(upstream, "sdk-stream"))
    parts = [
        chunk.choices[0].delta.content or ""
        for chunk in client.chat.completions.create(model="m", messages=HI, stream=True)
        if chunk.choices
    ]
    assert "".join(parts).strip() == "part0 part1 part2"


def test_openai_sdk_sees_a_mid_stream_failure_as_an_error(
    server: ServerProcess, upstream: ScriptedUpstream
) -> None:
    upstream.script("sdk-drop", "a", [drop(after=2)])
    client = openai_client(server, direct(upstream, "sdk-drop"))
    received = []

    def consume() -> None:
        for chunk in client.chat.completions.create(model="m", messages=HI, stream=True):
            received.append(chunk)

    with pytest.raises(openai.APIError):
        consume()
    assert received  # the failure came after the first chunk


def test_openai_sdk_error_statuses(server: ServerProcess, upstream: ScriptedUpstream) -> None:
    upstream.script("sdk-429", "a", [fail(429, retry_after="3")])
    client = openai_client(server, direct(upstream, "sdk-429"))
    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model="m", messages=HI)
    assert limited.value.response.headers["retry-after"] == "3"
    bad_config = openai_client(server, {"x-portkey-config": json.dumps({"targets": "nope"})})
    with pytest.raises(openai.BadRequestError) as bad:
        bad_config.chat.completions.create(model="m", messages=HI)
    assert "x-portkey-config" in str(bad.value)


def test_portkey_sdk_against_the_server(server: ServerProcess, upstream: ScriptedUpstream) -> None:
    from portkey_ai import Portkey

    client = Portkey(
        base_url=f"{server.url}/v1",
        api_key="gateway-key-unused-without-auth",
        provider="openai",
        Authorization=f"Bearer {PROVIDER_KEY}",
        custom_host=upstream.base_url("portkey-sdk", "a"),
        trace_id="trace-portkey-sdk",
        metadata={"_user": "u-1"},
    )
    completion = client.chat.completions.create(model="m", messages=HI)
    assert completion.choices[0].message.content
    (call,) = upstream.calls("portkey-sdk")
    assert (
        call.authorization == f"Bearer {PROVIDER_KEY}"
    )  # with x-portkey-api-key, Authorization is the provider's
    streamed = client.chat.completions.create(model="m", messages=HI, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices).strip()


def test_portkey_sdk_with_a_config(server: ServerProcess, upstream: ScriptedUpstream) -> None:
    from portkey_ai import Portkey

    upstream.script("portkey-config", "a", [fail(503)])
    config = {
        "strategy": {"mode": "fallback"},
        "targets": [
            {
                "provider": "openai",
                "api_key": "sk-a",
                "custom_host": upstream.base_url("portkey-config", "a"),
            },
            {
                "provider": "openai",
                "api_key": "sk-b",
                "custom_host": upstream.base_url("portkey-config", "b"),
            },
        ],
    }
    client = Portkey(base_url=f"{server.url}/v1", api_key="unused", config=config)
    completion = client.chat.completions.create(model="m", messages=HI)
    assert completion.choices[0].message.content
    assert [call.target for call in upstream.calls("portkey-config")] == ["a", "b"]


def test_portkey_model_with_base_url_inside_an_agent(
    server: ServerProcess, upstream: ScriptedUpstream
) -> None:
    from strands import Agent

    from strands_portkey import PortkeyModel

    model = PortkeyModel(
        model_id="m",
        client_args={
            "base_url": f"{server.url}/v1",
            "provider": "openai",
            "Authorization": f"Bearer {PROVIDER_KEY}",
            "custom_host": upstream.base_url("portkey-model", "a"),
        },
    )
    result = Agent(model=model, callback_handler=None)("hi")
    assert str(result).strip() == "part0 part1 part2"
    calls = upstream.calls("portkey-model")
    assert calls
    assert {call.authorization for call in calls} == {f"Bearer {PROVIDER_KEY}"}
    assert model.last_route is not None
    assert model.last_route.provider == "portkey"


def test_strands_openai_model_pointed_at_the_server(
    server: ServerProcess, upstream: ScriptedUpstream
) -> None:
    from strands import Agent
    from strands.models.openai import OpenAIModel

    model = OpenAIModel(
        client_args={
            "base_url": f"{server.url}/v1",
            "api_key": PROVIDER_KEY,
            "default_headers": direct(upstream, "strands-openai"),
        },
        model_id="m",
    )
    result = Agent(model=model, callback_handler=None)("hi")
    assert str(result).strip() == "part0 part1 part2"
    assert upstream.calls("strands-openai")


def test_the_local_model_through_the_server(server: ServerProcess, local_model: Any) -> None:
    headers = {"x-portkey-provider": "openai", "x-portkey-custom-host": local_model.base_url}
    client = openai_client(server, headers, api_key="sk-local")
    completion = client.chat.completions.create(
        model=local_model.model, messages=[{"role": "user", "content": "Say hello."}], max_tokens=16
    )
    assert completion.choices[0].message.content
    assert completion.usage is not None
    assert completion.usage.completion_tokens > 0
    parts = [
        chunk.choices[0].delta.content or ""
        for chunk in client.chat.completions.create(
            model=local_model.model,
            messages=[{"role": "user", "content": "Count to three."}],
            max_tokens=16,
            stream=True,
        )
        if chunk.choices
    ]
    assert "".join(parts)


def test_portkey_model_and_the_local_model_in_an_agent(server: ServerProcess, local_model: Any) -> None:
    from strands import Agent
    from strands.types.exceptions import MaxTokensReachedException

    from strands_portkey import PortkeyModel

    model = PortkeyModel(
        model_id=local_model.model,
        params={"max_tokens": 32},
        client_args={
            "base_url": f"{server.url}/v1",
            "provider": "openai",
            "custom_host": local_model.base_url,
        },
    )
    agent = Agent(model=model, callback_handler=None)
    with contextlib.suppress(MaxTokensReachedException):  # a 135M model may ramble past 32 tokens
        agent("Say hello.")
    reply = agent.messages[-1]
    assert reply["role"] == "assistant"
    assert "".join(block.get("text", "") for block in reply["content"]).strip()


def test_log_never_holds_the_provider_key(server: ServerProcess) -> None:
    assert PROVIDER_KEY not in Path(server.log).read_text(errors="replace")
