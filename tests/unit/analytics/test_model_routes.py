"""Where a request naming a registered third-party model goes (``strands_portkey.model_routes``)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx
import pytest

from strands_portkey import Gateway
from strands_portkey.controlplane import ControlPlane
from strands_portkey.errors import (
    ConfigurationError,
    GatewayError,
    InvalidRequestError,
    PermissionDeniedError,
)

from ..conftest import chunk, completion, sse
from .conftest import MASTER, rows

CLAUDE = {
    "name": "Claude 3.5 Sonnet",
    "type": "third-party",
    "provider": "anthropic",
    "vendor_model_id": "claude-3-5-sonnet-20241022",
    "max_tokens": 8192,
}
ANTHROPIC_KEY = "sk-ant-vault-0123456789abcdef"
HI = [{"role": "user", "content": "hi"}]


def anthropic_message() -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-3-5-sonnet-20241022",
        "content": [{"type": "text", "text": "hello"}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 3, "output_tokens": 1},
    }


class Upstream:
    """Answers as whichever provider was called, and keeps each call (URL, key, body)."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.statuses = list(statuses or [])

    def __call__(self, request: httpx.Request) -> httpx.Response:
        key = request.headers.get("x-api-key") or request.headers.get("authorization", "")
        self.calls.append((str(request.url), key, json.loads(request.content)))
        if self.statuses:
            return httpx.Response(self.statuses.pop(0), json={"error": {"message": "busy"}})
        if request.url.path.endswith("/messages"):
            return httpx.Response(200, json=anthropic_message())
        return httpx.Response(200, json=completion())


def make_gateway(
    plane: ControlPlane, upstream: Upstream, config: dict[str, Any] | None = None, **kwargs: Any
) -> Gateway:
    return Gateway(
        config or {"provider": "openai", "api_key": "sk-openai-config"},
        control_plane=plane,
        transport=httpx.MockTransport(upstream),
        **kwargs,
    )


async def test_a_model_of_a_provider_the_config_calls_follows_the_config(plane: ControlPlane) -> None:
    upstream = Upstream()
    gw = make_gateway(plane, upstream)
    model = gw.ai.models.create(
        {**CLAUDE, "name": "mini", "provider": "openai", "vendor_model_id": "4o-mini"}
    )
    await gw.chat({"model": model.name, "messages": HI})
    assert upstream.calls == [
        ("https://api.openai.com/v1/chat/completions", "Bearer sk-openai-config", upstream.calls[0][2])
    ]
    assert upstream.calls[0][2]["model"] == "4o-mini"


async def test_a_model_of_another_provider_takes_its_own_route_with_the_vault_key(
    plane: ControlPlane,
) -> None:
    upstream = Upstream()
    gw = make_gateway(plane, upstream)
    model = gw.ai.models.create(CLAUDE)
    key = gw.ai.provider_keys.create({"name": "prod", "provider": "anthropic", "api_key": ANTHROPIC_KEY})
    answer = await gw.chat({"model": model.name, "messages": HI})
    await gw.chat({"model": "gpt-4o", "messages": HI})  # an unregistered name: the config decides
    (url, sent_key, body), (other_url, *_) = upstream.calls
    assert (url, sent_key) == ("https://api.anthropic.com/v1/messages", ANTHROPIC_KEY)
    assert (body["model"], body["max_tokens"]) == ("claude-3-5-sonnet-20241022", 8192)
    assert other_url == "https://api.openai.com/v1/chat/completions"
    assert answer.text == "hello"
    recorded = rows(plane)[0]
    assert (recorded["model_id"], recorded["provider"], recorded["credential_id"]) == (
        model.id,
        "anthropic",
        key.id,
    )


async def test_without_a_vault_key_the_environment_key_serves_and_a_later_vault_key_takes_over(
    plane: ControlPlane,
) -> None:
    upstream = Upstream()
    gw = make_gateway(plane, upstream, env={"ANTHROPIC_API_KEY": "sk-ant-env"})
    gw.ai.models.create(CLAUDE)
    await gw.chat({"model": CLAUDE["name"], "messages": HI})
    gw.ai.provider_keys.create({"name": "prod", "provider": "anthropic", "api_key": ANTHROPIC_KEY})
    await gw.chat({"model": CLAUDE["name"], "messages": HI})
    assert [key for _, key, _ in upstream.calls] == ["sk-ant-env", ANTHROPIC_KEY]


