"""Streaming through routing: retry and fallback before the first chunk only, never a truncated success."""

from collections.abc import Callable

import pytest

from strands_portkey import Gateway
from strands_portkey.errors import RequestTimeoutError, StreamInterruptedError

from .conftest import BODY, Hosts, Step, target

Make = Callable[..., Gateway]


def texts(chunks: list) -> list[str]:  # type: ignore[type-arg]
    return [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]


async def test_fallback_before_the_first_chunk(gateway: Make, hosts: Hosts) -> None:
    config = {
        "strategy": {"mode": "fallback"},
        "targets": [target(hosts.script("a", 500)), target(hosts.script("b"))],
    }
    async with gateway(config).stream(BODY) as stream:
        chunks = [chunk async for chunk in stream]
    assert texts(chunks) == ["b-0", "b-1"]
    assert stream.route.last_used_option_index == "config.targets[1]"
    assert hosts.calls == ["a", "b"]


async def test_a_stream_that_breaks_before_its_first_chunk_is_retried(gateway: Make, hosts: Hosts) -> None:
    script = hosts.script("a", Step(cut_after=0), Step())
    async with gateway(target(script, retry={"attempts": 1})).stream(BODY) as stream:
        chunks = [chunk async for chunk in stream]
    assert texts(chunks) == ["a-0", "a-1"]
    assert stream.route.retry_attempt_count == 1


async def test_a_failure_after_the_first_chunk_raises_and_never_falls_back(
    gateway: Make, hosts: Hosts
) -> None:
    config = {
        "strategy": {"mode": "fallback"},
        "retry": {"attempts": 2},
        "targets": [target(hosts.script("a", Step(stream_chunks=3, cut_after=1))), target(hosts.script("b"))],
    }
    received: list[str] = []

    async def consume() -> None:
        async with gateway(config).stream(BODY) as stream:
            async for chunk in stream:
                received.extend(texts([chunk]))

    with pytest.raises(StreamInterruptedError) as info:
        await consume()
    assert received == ["a-0"]
    assert hosts.calls == ["a"]
    assert info.value.route is not None
    assert info.value.route.last_used_option_index == "config.targets[0]"
    assert info.value.option_index == "config.targets[0]"


async def test_the_route_of_a_stream_broken_after_its_first_chunk_says_it_failed(
    gateway: Make, hosts: Hosts
) -> None:
    """The attempt committed as a 200; once the stream breaks, every view of the route says 502."""
    config = {
        "strategy": {"mode": "fallback"},
        "targets": [target(hosts.script("a", Step(stream_chunks=3, cut_after=1))), target(hosts.script("b"))],
    }
    stream = gateway(config).stream(BODY)
    seen: list[int | None] = []

    async def consume() -> None:
        async with stream:
            async for _ in stream:
                seen.append(stream.route.status_code)

    with pytest.raises(StreamInterruptedError) as info:
        await consume()
    assert seen == [200]  # committed: nothing had failed yet when the first chunk arrived
    route = stream.route
    assert info.value.route is route
    assert route.status_code == info.value.status_code == 502
    assert [(a.option_index, a.status_code, a.error_type) for a in route.attempts] == [
        ("config.targets[0]", 502, "StreamInterruptedError")
    ]
    headers = route.to_headers()
    assert headers["x-portkey-last-used-option-index"] == "config.targets[0]"
    assert headers["x-portkey-provider"] == "openai"


async def test_a_stream_without_a_first_chunk_in_time_is_a_408_and_falls_back(
    gateway: Make, hosts: Hosts
) -> None:
    config = {
        "strategy": {"mode": "fallback"},
        "request_timeout": 5,
        "targets": [target(hosts.script("a", "hang")), target(hosts.script("b"))],
    }
    async with gateway(config).stream(BODY) as stream:
        chunks = [chunk async for chunk in stream]
    assert texts(chunks) == ["b-0", "b-1"]
    assert [a.status_code for a in stream.route.attempts] == [408, 200]


async def test_all_streaming_targets_failing_raises_with_the_route(gateway: Make, hosts: Hosts) -> None:
    config = {
        "strategy": {"mode": "fallback"},
        "targets": [target(hosts.script("a", "hang"), request_timeout=5)],
    }
    stream = gateway(config).stream(BODY)
    with pytest.raises(RequestTimeoutError) as info:
        await stream.open()
    assert info.value.route is stream.route
    assert info.value.route.attempts[0].status_code == 408


async def test_loadbalance_and_conditional_stream_from_the_chosen_target(gateway: Make, hosts: Hosts) -> None:
    config = {
        "strategy": {
            "mode": "conditional",
            "conditions": [{"query": {"params.stream": True}, "then": "s"}],
            "default": "n",
        },
        "targets": [
            target(hosts.script("n"), name="n"),
            {"name": "s", "strategy": {"mode": "loadbalance"}, "targets": [target(hosts.script("s"))]},
        ],
    }
    gw = gateway(config)
    async with gw.stream(BODY) as stream:
        assert texts([c async for c in stream]) == ["s-0", "s-1"]
    assert stream.route.last_used_option_index == "config.targets[1].targets[0]"
    await gw.chat(BODY)
    assert hosts.calls == ["s", "n"]
