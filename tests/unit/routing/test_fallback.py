"""Fallback, single and nested strategies through a real Gateway over scripted hosts."""

from collections.abc import Callable
from typing import Any

import pytest

from strands_portkey import Gateway
from strands_portkey.errors import (
    GatewayError,
    InvalidRequestError,
    RateLimitError,
    ServerError,
    UpstreamConnectionError,
)

from .conftest import BODY, Hosts, target

Make = Callable[..., Gateway]


def fallback(*targets: dict[str, Any], **strategy: Any) -> dict[str, Any]:
    return {"strategy": {"mode": "fallback", **strategy}, "targets": list(targets)}


async def test_fallback_moves_on_after_a_failure_and_reports_the_serving_target(
    gateway: Make, hosts: Hosts
) -> None:
    gw = gateway(fallback(target(hosts.script("a", 500)), target(hosts.script("b", 200))))
    response = await gw.chat(BODY, trace_id="trace-fallback-1")
    assert response.text == "from b"
    route = response.route
    assert route is not None
    assert route.last_used_option_index == "config.targets[1]"
    assert route.retry_attempt_count == 0
    assert route.trace_id == "trace-fallback-1"
    assert route.status_code == 200
    assert [(a.option_index, a.status_code) for a in route.attempts] == [
        ("config.targets[0]", 500),
        ("config.targets[1]", 200),
    ]
    assert hosts.calls == ["a", "b"]


async def test_on_status_codes_limits_fallback_to_those_codes(gateway: Make, hosts: Hosts) -> None:
    gw = gateway(
        fallback(target(hosts.script("a", 500)), target(hosts.script("b", 200)), on_status_codes=[429])
    )
    with pytest.raises(ServerError) as info:
        await gw.chat(BODY)
    assert hosts.calls == ["a"]
    assert info.value.route is not None
    assert info.value.route.last_used_option_index == "config.targets[0]"
    assert info.value.failures == ()


async def test_on_status_codes_listed_status_moves_on(gateway: Make, hosts: Hosts) -> None:
    gw = gateway(
        fallback(target(hosts.script("a", 500)), target(hosts.script("b", 200)), on_status_codes=[500])
    )
    response = await gw.chat(BODY)
    assert response.route is not None
    assert response.route.last_used_option_index == "config.targets[1]"


async def test_when_all_fail_the_last_error_is_raised_carrying_every_attempt(
    gateway: Make, hosts: Hosts
) -> None:
    gw = gateway(fallback(target(hosts.script("a", 500)), target(hosts.script("b", 429))))
    with pytest.raises(RateLimitError) as info:
        await gw.chat(BODY)
    error = info.value
    assert error.status_code == 429
    assert [type(f).__name__ for f in error.failures] == ["ServerError", "RateLimitError"]
    assert error.route is not None
    assert [a.status_code for a in error.route.attempts] == [500, 429]
    assert error.route.last_used_option_index == "config.targets[1]"


async def test_connection_refused_falls_back(gateway: Make, hosts: Hosts) -> None:
    gw = gateway(fallback(target(hosts.script("a", "refuse")), target(hosts.script("b", 200))))
    response = await gw.chat(BODY)
    assert response.route is not None
    assert response.route.last_used_option_index == "config.targets[1]"
    assert response.route.attempts[0].error_type == "UpstreamConnectionError"


async def test_a_lone_refused_target_raises_a_connection_error_with_status_500(
    gateway: Make, hosts: Hosts
) -> None:
    gw = gateway(target(hosts.script("a", "refuse")))
    with pytest.raises(UpstreamConnectionError) as info:
        await gw.chat(BODY)
    assert info.value.status_code == 500


async def test_single_mode_uses_only_the_first_target(gateway: Make, hosts: Hosts) -> None:
    config = {
        "strategy": {"mode": "single"},
        "targets": [target(hosts.script("a", 500)), target(hosts.script("b"))],
    }
    with pytest.raises(ServerError):
        await gateway(config).chat(BODY)
    assert hosts.calls == ["a"]


async def test_nested_paths_are_reported_to_any_depth(gateway: Make, hosts: Hosts) -> None:
    config = fallback(
        {"strategy": {"mode": "loadbalance"}, "targets": [target(hosts.script("a", 500))]},
        fallback(target(hosts.script("b", 503)), target(hosts.script("c", 200))),
    )
    response = await gateway(config).chat(BODY)
    assert response.route is not None
    assert response.route.last_used_option_index == "config.targets[1].targets[1]"
    assert hosts.calls == ["a", "b", "c"]


async def test_nested_failures_are_flattened_in_the_order_tried(gateway: Make, hosts: Hosts) -> None:
    config = fallback(
        fallback(target(hosts.script("a", 500)), target(hosts.script("b", 502))),
        target(hosts.script("c", 503)),
    )
    with pytest.raises(ServerError) as info:
        await gateway(config).chat(BODY)
    assert [f.option_index for f in info.value.failures] == [
        "config.targets[0].targets[0]",
        "config.targets[0].targets[1]",
        "config.targets[1]",
    ]


async def test_a_refused_request_stops_the_fallback_chain(gateway: Make, hosts: Hosts) -> None:
    """A conditional with no match is the gateway's own refusal: no other target would do better."""
    conditional = {
        "strategy": {
            "mode": "conditional",
            "conditions": [{"query": {"metadata.tier": "gold"}, "then": "g"}],
        },
        "targets": [target(hosts.script("a"), name="g")],
    }
    gw = gateway(fallback(conditional, target(hosts.script("b"))))
    with pytest.raises(InvalidRequestError) as info:
        await gw.chat(BODY, metadata={"tier": "free"})
    assert info.value.status_code == 400
    assert "config.targets[0].strategy" in str(info.value)
    assert hosts.calls == []


async def test_override_params_reach_each_leaf_with_portkeys_inheritance(gateway: Make, hosts: Hosts) -> None:
    config = {
        "strategy": {"mode": "fallback"},
        "override_params": {"model": "top", "max_tokens": 9},
        "targets": [
            {
                "strategy": {"mode": "loadbalance"},
                "override_params": {"temperature": 0.2},
                "targets": [target(hosts.script("a", 500))],
            },
            target(hosts.script("b"), override_params={"model": "own"}),
        ],
    }
    await gateway(config).chat({**BODY, "temperature": 0.9})
    first, second = hosts.bodies
    assert (first["model"], first["max_tokens"], first["temperature"]) == ("top", 9, 0.2)
    assert (second["model"], second["max_tokens"], second["temperature"]) == ("own", 9, 0.9)


async def test_each_target_is_called_with_its_own_key_and_keys_never_reach_errors(
    gateway: Make, hosts: Hosts
) -> None:
    config = fallback(
        target(hosts.script("a", 500), api_key="sk-canary-first-1234"),
        target(hosts.script("b", 503), api_key="sk-canary-second-5678"),
    )
    with pytest.raises(GatewayError) as info:
        await gateway(config).chat(BODY)
    assert hosts.auth == ["Bearer sk-canary-first-1234", "Bearer sk-canary-second-5678"]
    texts = [str(info.value), repr(info.value), repr(info.value.route)] + [
        str(f) for f in info.value.failures
    ]
    assert not any("sk-canary" in text for text in texts)


async def test_trace_id_is_generated_when_absent_and_errors_carry_it(gateway: Make, hosts: Hosts) -> None:
    with pytest.raises(ServerError) as info:
        await gateway(target(hosts.script("a", 500))).chat(BODY)
    assert info.value.route is not None
    assert len(info.value.route.trace_id) == 32
