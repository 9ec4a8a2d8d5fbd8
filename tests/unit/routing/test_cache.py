"""The exact cache through the gateway and PortkeyModel: hits, misses, refresh, replay, failures."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from strands.event_loop.streaming import process_stream

from strands_portkey import Gateway, PortkeyModel
from strands_portkey.errors import ServerError, StreamInterruptedError

from .conftest import BODY, Hosts, Step, target

Make = Callable[..., Gateway]


def cached(url: str, **extra: Any) -> dict[str, Any]:
    return target(url, cache={"mode": "simple", "max_age": 60}, **extra)


async def test_second_identical_request_is_a_hit_without_an_upstream_call(
    gateway: Make, hosts: Hosts
) -> None:
    gw = gateway(cached(hosts.script("a")))
    first = await gw.chat(BODY)
    second = await gw.chat(BODY)
    assert hosts.calls == ["a"]
    assert first.route is not None
    assert second.route is not None
    assert (first.route.cache_status, second.route.cache_status) == ("MISS", "HIT")
    assert second.text == first.text
    assert second.route.attempts == []
    assert second.route.last_used_option_index == "config"


async def test_without_a_cache_config_the_status_is_disabled(gateway: Make, hosts: Hosts) -> None:
    response = await gateway(target(hosts.script("a"))).chat(BODY)
    assert response.route is not None
    assert response.route.cache_status == "DISABLED"


async def test_force_refresh_goes_upstream_and_stores_the_new_answer(gateway: Make, hosts: Hosts) -> None:
    gw = gateway(cached(hosts.script("a")))
    await gw.chat(BODY)
    refreshed = await gw.chat(BODY, cache_force_refresh=True)
    assert refreshed.route is not None
    assert refreshed.route.cache_status == "REFRESH"
    again = await gw.chat(BODY)
    assert again.route is not None
    assert again.route.cache_status == "HIT"
    assert hosts.calls == ["a", "a"]


async def test_namespaces_and_bypass_partition_and_skip(gateway: Make, hosts: Hosts) -> None:
    gw = gateway(cached(hosts.script("a")))
    await gw.chat(BODY, cache_namespace="team-a")
    other = await gw.chat(BODY, cache_namespace="team-b")
    skipped = await gw.chat(BODY, cache_namespace="team-a", cache_bypass=True)
    assert other.route is not None
    assert skipped.route is not None
    assert (other.route.cache_status, skipped.route.cache_status) == ("MISS", "DISABLED")
    assert hosts.calls == ["a", "a", "a"]


async def test_client_args_namespace_is_the_default(hosts: Hosts) -> None:
    config = cached(hosts.script("a"))
    gw = Gateway(client_args={"config": config, "cache_namespace": "ns"}, transport=hosts.transport)
    await gw.chat(BODY)
    assert (await gw.chat(BODY, cache_namespace="ns")).route.cache_status == "HIT"  # type: ignore[union-attr]
    assert (await gw.chat(BODY, cache_namespace="other")).route.cache_status == "MISS"  # type: ignore[union-attr]


async def test_override_params_are_part_of_the_key(gateway: Make, hosts: Hosts) -> None:
    config = {
        "strategy": {
            "mode": "conditional",
            "conditions": [{"query": {"metadata.v": "2"}, "then": "b"}],
            "default": "a",
        },
        "cache": {"mode": "simple"},
        "targets": [
            target(hosts.script("h"), name="a", override_params={"temperature": 0}),
            target(hosts.script("h"), name="b", override_params={"temperature": 1}),
        ],
    }
    gw = gateway(config)
    await gw.chat(BODY)
    second = await gw.chat(BODY, metadata={"v": "2"})
    assert second.route is not None
    assert second.route.cache_status == "MISS"


async def test_failures_are_never_stored(gateway: Make, hosts: Hosts) -> None:
    gw = gateway(cached(hosts.script("a", 500, 200)))
    with pytest.raises(ServerError) as info:
        await gw.chat(BODY)
    assert info.value.route is not None
    assert info.value.route.cache_status == "MISS"
    assert (await gw.chat(BODY)).route.cache_status == "MISS"  # type: ignore[union-attr]


async def test_a_streamed_answer_is_stored_once_complete_and_replayed_as_a_stream(
    gateway: Make, hosts: Hosts
) -> None:
    gw = gateway(cached(hosts.script("a")))
    async with gw.stream(BODY) as live:
        live_chunks = [c.to_dict() for c in [chunk async for chunk in live]]
    async with gw.stream(BODY) as replay:
        replayed = [chunk async for chunk in replay]
    assert replay.route.cache_status == "HIT"
    assert hosts.calls == ["a"]
    text = "".join(c.choices[0].delta.content or "" for c in replayed if c.choices)
    assert text == "a-0a-1"
    assert replayed[-2].choices[0].finish_reason == "stop"
    whole = await gw.chat(BODY)
    assert whole.route is not None
    assert whole.route.cache_status == "HIT"
    assert whole.text == "a-0a-1"
    assert live_chunks


async def test_a_broken_or_abandoned_stream_is_never_stored(gateway: Make, hosts: Hosts) -> None:
    gw = gateway(cached(hosts.script("a", Step(stream_chunks=3, cut_after=1), Step(stream_chunks=3), Step())))

    async def consume(limit: int | None = None) -> None:
        async with gw.stream(BODY) as stream:
            count = 0
            async for _ in stream:
                count += 1
                if limit is not None and count >= limit:
                    break

    with pytest.raises(StreamInterruptedError):
        await consume()
    await consume(limit=1)  # the caller stops reading early
    response = await gw.chat(BODY)
    assert response.route is not None
    assert response.route.cache_status == "MISS"
    assert hosts.calls == ["a", "a", "a"]


class BrokenStore:
    async def get(self, key: str) -> bytes | None:
        raise OSError("redis went away")

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        raise OSError("redis went away")


async def test_a_failing_store_serves_from_the_provider_and_logs_once(
    gateway: Make, hosts: Hosts, caplog: pytest.LogCaptureFixture
) -> None:
    gw = gateway(cached(hosts.script("a")), cache_store=BrokenStore())
    with caplog.at_level(logging.WARNING, logger="strands_portkey.cache"):
        for _ in range(3):
            response = await gw.chat(BODY)
            assert response.text == "from a"
    assert hosts.calls == ["a"] * 3
    assert len(caplog.records) == 1
    assert "redis went away" in caplog.records[0].getMessage()


class CorruptStore:
    async def get(self, key: str) -> bytes | None:
        return b"\x00garbage"

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        return None


async def test_a_corrupt_entry_is_a_miss(gateway: Make, hosts: Hosts) -> None:
    response = await gateway(cached(hosts.script("a")), cache_store=CorruptStore()).chat(BODY)
    assert response.route is not None
    assert response.route.cache_status == "MISS"
    assert hosts.calls == ["a"]


async def test_a_cache_key_never_contains_the_api_key(gateway: Make, hosts: Hosts) -> None:
    keys: list[str] = []

    class Spy:
        async def get(self, key: str) -> bytes | None:
            keys.append(key)
            return None

        async def set(self, key: str, value: bytes, ttl_s: float) -> None:
            keys.append(key)
            assert b"sk-canary" not in value

    await gateway(cached(hosts.script("a"), api_key="sk-canary-cache-0001"), cache_store=Spy()).chat(BODY)
    assert keys
    assert not any("sk-canary" in k for k in keys)


async def test_portkey_model_cannot_tell_a_replay_from_a_live_stream(hosts: Hosts) -> None:
    """Strands folds both event streams into the same message and stop reason."""
    gw = Gateway(cached(hosts.script("a")), transport=hosts.transport)
    model = PortkeyModel(gateway=gw, model_id="m")
    messages: list[Any] = [{"role": "user", "content": [{"text": "hi"}]}]

    async def final() -> tuple[Any, Any]:
        stop: Any = None
        async for event in process_stream(model.stream(messages)):
            stop = event.get("stop", stop)
        return stop[0], stop[1]

    live = await final()
    assert model.last_route is not None
    assert model.last_route.cache_status == "MISS"
    replay = await final()
    assert model.last_route.cache_status == "HIT"
    assert replay == live
    assert live[1]["content"] == [{"text": "a-0a-1"}]
    assert hosts.calls == ["a"]


async def test_two_gateways_share_entries_through_one_sqlite_file(hosts: Hosts, tmp_path: Any) -> None:
    from strands_portkey.cache.sqlite import SQLiteStore

    config = cached(hosts.script("a"))
    writer = Gateway(config, transport=hosts.transport, cache_store=SQLiteStore(tmp_path / "c.db"))
    reader = Gateway(config, transport=hosts.transport, cache_store=SQLiteStore(tmp_path / "c.db"))
    await writer.chat(BODY)
    hit = await reader.chat(BODY)
    assert hit.route is not None
    assert hit.route.cache_status == "HIT"
    assert hit.text == "from a"
    assert hosts.calls == ["a"]
