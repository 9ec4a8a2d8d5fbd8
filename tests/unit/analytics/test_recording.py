"""Every Gateway call leaves one request record: success, failure, retries, fallback, cache, streams."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest

from strands_portkey import Gateway
from strands_portkey.analytics.record import RequestRecord
from strands_portkey.analytics.sinks import RecordWriter
from strands_portkey.catalog.billing import PriceBook
from strands_portkey.controlplane import ControlPlane
from strands_portkey.errors import RateLimitError, ServerError, StreamInterruptedError
from strands_portkey.types import RouteInfo

from ..conftest import chunk, completion, sse
from .conftest import rows

BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "user": "alice"}
CANARY = "sk-canary-analytics-7f3e9a1c5b2d4f6e8a0c"


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=completion("hello"))


def _rate(gw: Gateway) -> None:
    gw.providers.create({"name": "openai", "displayName": "OpenAI", "baseUrl": "https://api.openai.com/v1/"})
    gw.providers.rates.create(
        {
            "model": "gpt-4o",
            "type": "chatCompletion",
            "inputRate": 2,
            "outputRate": 10,
            "unitCosts": {"input": "0.000002", "output": "0.00001"},
            "providers": ["openai"],
        }
    )


async def test_a_successful_chat_is_recorded_with_cost_and_no_secret(plane: ControlPlane) -> None:
    gw = Gateway(
        {"provider": "openai", "api_key": CANARY}, control_plane=plane, transport=httpx.MockTransport(ok)
    )
    _rate(gw)
    await gw.chat(BODY, trace_id="t-1", metadata={"team": "search"})
    await gw.aclose()
    [row] = rows(plane)
    assert row["trace_id"] == "t-1"
    assert row["request_metadata"] == {"team": "search"}
    assert row["user"] == "alice"
    assert (row["model_id"], row["requested_model"], row["served_model"]) == ("gpt-4o", "gpt-4o", "m")
    assert (row["provider"], row["option_path"], row["status"], row["status_code"]) == (
        "openai",
        "config",
        "success",
        200,
    )
    assert (row["prompt_tokens"], row["completion_tokens"], row["total_tokens"]) == (3, 2, 5)
    # served model "m" has no rate; the requested gpt-4o has: 3 x 2e-6 + 2 x 1e-5 USD, 3 x 2 + 2 x 10 credits
    assert row["cost_usd"] == pytest.approx(0.000026)
    assert row["cost_credits"] == pytest.approx(26.0)
    assert (row["streamed"], row["cache_status"], row["retries"], row["error_type"]) == (
        False,
        "DISABLED",
        0,
        None,
    )
    assert row["latency_ms"] >= 0
    assert row["ttft_ms"] is None
    assert CANARY not in json.dumps(row, default=str)


async def test_a_failure_is_recorded_with_its_error_type_and_status(plane: ControlPlane) -> None:
    gw = Gateway(
        {"provider": "openai", "api_key": "sk-x"},
        control_plane=plane,
        transport=httpx.MockTransport(lambda r: httpx.Response(500, json={"error": {"message": "boom"}})),
    )
    with pytest.raises(ServerError):
        await gw.chat(BODY)
    [row] = rows(plane)
    assert (row["status"], row["status_code"], row["error_type"]) == ("error", 500, "ServerError")
    assert row["cost_usd"] is None
    assert row["total_tokens"] == 0


async def test_retries_and_fallback_are_recorded(plane: ControlPlane) -> None:
    calls: list[str] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.host)
        if request.url.host == "api.openai.com" or len(calls) == 2:
            return httpx.Response(503, json={"error": {"message": "down"}})
        return httpx.Response(200, json=completion("from groq"))

    config = {
        "strategy": {"mode": "fallback"},
        "targets": [
            {"provider": "openai", "api_key": "sk-a"},
            {"provider": "groq", "api_key": "sk-b", "retry": {"attempts": 2}},
        ],
    }

    async def no_sleep(_: float) -> None:
        return None

    gw = Gateway(config, control_plane=plane, transport=httpx.MockTransport(flaky), sleep=no_sleep)
    await gw.chat(BODY)
    [row] = rows(plane)
    assert (row["provider"], row["option_path"], row["retries"], row["status"]) == (
        "groq",
        "config.targets[1]",
        1,
        "success",
    )


async def test_a_cache_hit_is_recorded_at_no_cost(plane: ControlPlane) -> None:
    gw = Gateway(
        {"provider": "openai", "api_key": "sk-x", "cache": {"mode": "simple"}},
        control_plane=plane,
        transport=httpx.MockTransport(ok),
    )
    _rate(gw)
    await gw.chat(BODY)
    await gw.chat(BODY)
    first, second = rows(plane)
    assert (first["cache_status"], second["cache_status"]) == ("MISS", "HIT")
    assert first["cost_usd"] == pytest.approx(0.000026)
    assert (second["cost_usd"], second["cost_credits"]) == (0.0, 0.0)


def _streaming(request: httpx.Request) -> httpx.Response:
    usage = {"id": "c1", "model": "m", "choices": [], "usage": {"prompt_tokens": 4, "completion_tokens": 2}}
    body = sse(chunk("he"), chunk("llo", finish="stop"), usage)
    return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})


async def test_a_stream_is_recorded_when_it_ends_with_ttft_and_usage(plane: ControlPlane) -> None:
    gw = Gateway(
        {"provider": "openai", "api_key": "sk-x"},
        control_plane=plane,
        transport=httpx.MockTransport(_streaming),
    )
    async with gw.stream(BODY) as stream:
        assert rows(plane) == []  # not before the end
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "hello"
    [row] = rows(plane)
    assert (row["streamed"], row["status"], row["prompt_tokens"], row["completion_tokens"]) == (
        True,
        "success",
        4,
        2,
    )
    assert row["ttft_ms"] is not None
    assert 0 <= row["ttft_ms"] <= row["latency_ms"]


async def test_a_stream_closed_early_is_recorded_once_as_cancelled(plane: ControlPlane) -> None:
    gw = Gateway(
        {"provider": "openai", "api_key": "sk-x"},
        control_plane=plane,
        transport=httpx.MockTransport(_streaming),
    )
    async with gw.stream(BODY):
        pass
    [row] = rows(plane)
    assert (row["streamed"], row["status"]) == (True, "cancelled")


async def test_a_stream_refused_upstream_is_recorded_as_an_error(plane: ControlPlane) -> None:
    gw = Gateway(
        {"provider": "openai", "api_key": "sk-x"},
        control_plane=plane,
        transport=httpx.MockTransport(lambda r: httpx.Response(429, json={"error": {"message": "slow"}})),
    )
    with pytest.raises(RateLimitError):
        async with gw.stream(BODY):
            pass
    [row] = rows(plane)
    assert (row["streamed"], row["status"], row["status_code"], row["error_type"]) == (
        True,
        "error",
        429,
        "RateLimitError",
    )


class _BreaksAfter(httpx.AsyncByteStream):
    def __init__(self, *parts: bytes) -> None:
        self._parts = parts

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        for part in self._parts:
            yield part
        raise httpx.ReadError("connection reset by peer")


async def test_a_stream_broken_mid_way_is_recorded_as_its_route_says(plane: ControlPlane) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=_BreaksAfter(sse(chunk("he"), done=False)))

    gw = Gateway(
        {"provider": "openai", "api_key": "sk-x"}, control_plane=plane, transport=httpx.MockTransport(answer)
    )
    stream = gw.stream(BODY)
    with pytest.raises(StreamInterruptedError):
        async with stream:
            [c async for c in stream]
    [row] = rows(plane)
    last = stream.route.attempts[-1]
    assert (row["status"], row["status_code"], row["error_type"]) == ("error", 502, "StreamInterruptedError")
    assert (stream.route.status_code, last.status_code, last.error_type) == (
        502,
        502,
        "StreamInterruptedError",
    )


async def test_a_usage_count_too_large_for_the_database_never_loses_the_batch(plane: ControlPlane) -> None:
    hostile = completion("hello") | {"usage": {"prompt_tokens": 10**30, "completion_tokens": 2}}
    answers = [completion("hello"), hostile, completion("hello")]
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=answers.pop(0)))
    gw = Gateway({"provider": "openai", "api_key": "sk-x"}, control_plane=plane, transport=transport)
    for _ in range(3):
        await gw.chat(BODY)
    await gw.aclose()
    assert [(row["prompt_tokens"], row["completion_tokens"]) for row in rows(plane)] == [
        (3, 2),
        (0, 2),
        (3, 2),
    ]


async def test_no_database_is_created_just_to_record(tmp_path: Path) -> None:
    env = {"STRANDS_PORTKEY_HOME": str(tmp_path / "home"), "OPENAI_API_KEY": "sk-x"}
    gw = Gateway({"provider": "openai"}, env=env, transport=httpx.MockTransport(ok))
    await gw.chat(BODY)
    await gw.aclose()
    assert not (tmp_path / "home").exists()


async def test_the_default_store_records_once_it_exists_and_analytics_can_be_turned_off(
    tmp_path: Path,
) -> None:
    env = {"STRANDS_PORTKEY_HOME": str(tmp_path), "OPENAI_API_KEY": "sk-x", "STRANDS_PORTKEY_MASTER_KEY": ""}
    from .conftest import MASTER

    env["STRANDS_PORTKEY_MASTER_KEY"] = MASTER
    gw = Gateway({"provider": "openai"}, env=env, transport=httpx.MockTransport(ok))
    assert gw.ai.analytics.usage().total_requests == 0  # gw.ai creates the store
    await gw.chat(BODY)
    assert gw.ai.analytics.usage().total_requests == 1
    await gw.aclose()
    off = Gateway(
        {"provider": "openai"},
        env={**env, "STRANDS_PORTKEY_ANALYTICS": "off"},
        transport=httpx.MockTransport(ok),
    )
    await off.chat(BODY)
    assert off.ai.analytics.usage().total_requests == 1
    await off.aclose()


def _record() -> RequestRecord:
    from strands_portkey.analytics.record import outcome_record
    from strands_portkey.types import ChatRequest

    request = ChatRequest.from_body(BODY)
    return outcome_record(
        request,
        RouteInfo(trace_id="t"),
        {},
        started_at=0.0,
        latency_ms=1.0,
        usage=None,
        error=None,
        streamed=False,
    )


def test_a_full_queue_drops_counts_and_logs(plane: ControlPlane, caplog: pytest.LogCaptureFixture) -> None:
    writer = RecordWriter(plane.store, PriceBook, capacity=2, flush_interval=3600)
    with caplog.at_level(logging.WARNING, logger="strands_portkey.analytics"):
        for _ in range(5):
            writer.submit(_record())
    assert writer.stats().dropped == 3
    assert "1 record(s) dropped" in caplog.text
    assert "analytics queue full" in caplog.text
    writer.close()
    assert writer.stats().written == 2


def test_a_failed_batch_is_counted_and_logged_and_the_writer_survives(
    plane: ControlPlane, caplog: pytest.LogCaptureFixture
) -> None:
    writer = RecordWriter(plane.store, PriceBook, flush_interval=3600)
    writer.submit(_record())
    with plane.store.engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE request_records RENAME TO moved")
    with caplog.at_level(logging.ERROR, logger="strands_portkey.analytics"):
        writer.flush()
    assert writer.stats().failed == 1
    assert "could not be written" in caplog.text
    with plane.store.engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE moved RENAME TO request_records")
    writer.submit(_record())
    writer.close()
    assert writer.stats().written == 1


def _user_of(metadata: dict[str, str]) -> str | None:
    from strands_portkey.analytics.record import outcome_record
    from strands_portkey.types import ChatRequest

    request = ChatRequest.from_body(BODY)  # the body says user "alice"
    record = outcome_record(
        request,
        RouteInfo(trace_id="t"),
        metadata,
        started_at=0.0,
        latency_ms=1.0,
        usage=None,
        error=None,
        streamed=False,
    )
    return record.user


def test_on_the_server_the_gateway_keys_user_is_recorded_not_the_bodys() -> None:
    assert _user_of({}) == "alice"  # in-process: the request's own user field
    assert _user_of({"_user": "bob"}) == "alice"
    assert _user_of({"_api_key_id": "ak-1", "_user": "bob"}) == "bob"  # the server: the key's user
