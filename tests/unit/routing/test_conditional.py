"""Conditional routing through the gateway: metadata, params, default, no match."""

from collections.abc import Callable
from typing import Any

import pytest

from strands_portkey import Gateway
from strands_portkey.errors import InvalidRequestError

from .conftest import BODY, Hosts, target

Make = Callable[..., Gateway]


def conditional(hosts: Hosts, *, default: str | None = "base") -> dict[str, Any]:
    strategy: dict[str, Any] = {
        "mode": "conditional",
        "conditions": [
            {"query": {"metadata.tier": "gold"}, "then": "premium"},
            {
                "query": {
                    "$or": [{"params.model": {"$regex": "^big-"}}, {"params.temperature": {"$gte": 1}}]
                },
                "then": "large",
            },
        ],
    }
    if default:
        strategy["default"] = default
    return {
        "strategy": strategy,
        "targets": [
            target(hosts.script("base"), name="base"),
            target(hosts.script("premium"), name="premium"),
            target(hosts.script("large"), name="large"),
        ],
    }


@pytest.mark.parametrize(
    ("body", "metadata", "served", "index"),
    [
        (BODY, {"tier": "gold"}, "premium", "config.targets[1]"),
        ({**BODY, "model": "big-1"}, {}, "large", "config.targets[2]"),
        ({**BODY, "temperature": 1.2}, {"tier": "free"}, "large", "config.targets[2]"),
        ({**BODY, "model": "big-1"}, {"tier": "gold"}, "premium", "config.targets[1]"),
        (BODY, {"tier": "free"}, "base", "config.targets[0]"),
    ],
)
async def test_first_matching_condition_wins_then_default(  # noqa: PLR0917 (parametrized)
    gateway: Make, hosts: Hosts, body: dict[str, Any], metadata: dict[str, str], served: str, index: str
) -> None:
    response = await gateway(conditional(hosts)).chat(body, metadata=metadata)
    assert hosts.calls == [served]
    assert response.route is not None
    assert response.route.last_used_option_index == index


async def test_client_args_metadata_feeds_conditions(hosts: Hosts) -> None:
    gw = Gateway(
        client_args={"config": conditional(hosts), "metadata": {"tier": "gold"}}, transport=hosts.transport
    )
    await gw.chat(BODY)
    assert hosts.calls == ["premium"]


async def test_params_are_the_request_as_sent_before_override_params(gateway: Make, hosts: Hosts) -> None:
    config = conditional(hosts)
    config["override_params"] = {"model": "big-override"}
    await gateway(config).chat(BODY)
    assert hosts.calls == ["base"]
    assert hosts.bodies[0]["model"] == "big-override"


async def test_no_match_and_no_default_is_a_400_without_any_upstream_call(
    gateway: Make, hosts: Hosts
) -> None:
    with pytest.raises(InvalidRequestError) as info:
        await gateway(conditional(hosts, default=None)).chat(BODY)
    assert info.value.status_code == 400
    assert "no condition matched" in str(info.value)
    assert hosts.calls == []
