"""Retry per leaf and request timeouts, with an injected sleep (nothing here really waits)."""

import random
from collections.abc import Callable
from typing import Any

import pytest

from strands_portkey import Gateway
from strands_portkey.errors import BadRequestError, RateLimitError, RequestTimeoutError, ServerError
from strands_portkey.pipeline.retry import Backoff

from .conftest import BODY, Hosts, Sleeps, Step, target

Make = Callable[..., Gateway]


def retry(attempts: int, **extra: Any) -> dict[str, Any]:
    return {"attempts": attempts, **extra}


async def test_retries_run_out_after_attempts_plus_one_calls_and_count_is_minus_one(
    gateway: Make, hosts: Hosts, sleeps: Sleeps
) -> None:
    gw = gateway(target(hosts.script("a", 500), retry=retry(3, on_status_codes=[500])))
    with pytest.raises(ServerError) as info:
        await gw.chat(BODY)
    assert hosts.calls == ["a"] * 4
    assert info.value.route is not None
    assert info.value.route.retry_attempt_count == -1
    assert info.value.route.last_used_option_index == "config"
    assert len(sleeps.waits) == 3


async def test_success_on_the_third_call_counts_two_retries(gateway: Make, hosts: Hosts) -> None:
    response = await gateway(target(hosts.script("a", 503, 503, 200), retry=retry(3))).chat(BODY)
    assert response.route is not None
    assert response.route.retry_attempt_count == 2
    assert [a.status_code for a in response.route.attempts] == [503, 503, 200]


async def test_backoff_doubles_from_one_second_with_jitter_below_the_nominal_wait(
    gateway: Make, hosts: Hosts, sleeps: Sleeps
) -> None:
    with pytest.raises(ServerError):
        await gateway(target(hosts.script("a", 502), retry=retry(4))).chat(BODY)
    for index, wait in enumerate(sleeps.waits):
        nominal = 2.0**index
        assert nominal * 0.5 <= wait <= nominal
    assert len(set(sleeps.waits)) == 4


async def test_backoff_is_capped_and_configurable(hosts: Hosts, sleeps: Sleeps) -> None:
    gw = Gateway(
        target(hosts.script("a", 500), retry=retry(5)),
        transport=hosts.transport,
        sleep=sleeps,
        rng=random.Random(1),
        backoff=Backoff(base_s=0.1, cap_s=0.3, jitter=0),
    )
    with pytest.raises(ServerError):
        await gw.chat(BODY)
    assert sleeps.waits == pytest.approx([0.1, 0.2, 0.3, 0.3, 0.3])


def test_backoff_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="jitter"):
        Backoff(jitter=2)


async def test_a_status_outside_the_retry_codes_stops_at_once_with_the_retries_so_far(
    gateway: Make, hosts: Hosts
) -> None:
    gw = gateway(target(hosts.script("a", 503, 400, 200), retry=retry(3)))
    with pytest.raises(BadRequestError) as info:
        await gw.chat(BODY)
    assert hosts.calls == ["a", "a"]
    assert info.value.route is not None
    assert info.value.route.retry_attempt_count == 1


async def test_default_codes_include_529_but_not_408(gateway: Make, hosts: Hosts) -> None:
    response = await gateway(target(hosts.script("a", 529, 200), retry=retry(1))).chat(BODY)
    assert response.route is not None
    assert response.route.retry_attempt_count == 1


async def test_network_errors_are_retried_even_when_codes_do_not_list_500(
    gateway: Make, hosts: Hosts
) -> None:
    gw = gateway(target(hosts.script("a", "refuse", 200), retry=retry(2, on_status_codes=[429])))
    response = await gw.chat(BODY)
    assert hosts.calls == ["a", "a"]
    assert response.route is not None
    assert response.route.retry_attempt_count == 1


async def test_retry_runs_inside_each_leaf_before_fallback_moves_on(gateway: Make, hosts: Hosts) -> None:
    """Semantics section 11: top retry {attempts: 2}, fallback fail -> ok: fail x3, then ok."""
    config = {
        "strategy": {"mode": "fallback"},
        "retry": {"attempts": 2},
        "targets": [target(hosts.script("a", 500)), target(hosts.script("b", 200))],
    }
    response = await gateway(config).chat(BODY)
    assert hosts.calls == ["a", "a", "a", "b"]
    assert response.route is not None
    assert response.route.last_used_option_index == "config.targets[1]"
    assert response.route.retry_attempt_count == 0