async def test_the_route_keys_of_the_model_config_apply(plane: ControlPlane) -> None:
    upstream = Upstream(statuses=[503])
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    gw = make_gateway(plane, upstream, sleep=sleep)
    route = {"custom_host": "http://127.0.0.1:9/v1", "retry": {"attempts": 2}, "default_temperature": 0.2}
    model = gw.ai.models.create({**CLAUDE, "provider": "vllm", "config": route})
    answer = await gw.chat({"model": model.id, "messages": HI})
    assert [url for url, *_ in upstream.calls] == ["http://127.0.0.1:9/v1/chat/completions"] * 2
    assert upstream.calls[-1][2]["temperature"] == 0.2
    assert len(slept) == 1
    assert answer.route is not None
    assert answer.route.retry_attempt_count == 1
    gw.ai.models.update(model.id, {"config": {"custom_host": "http://127.0.0.1:10/v1"}})
    await gw.chat({"model": model.id, "messages": HI})
    assert upstream.calls[-1][0] == "http://127.0.0.1:10/v1/chat/completions"


async def test_no_way_to_reach_the_provider_is_a_clear_error_and_nothing_is_sent(
    plane: ControlPlane,
) -> None:
    upstream = Upstream()
    gw = make_gateway(plane, upstream, env={})
    gw.ai.models.create(CLAUDE)
    with pytest.raises(InvalidRequestError) as raised:
        await gw.chat({"model": CLAUDE["name"], "messages": HI})
    message = str(raised.value)
    assert raised.value.path == "model"
    assert "'anthropic'" in message
    assert "ANTHROPIC_API_KEY" in message
    assert "provider_keys.create" in message
    assert upstream.calls == []
    assert rows(plane)[-1]["error_type"] == "InvalidRequestError"


async def test_a_config_through_portkeys_gateway_serves_models_it_cannot_route_itself(
    plane: ControlPlane,
) -> None:
    upstream = Upstream()
    gw = make_gateway(plane, upstream, {"provider": "portkey", "api_key": "pk-1"}, env={})
    gw.ai.models.create(CLAUDE)
    await gw.chat({"model": CLAUDE["name"], "messages": HI})
    assert upstream.calls[0][0] == "https://api.portkey.ai/v1/chat/completions"
    assert upstream.calls[0][2]["model"] == "claude-3-5-sonnet-20241022"
    gw.ai.provider_keys.create({"name": "prod", "provider": "anthropic", "api_key": ANTHROPIC_KEY})
    await gw.chat({"model": CLAUDE["name"], "messages": HI})
    assert upstream.calls[1][0] == "https://api.anthropic.com/v1/messages"


@pytest.mark.parametrize(
    ("config_provider", "model_provider"),
    [("google", "gemini"), ("gemini", "google"), ("llamacpp", "llama-cpp"), ("OpenAI", "openai")],
)
async def test_aliases_of_one_provider_count_as_served(
    plane: ControlPlane, config_provider: str, model_provider: str
) -> None:
    upstream = Upstream()
    config = {"provider": config_provider, "api_key": "k", "custom_host": "http://127.0.0.1:7/v1"}
    gw = make_gateway(plane, upstream, config, env={})
    gw.ai.models.create({**CLAUDE, "provider": model_provider})
    with contextlib.suppress(GatewayError):  # the fake answers as OpenAI: only the URL called matters
        await gw.chat({"model": CLAUDE["name"], "messages": HI})
    assert upstream.calls[0][0].startswith("http://127.0.0.1:7/v1")


@pytest.mark.parametrize(
    ("config", "path"),
    [
        ({"retry": {"attempts": "three"}}, "body.config.retry.attempts"),
        ({"request_timeout": -5}, "body.config.request_timeout"),
        ({"cache": {"mode": "fuzzy"}}, "body.config.cache.mode"),
        ({"custom_host": 7}, "body.config.custom_host"),
    ],
)
def test_bad_route_keys_are_refused_at_registration(
    plane: ControlPlane, config: dict[str, Any], path: str
) -> None:
    gw = make_gateway(plane, Upstream())
    with pytest.raises(InvalidRequestError) as raised:
        gw.ai.models.create({**CLAUDE, "config": config})
    assert raised.value.path == path
    assert gw.ai.models.overview().total == 0


