"""PortkeyModel over routed configs: fallbacks inside an agent, error mapping, update_config(config=)."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from strands import Agent
from strands.types.exceptions import ContextWindowOverflowException, ModelThrottledException

from strands_portkey import ConfigurationError, Gateway, PortkeyModel
from strands_portkey.errors import OverloadedError, RateLimitError, ServerError
from tests.unit.routing.conftest import Hosts, Step, target

HI: list[Any] = [{"role": "user", "content": [{"text": "hi"}]}]
OVERFLOW = Step(
    400,
    error={"error": {"message": "maximum context length is 8192", "code": "context_length_exceeded"}},
)


@pytest.fixture
def hosts() -> Hosts:
    return Hosts()


def fallback(*targets: dict[str, Any]) -> dict[str, Any]:
    return {"strategy": {"mode": "fallback"}, "targets": list(targets)}


def model_over(hosts: Hosts, config: dict[str, Any], **settings: Any) -> PortkeyModel:
    gateway = Gateway(config, transport=hosts.transport, rng=random.Random(1), sleep=_no_sleep)
    return PortkeyModel(gateway=gateway, model_id="m", **settings)


async def _no_sleep(_: float) -> None:
    return None


async def consume(model: PortkeyModel) -> list[dict[str, Any]]:
    return [event async for event in model.stream(HI)]


def test_an_agent_answers_through_a_fallback_and_the_route_says_which_target(hosts: Hosts) -> None:
    model = model_over(hosts, fallback(target(hosts.script("a", 503)), target(hosts.script("b"))))
    result = Agent(model=model, callback_handler=None)("hi")
    assert "b-0b-1" in str(result)
    assert model.last_route is not None
    assert model.last_route.last_used_option_index == "config.targets[1]"
    assert hosts.calls == ["a", "b"]


@pytest.mark.parametrize("stream", [True, False])
async def test_every_target_throttled_is_model_throttled(hosts: Hosts, stream: bool) -> None:
    model = model_over(
        hosts, fallback(target(hosts.script("a", 429)), target(hosts.script("b", 529))), stream=stream
    )
    with pytest.raises(ModelThrottledException) as info:
        await consume(model)
    cause = info.value.__cause__
    assert isinstance(cause, OverloadedError)
    assert [type(f) for f in cause.failures] == [RateLimitError, OverloadedError]


async def test_overflow_with_the_rest_throttled_is_a_context_window_overflow(hosts: Hosts) -> None:
    model = model_over(hosts, fallback(target(hosts.script("a", OVERFLOW)), target(hosts.script("b", 429))))
    with pytest.raises(ContextWindowOverflowException):
        await consume(model)


async def test_a_mix_with_a_server_error_stays_the_gateway_error(hosts: Hosts) -> None:
    model = model_over(hosts, fallback(target(hosts.script("a", 500)), target(hosts.script("b", 429))))
    with pytest.raises(RateLimitError) as info:
        await consume(model)
    assert [type(f) for f in info.value.failures] == [ServerError, RateLimitError]


async def test_update_config_routes_the_next_request_and_keeps_the_pool(hosts: Hosts) -> None:
    model = model_over(hosts, target(hosts.script("a")))
    await consume(model)
    gateway = model.gateway
    pool_before = dict(gateway._transport._loops)
    model.update_config(
        config=fallback(target(hosts.script("b", 500)), target(hosts.script("c"))), model_id="m2"
    )
    await consume(model)
    assert hosts.calls == ["a", "b", "c"]
    assert hosts.bodies[-1]["model"] == "m2"
    assert gateway._transport._loops == pool_before
    assert "config" not in model.get_config()


async def test_an_invalid_config_in_update_config_changes_nothing(hosts: Hosts) -> None:
    model = model_over(hosts, target(hosts.script("a")))
    bad = {"strategy": {"mode": "loadbalance"}, "targets": [target(hosts.script("b"), weight="2")]}
    with pytest.raises(ConfigurationError, match=r"config\.targets\[0\]\.weight: expected a number"):
        model.update_config(config=bad, model_id="other")
    await consume(model)
    assert hosts.calls == ["a"]
    assert model.get_config()["model_id"] == "m"


def test_config_must_be_a_dict_or_json_string() -> None:
    with pytest.raises(ConfigurationError, match="config: expected a Portkey config"):
        PortkeyModel(client_args={"provider": "openai", "Authorization": "sk"}, model_id="m", config=3)  # type: ignore[arg-type]


def test_config_given_twice_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="config: give the routing config once"):
        PortkeyModel(
            client_args={"config": {"provider": "ollama"}}, model_id="m", config={"provider": "ollama"}
        )


def test_client_args_config_as_a_json_string_is_executed_locally() -> None:
    config = json.dumps(fallback(target("http://a/v1"), target("http://b/v1")))
    model = PortkeyModel(client_args={"config": config}, model_id="m")
    text = repr(model.gateway)
    assert "config.targets[0]" in text
    assert "config.targets[1]" in text
    assert "sk-test" not in text