async def test_a_childs_retry_replaces_the_parents(gateway: Make, hosts: Hosts) -> None:
    config = {
        "strategy": {"mode": "single"},
        "retry": {"attempts": 2, "on_status_codes": [503]},
        "targets": [target(hosts.script("a", 500), retry={"attempts": 1})],
    }
    with pytest.raises(ServerError):
        await gateway(config).chat(BODY)
    assert hosts.calls == ["a", "a"]  # child's default codes include 500; parent's [503] is gone


async def test_retry_after_replaces_the_backoff_when_asked(
    gateway: Make, hosts: Hosts, sleeps: Sleeps
) -> None:
    script = hosts.script(
        "a",
        Step(429, {"retry-after": "2"}),
        Step(429, {"retry-after-ms": "250", "retry-after": "9"}),
        200,
    )
    response = await gateway(target(script, retry=retry(2, use_retry_after_headers=True))).chat(BODY)
    assert sleeps.waits == [2.0, 0.25]
    assert response.route is not None
    assert response.route.retry_attempt_count == 2


async def test_retry_after_is_ignored_without_the_flag(gateway: Make, hosts: Hosts, sleeps: Sleeps) -> None:
    script = hosts.script("a", Step(429, {"retry-after": "30"}), 200)
    await gateway(target(script, retry=retry(1))).chat(BODY)
    assert sleeps.waits[0] <= 1.0


@pytest.mark.parametrize(
    ("steps", "calls"),
    [
        ([Step(429, {"retry-after": "60"})], 1),
        ([Step(429, {"retry-after": "45"}), Step(429, {"retry-after": "20"})], 2),
    ],
)
async def test_retry_after_beyond_the_60_second_budget_gives_up_at_once(
    gateway: Make, hosts: Hosts, sleeps: Sleeps, steps: list[Step], calls: int
) -> None:
    gw = gateway(target(hosts.script("a", *steps), retry=retry(3, use_retry_after_header=True)))
    with pytest.raises(RateLimitError) as info:
        await gw.chat(BODY)
    assert len(hosts.calls) == calls
    assert sum(sleeps.waits) < 60
    assert info.value.route is not None
    assert info.value.route.retry_attempt_count == -1


async def test_request_timeout_is_a_408_that_fallback_acts_on(gateway: Make, hosts: Hosts) -> None:
    config = {
        "strategy": {"mode": "fallback"},
        "request_timeout": 5,
        "targets": [target(hosts.script("a", "hang")), target(hosts.script("b"))],
    }
    response = await gateway(config).chat(BODY)
    assert response.route is not None
    assert [(a.status_code, a.error_type) for a in response.route.attempts] == [
        (408, "RequestTimeoutError"),
        (200, None),
    ]


async def test_a_timeout_is_retried_only_when_408_is_listed(gateway: Make, hosts: Hosts) -> None:
    plain = gateway(target(hosts.script("a", "hang"), request_timeout=5, retry=retry(2)))
    with pytest.raises(RequestTimeoutError) as info:
        await plain.chat(BODY)
    assert info.value.status_code == 408
    assert hosts.calls == ["a"]
    listed = gateway(
        target(hosts.script("b", "hang", 200), request_timeout=5, retry=retry(2, on_status_codes=[408]))
    )
    response = await listed.chat(BODY)
    assert response.route is not None
    assert response.route.retry_attempt_count == 1


async def test_client_args_request_timeout_wins_over_the_configs(hosts: Hosts, sleeps: Sleeps) -> None:
    config = {
        "provider": "openai",
        "api_key": "sk",
        "custom_host": hosts.script("a", "hang"),
        "request_timeout": 60_000,
    }
    gw = Gateway(
        client_args={"config": config, "request_timeout": 5}, transport=hosts.transport, sleep=sleeps
    )
    with pytest.raises(RequestTimeoutError):
        await gw.chat(BODY)
