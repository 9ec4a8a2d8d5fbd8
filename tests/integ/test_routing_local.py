"""Routing against the real local model: fallback over a dead port, conditional and loadbalance.

The dead target is a loopback port nobody listens on (connection refused, as a crashed replica).
"""

from __future__ import annotations

import socket

import pytest
from strands import Agent

from strands_portkey import Gateway, PortkeyModel
from strands_portkey.errors import UpstreamConnectionError

pytestmark = pytest.mark.integ


def dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"  # closed again: connecting is refused


def leaf(url: str, **extra: object) -> dict[str, object]:
    return {"provider": "llama-cpp", "custom_host": url, **extra}


def test_an_agent_falls_back_from_a_dead_replica_to_the_live_model(local_model) -> None:
    config = {
        "strategy": {"mode": "fallback"},
        "override_params": {"temperature": 0, "max_tokens": 32},
        "targets": [leaf(dead_url(), retry={"attempts": 1}), leaf(local_model.base_url)],
    }
    model = PortkeyModel(client_args={"config": config}, model_id=local_model.model)
    result = Agent(model=model, callback_handler=None, retry_strategy=None)("What is the capital of France?")
    assert "Paris" in str(result)
    route = model.last_route
    assert route is not None
    assert route.last_used_option_index == "config.targets[1]"
    assert [a.error_type for a in route.attempts] == ["UpstreamConnectionError"] * 2 + [None]


async def test_conditional_routes_streams_by_metadata(local_model) -> None:
    config = {
        "strategy": {
            "mode": "conditional",
            "conditions": [{"query": {"metadata.tier": "live"}, "then": "live"}],
            "default": "dead",
        },
        "targets": [leaf(dead_url(), name="dead"), leaf(local_model.base_url, name="live")],
    }
    body = {"model": local_model.model, "messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 8}
    async with Gateway(config) as gateway:
        async with gateway.stream(body, metadata={"tier": "live"}) as stream:
            chunks = [chunk async for chunk in stream]
        assert chunks
        assert stream.route.last_used_option_index == "config.targets[1]"
        with pytest.raises(UpstreamConnectionError) as info:
            await gateway.chat(body, metadata={"tier": "other"})
        assert info.value.route is not None
        assert info.value.route.last_used_option_index == "config.targets[0]"


async def test_round_robin_alternates_between_two_names_for_the_same_model(local_model) -> None:
    config = {
        "strategy": {"mode": "loadbalance"},
        "targets": [leaf(local_model.base_url), leaf(local_model.base_url.replace("127.0.0.1", "localhost"))],
    }
    body = {"model": local_model.model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
    async with Gateway(config, balance="round_robin") as gateway:
        served = [(await gateway.chat(body)).route.last_used_option_index for _ in range(4)]  # type: ignore[union-attr]
    assert served == ["config.targets[0]", "config.targets[1]"] * 2
