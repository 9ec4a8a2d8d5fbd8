"""Cache building blocks: the key recipe, the stored form and its replay, the in-memory store."""

from __future__ import annotations

import json

import pytest

from strands_portkey.cache.codec import StreamFold, decode_response, encode_response, replay_chunks
from strands_portkey.cache.keys import exact_key
from strands_portkey.cache.stores import MemoryStore
from strands_portkey.types import ChatRequest, ChatResponse, Choice, ResponseMessage, ToolCall, Usage

REQUEST = ChatRequest.from_body(
    {"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 0}
)
RESPONSE = ChatResponse(
    id="r1",
    model="m",
    created=5,
    choices=(
        Choice(
            0,
            ResponseMessage(
                content="I'll check.",
                reasoning="think",
                reasoning_signature="sig",
                tool_calls=(ToolCall("c1", "weather", '{"city": "Paris"}'), ToolCall("c2", "time", "{}")),
            ),
            "tool_calls",
        ),
    ),
    usage=Usage(7, 3, 10, 2, 1),
)


def key(request: ChatRequest = REQUEST, **kw: str | None) -> str:
    args: dict[str, str | None] = {"provider": "openai", "host": "http://h/v1", "namespace": None}
    args.update(kw)
    return exact_key(request, **args)  # type: ignore[arg-type]


def test_key_ignores_streaming_but_not_anything_that_changes_the_answer() -> None:
    assert key(REQUEST.with_stream(True)) == key()
    assert key(REQUEST.with_overrides({"temperature": 1})) != key()
    assert key(REQUEST.with_overrides({"user": "u2"})) != key()
    assert key(provider="groq") != key()
    assert key(host="http://other/v1") != key()
    assert key(namespace="team-a").startswith("team-a:")
    assert key(namespace="team-a") != key(namespace="team-b")


def test_key_is_stable_across_dict_order() -> None:
    a = ChatRequest.from_body({"model": "m", "messages": [{"role": "user", "content": "x"}], "a": 1, "b": 2})
    b = ChatRequest.from_body({"b": 2, "a": 1, "messages": [{"content": "x", "role": "user"}], "model": "m"})
    assert key(a) == key(b)


def test_a_response_survives_encoding_whole() -> None:
    assert decode_response(encode_response(RESPONSE)) == RESPONSE


def _stored(**changes: object) -> bytes:
    entry = json.loads(encode_response(RESPONSE))
    return json.dumps({**entry, **changes}).encode()


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"{}",
        b'{"format": 99}',
        b'{"format": 1, "id": "x"}',
        b"[]",
        b"[" * 100_000,  # a shared store (Redis) is outside the process: hostile entries are refused
        b"\xff\xfe",
        _stored(created=float("inf")),
        _stored(usage=[1e999, 0, 0, 0, 0]),
    ],
)
def test_corrupt_entries_are_value_errors(data: bytes) -> None:
    with pytest.raises(ValueError, match="cache entry"):
        decode_response(data)


def test_replayed_chunks_fold_back_into_the_same_response() -> None:
    fold = StreamFold()
    for chunk in replay_chunks(RESPONSE):
        fold.add(chunk)
    assert fold.response() == RESPONSE


def test_a_stream_without_a_finish_reason_folds_into_nothing() -> None:
    fold = StreamFold()
    for chunk in replay_chunks(RESPONSE)[:-2]:  # drop the finish chunk and the usage chunk
        fold.add(chunk)
    assert fold.response() is None


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_memory_store_expires_entries() -> None:
    clock = Clock()
    store = MemoryStore(clock=clock)
    await store.set("k", b"v", ttl_s=10)
    clock.now = 109.9
    assert await store.get("k") == b"v"
    clock.now = 110.0
    assert await store.get("k") is None
    assert len(store) == 0


async def test_memory_store_drops_the_least_recently_used() -> None:
    store = MemoryStore(max_entries=2)
    await store.set("a", b"1", 60)
    await store.set("b", b"2", 60)
    assert await store.get("a") == b"1"  # a is now the most recently used
    await store.set("c", b"3", 60)
    assert await store.get("b") is None
    assert (await store.get("a"), await store.get("c")) == (b"1", b"3")


def test_memory_store_refuses_a_zero_bound() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        MemoryStore(max_entries=0)


async def test_sqlite_store_survives_a_restart_and_expires_by_wall_clock(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from strands_portkey.cache.sqlite import SQLiteStore

    clock = Clock()
    path = tmp_path / "cache" / "entries.db"
    first = SQLiteStore(path, clock=clock)
    await first.set("k", b"\x00value", ttl_s=10)
    await first.set("k2", b"other", ttl_s=1)
    first.close()
    second = SQLiteStore(path, clock=clock)
    assert await second.get("k") == b"\x00value"
    clock.now += 5
    assert await second.get("k2") is None
    assert await second.get("k") == b"\x00value"
    clock.now += 5
    assert await second.get("k") is None
    second.close()


def test_sqlite_store_file_is_in_wal_mode(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    from strands_portkey.cache.sqlite import SQLiteStore

    SQLiteStore(tmp_path / "c.db").close()
    assert sqlite3.connect(tmp_path / "c.db").execute("PRAGMA journal_mode").fetchone()[0] == "wal"
