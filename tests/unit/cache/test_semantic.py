"""Semantic building blocks: scope and question, signatures, vector-log records, the index."""

from __future__ import annotations

import numpy as np
import pytest

from strands_portkey.cache.index import ScopeIndex
from strands_portkey.cache.semantic import (
    compatible,
    decode_record,
    encode_record,
    semantic_parts,
    signature,
)
from strands_portkey.types import ChatRequest


def parts(messages: list[dict[str, object]], **body: object) -> tuple[str, str] | None:
    request = ChatRequest.from_body({"model": "m", "messages": messages, **body})
    return semantic_parts(request, provider="openai", host="h", namespace=None, space="e", max_context=4)


def test_the_scope_leaves_out_only_the_last_user_turn() -> None:
    system = {"role": "system", "content": "be brief"}
    first = parts([system, {"role": "user", "content": "capital of France?"}])
    second = parts([system, {"role": "user", "content": "France's capital?"}])
    assert first is not None
    assert second is not None
    assert first[0] == second[0]
    assert (first[1], second[1]) == ("capital of France?", "France's capital?")
    other_system = parts([{"role": "system", "content": "be long"}, {"role": "user", "content": "x"}])
    other_params = parts([system, {"role": "user", "content": "x"}], temperature=1)
    assert other_system is not None
    assert other_params is not None
    assert len({first[0], other_system[0], other_params[0]}) == 3


def test_what_is_not_matched_semantically() -> None:
    assert parts([{"role": "assistant", "content": "hi"}]) is None
    assert parts([{"role": "user", "content": "   "}]) is None
    image = {"type": "image_url", "image_url": {"url": "data:"}}
    assert parts([{"role": "user", "content": [{"type": "text", "text": "what is it"}, image]}]) is None
    long = [{"role": "user", "content": str(i)} for i in range(5)] + [{"role": "user", "content": "q"}]
    assert parts(long) is None
    text_parts = parts(
        [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]
    )
    assert text_parts is not None
    assert text_parts[1] == "a\nb"


def test_the_namespace_prefixes_the_scope() -> None:
    request = ChatRequest.from_body({"model": "m", "messages": [{"role": "user", "content": "q"}]})
    scoped = semantic_parts(request, provider="p", host="h", namespace="team", space="e", max_context=4)
    assert scoped is not None
    assert scoped[0].startswith("team:sem:")


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("Which city is France's capital?", "What is the capital of France?", True),
        ("What is 15 percent of 200?", "What is 20 percent of 200?", False),
        ("Convert 10 miles to kilometers.", "Convert 10 kilometers to miles.", False),
        ("What is the capital of France?", "What is the capital of Germany?", False),
        ("When does the store open?", "When does the store close?", False),
        ("How can I cancel my subscription?", "How do I cancel my subscription?", True),
    ],
)
def test_signatures_reject_what_embeddings_cannot_see(first: str, second: str, expected: bool) -> None:
    assert compatible(signature(first), signature(second)) is expected


def test_a_signature_holds_no_text() -> None:
    assert "france" not in signature("What is the capital of France?").lower()


def test_records_round_trip_and_corrupt_ones_are_refused() -> None:
    vector = np.arange(4, dtype=np.float32)
    expires, key, sig, raw = decode_record(encode_record(12.5, "k", signature("q"), vector))
    assert (expires, key, sig) == (12.5, "k", signature("q"))
    assert np.array_equal(np.frombuffer(raw, dtype="<f4"), vector)
    with pytest.raises(ValueError, match="corrupt"):
        decode_record(b"\x00\x01")
    with pytest.raises(ValueError, match="corrupt"):
        decode_record(encode_record(1.0, "k", "s", vector)[:-1])


def unit_rows(count: int, seed: int = 3) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((count, 32)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_the_index_finds_the_nearest_live_entry_and_skips_expired_ones() -> None:
    rows = unit_rows(50)
    index = ScopeIndex(32, exact_limit=1_000, max_entries=1_000)
    expires = [100.0] * 50
    expires[7] = 5.0
    index.add(rows, [f"k{i}" for i in range(50)], ["s"] * 50, expires, now=0.0)
    assert index.search(rows[3], 0.99, now=10.0)[0][1] == "k3"
    assert index.search(rows[7], 0.99, now=10.0) == []
    assert index.search(rows[3], 0.99, now=10.0, accept=lambda sig: False) == []
    assert not index.approximate


def test_past_the_exact_limit_the_index_is_hnsw_and_agrees_with_exact_search() -> None:
    pytest.importorskip("faiss", reason="the [semantic-ann] extra (faiss-cpu) is not installed")
    rows = unit_rows(600)
    keys = [f"k{i}" for i in range(600)]
    exact = ScopeIndex(32, exact_limit=10_000, max_entries=10_000)
    approx = ScopeIndex(32, exact_limit=100, max_entries=10_000)
    for index in (exact, approx):
        index.add(rows[:300], keys[:300], ["s"] * 300, [100.0] * 300, now=0.0)
        index.add(rows[300:], keys[300:], ["s"] * 300, [100.0] * 300, now=0.0)  # incremental adds
    assert approx.approximate
    assert not exact.approximate
    noisy = rows + 0.05 * np.random.default_rng(5).standard_normal(rows.shape).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    agree = sum(
        [k for _, k in exact.search(q, 0.5, now=1.0, limit=1)]
        == [k for _, k in approx.search(q, 0.5, now=1.0, limit=1)]
        for q in noisy
    )
    assert agree >= 0.97 * len(noisy)


def test_a_full_scope_drops_its_oldest_entries() -> None:
    rows = unit_rows(30)
    index = ScopeIndex(32, exact_limit=1_000, max_entries=20)
    index.add(rows[:20], [f"k{i}" for i in range(20)], ["s"] * 20, [100.0] * 20, now=0.0)
    index.add(rows[20:], [f"k{i}" for i in range(20, 30)], ["s"] * 10, [100.0] * 10, now=0.0)
    assert len(index) <= 20
    assert index.search(rows[0], 0.99, now=1.0) == []
    assert index.search(rows[29], 0.99, now=1.0)[0][1] == "k29"


def test_a_full_hnsw_scope_is_rebuilt_from_the_vectors_faiss_keeps() -> None:
    pytest.importorskip("faiss", reason="the [semantic-ann] extra (faiss-cpu) is not installed")
    rows = unit_rows(300)
    index = ScopeIndex(32, exact_limit=50, max_entries=200)
    index.add(rows[:200], [f"k{i}" for i in range(200)], ["s"] * 200, [100.0] * 200, now=0.0)
    assert index.approximate
    index.add(rows[200:], [f"k{i}" for i in range(200, 300)], ["s"] * 100, [100.0] * 100, now=0.0)
    assert len(index) <= 200
    assert index.approximate
    assert index.search(rows[0], 0.99, now=1.0) == []
    assert index.search(rows[150], 0.99, now=1.0)[0][1] == "k150"
    assert index.search(rows[299], 0.99, now=1.0)[0][1] == "k299"