async def test_streams_take_the_models_own_route_too(plane: ControlPlane) -> None:
    seen: list[str] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        body = sse(chunk("hel"), chunk("lo", finish="stop"))
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    gw = Gateway(
        {"provider": "openai", "api_key": "sk-openai-config"},
        control_plane=plane,
        transport=httpx.MockTransport(upstream),
    )
    model = gw.ai.models.create(
        {**CLAUDE, "provider": "vllm", "config": {"custom_host": "http://127.0.0.1:9/v1"}}
    )
    async with gw.stream({"model": model.name, "messages": HI}) as stream:
        text = "".join([c.delta.content or "" async for part in stream for c in part.choices])
    assert (text, seen) == ("hello", ["http://127.0.0.1:9/v1/chat/completions"])
    assert rows(plane)[-1]["model_id"] == model.id


async def test_config_targets_may_name_a_registered_model(plane: ControlPlane) -> None:
    upstream = Upstream()
    registrar = make_gateway(plane, upstream)
    registrar.ai.models.create(CLAUDE)
    registrar.ai.models.create(
        {
            **CLAUDE,
            "name": "mini",
            "provider": "openai",
            "vendor_model_id": "4o-mini",
            "config": {"default_top_p": 0.5},
        }
    )
    registrar.ai.provider_keys.create({"name": "prod", "provider": "anthropic", "api_key": ANTHROPIC_KEY})
    config = {
        "strategy": {"mode": "fallback", "on_status_codes": [500]},
        "targets": [
            {"override_params": {"model": "Claude 3.5 Sonnet"}},  # no provider: the model's
            {"provider": "openai", "api_key": "sk-openai-config", "override_params": {"model": "mini"}},
        ],
    }
    upstream.statuses = [500]  # the first target fails, the second serves
    gw = make_gateway(plane, upstream, config)
    await gw.chat({"model": "anything", "messages": HI, "top_p": 0.9})
    (first_url, first_key, first), (second_url, _, second) = upstream.calls
    assert (first_url, first_key) == ("https://api.anthropic.com/v1/messages", ANTHROPIC_KEY)
    assert (first["model"], first["max_tokens"]) == ("claude-3-5-sonnet-20241022", 8192)
    assert second_url == "https://api.openai.com/v1/chat/completions"
    assert (second["model"], second["top_p"]) == ("4o-mini", 0.9)  # the request's top_p wins


async def test_a_config_naming_a_model_not_shared_with_the_user_is_refused(
    plane: ControlPlane, tmp_path: Any
) -> None:
    make_gateway(plane, Upstream()).ai.models.create({**CLAUDE, "provider": "openai"})
    env = {"STRANDS_PORTKEY_USER": "bob"}
    theirs = ControlPlane(str(plane.store.url), env=env, master_key=MASTER, validate_credentials=False)
    upstream = Upstream()
    config = {"provider": "openai", "api_key": "k", "override_params": {"model": CLAUDE["name"]}}
    bob = make_gateway(theirs, upstream, config)
    with pytest.raises(PermissionDeniedError, match="bob"):
        await bob.chat({"model": "x", "messages": HI})
    assert upstream.calls == []
    theirs.close()


def test_a_config_naming_an_unregistered_model_without_a_provider_fails_at_construction(
    plane: ControlPlane,
) -> None:
    config = {"strategy": {"mode": "fallback"}, "targets": [{"override_params": {"model": "nobody"}}]}
    with pytest.raises(ConfigurationError) as raised:
        make_gateway(plane, Upstream(), config)
    assert raised.value.path == "config.targets[0]"
    assert "'nobody' is not a registered model" in str(raised.value)


async def test_a_gateway_without_a_config_serves_registered_models_only(plane: ControlPlane) -> None:
    upstream = Upstream()
    gw = Gateway(control_plane=plane, transport=httpx.MockTransport(upstream), env={})
    gw.ai.models.create(CLAUDE)
    gw.ai.provider_keys.create({"name": "prod", "provider": "anthropic", "api_key": ANTHROPIC_KEY})
    assert (await gw.chat({"model": CLAUDE["name"], "messages": HI})).text == "hello"
    with pytest.raises(InvalidRequestError, match="'gpt-4o' is not a registered model") as raised:
        await gw.chat({"model": "gpt-4o", "messages": HI})
    assert raised.value.path == "model"
    with pytest.raises(InvalidRequestError, match="no config"):
        async with gw.stream({"model": "gpt-4o", "messages": HI}):
            pass
    assert [url for url, *_ in upstream.calls] == ["https://api.anthropic.com/v1/messages"]
    assert [r["error_type"] for r in rows(plane)] == [None, "InvalidRequestError", "InvalidRequestError"]
    gw.reconfigure({"provider": "openai", "api_key": "sk-later"})
    await gw.chat({"model": "gpt-4o", "messages": HI})
    assert upstream.calls[-1][0] == "https://api.openai.com/v1/chat/completions"
