"""Cache quality and speed: `hatch run bench-cache` (or `python benchmarks/cache.py --quick`).

Quality: the labelled pairs in benchmarks/data/cache_pairs.tsv (written for this project:
paraphrases, near-misses such as "capital of France" / "capital of Germany", unrelated pairs) are
embedded with the default embedder (MiniLM int8); for each threshold we print the paraphrase hit
rate and the false-hit rates on near-misses and unrelated pairs, and where the default sits.

Speed: lookup latency p50/p99 with 1k, 10k and 100k entries in the store / in one semantic scope:
* exact: the key of a realistic request (sha256 of its canonical JSON), the store lookup, decoding;
* semantic: embedding the question with MiniLM, searching the scope (numpy up to 10k entries,
  faiss HNSW beyond), fetching and decoding the answer. Stored vectors are random unit vectors
  (embedding 100k real questions would take minutes) plus the real ones the queries are near.
Memory: resident size added by 100k semantic entries (vectors + HNSW graph), and by their answers.

Every loop is bounded by a fixed count.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gc
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from strands_portkey.cache.codec import decode_response, encode_response
from strands_portkey.cache.embedders import MiniLMEmbedder
from strands_portkey.cache.index import ScopeIndex
from strands_portkey.cache.keys import exact_key
from strands_portkey.cache.semantic import DEFAULT_THRESHOLD, compatible, signature
from strands_portkey.cache.stores import MemoryStore
from strands_portkey.types import ChatRequest, ChatResponse, Choice, ResponseMessage, Usage

PAIRS = Path(__file__).parent / "data" / "cache_pairs.tsv"
DIM = 384


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


def load_pairs() -> list[tuple[str, str, str]]:
    with PAIRS.open(newline="") as handle:
        return [(row["label"], row["first"], row["second"]) for row in csv.DictReader(handle, delimiter="\t")]


def quality(embedder: MiniLMEmbedder) -> None:
    pairs = load_pairs()
    scores: dict[str, list[float]] = {"paraphrase": [], "near_miss": [], "unrelated": []}
    guarded: dict[str, list[float]] = {"paraphrase": [], "near_miss": [], "unrelated": []}
    for label, first, second in pairs:
        vectors = embedder.embed_sync([first, second])
        score = float(vectors[0] @ vectors[1])
        scores[label].append(score)
        # what the cache does: a signature mismatch (numbers, word order) is never a hit
        guarded[label].append(score if compatible(signature(first), signature(second)) else -1.0)
    counts = {label: len(values) for label, values in scores.items()}
    print(f"\n## Quality: {len(pairs)} labelled pairs {counts}")
    for label, values in scores.items():
        print(
            f"  {label:<10} cosine min {min(values):.3f}  median {statistics.median(values):.3f}  "
            f"max {max(values):.3f}"
        )
    print("\nhit rates: cosine alone | with the signature guard (what the cache does)")
    print("\n| threshold | paraphrase hits | near-miss false hits | unrelated false hits |")
    print("|---|---|---|---|")
    chosen = None
    for step in range(70, 99):
        threshold = step / 100

        def rates(table: dict[str, list[float]], threshold: float = threshold) -> dict[str, float]:
            return {
                label: sum(s >= threshold for s in values) / len(values) for label, values in table.items()
            }

        raw, rate = rates(scores), rates(guarded)
        mark = " (default)" if abs(threshold - DEFAULT_THRESHOLD) < 1e-9 else ""
        if chosen is None and rate["near_miss"] <= 0.01:
            chosen = threshold
        print(
            f"| {threshold:.2f}{mark} | {raw['paraphrase']:.1%} / **{rate['paraphrase']:.1%}** | "
            f"{raw['near_miss']:.1%} / **{rate['near_miss']:.1%}** | "
            f"{raw['unrelated']:.1%} / **{rate['unrelated']:.1%}** |"
        )
    print(f"\nlowest threshold with <= 1% near-miss false hits: {chosen}; default {DEFAULT_THRESHOLD}")
    near = [(a, b) for label, a, b in pairs if label == "near_miss"]
    worst = sorted(((s, a, b) for (a, b), s in zip(near, guarded["near_miss"], strict=True)), reverse=True)[
        :4
    ]
    print("closest near-misses past the guard:", "; ".join(f"{s:.3f} {a!r} / {b!r}" for s, a, b in worst))


def percentiles(samples_ns: list[int]) -> str:
    ordered = sorted(samples_ns)
    p50 = ordered[len(ordered) // 2] / 1000
    p99 = ordered[int(len(ordered) * 0.99)] / 1000
    return f"p50 {p50:8.1f} us   p99 {p99:8.1f} us"


def response(i: int) -> ChatResponse:
    text = f"Answer number {i}: " + "lorem ipsum dolor sit amet " * 8
    return ChatResponse(
        f"id-{i}", "gpt-4o", (Choice(0, ResponseMessage(content=text), "stop"),), Usage(20, 60, 80), 0
    )


def request(i: int) -> ChatRequest:
    return ChatRequest.from_body(
        {
            "model": "gpt-4o",
            "temperature": 0.2,
            "messages": [
                {"role": "system", "content": "You are a helpful assistant for ACME support. Be brief."},
                {"role": "user", "content": f"Question {i}: how do I reset the password of my account?"},
            ],
        }
    )


def exact_latency(sizes: list[int], lookups: int) -> None:
    print("\n## Exact lookup (key + MemoryStore.get + decode), hits")
    for size in sizes:
        store = MemoryStore(max_entries=size)
        requests = [request(i) for i in range(size)]
        keys = [
            exact_key(r, provider="openai", host="https://api.openai.com/v1", namespace=None)
            for r in requests
        ]

        async def fill(store: MemoryStore = store, keys: list[str] = keys) -> None:
            for i, key in enumerate(keys):
                await store.set(key, encode_response(response(i)), 3600)

        asyncio.run(fill())
        samples: list[int] = []

        async def measure(
            store: MemoryStore = store, requests: list[ChatRequest] = requests, samples: list[int] = samples
        ) -> None:
            for n in range(lookups):
                req = requests[(n * 7919) % len(requests)]
                start = time.perf_counter_ns()
                key = exact_key(req, provider="openai", host="https://api.openai.com/v1", namespace=None)
                data = await store.get(key)
                assert data is not None
                decode_response(data)
                samples.append(time.perf_counter_ns() - start)

        asyncio.run(measure())
        print(f"  {size:>7,} entries: {percentiles(samples)}")


def semantic_latency(embedder: MiniLMEmbedder, sizes: list[int], lookups: int) -> None:
    print("\n## Semantic lookup (embed question + search scope + get + decode), hits")
    questions = [label_pair[1] for label_pair in load_pairs() if label_pair[0] == "paraphrase"]
    paraphrases = [label_pair[2] for label_pair in load_pairs() if label_pair[0] == "paraphrase"]
    stored = embedder.embed_sync(questions)
    rng = np.random.default_rng(7)

    async def embed_alone() -> list[int]:
        samples: list[int] = []
        for n in range(lookups):
            start = time.perf_counter_ns()
            await embedder.embed([paraphrases[n % len(paraphrases)]])
            samples.append(time.perf_counter_ns() - start)
        return samples

    alone = percentiles(asyncio.run(embed_alone()))
    print(f"  embedding alone (MiniLM int8, 2 threads, via a worker thread): {alone}")
    for size in sizes:
        gc.collect()
        before = rss_bytes()
        noise = rng.standard_normal((size - len(questions), DIM)).astype(np.float32)
        noise /= np.linalg.norm(noise, axis=1, keepdims=True)
        matrix = np.concatenate([noise, stored])
        keys = [f"k{i}" for i in range(size)]
        index = ScopeIndex(DIM, exact_limit=10_000, max_entries=1_000_000)
        build = time.perf_counter()
        sigs = [signature(f"q{i}") for i in range(size - len(questions))] + [signature(q) for q in questions]
        index.add(matrix, keys, sigs, [time.time() + 3600] * size, time.time())
        build_s = time.perf_counter() - build
        del matrix, noise
        gc.collect()
        index_bytes = rss_bytes() - before
        store = MemoryStore(max_entries=size + 1)
        payload = encode_response(response(0))

        async def fill(store: MemoryStore = store, keys: list[str] = keys, payload: bytes = payload) -> None:
            for key in keys[-len(questions) :]:
                await store.set(key, payload, 3600)

        asyncio.run(fill())
        samples: list[int] = []
        hits = 0

        async def measure(
            store: MemoryStore = store, index: ScopeIndex = index, samples: list[int] = samples
        ) -> int:
            found_answers = 0
            for n in range(lookups):
                question = paraphrases[n % len(paraphrases)]
                start = time.perf_counter_ns()
                vector = (await embedder.embed([question]))[0]
                sig = signature(question)
                accept = lambda other, sig=sig: compatible(sig, other)  # noqa: E731
                found = await asyncio.to_thread(
                    index.search, vector, DEFAULT_THRESHOLD, time.time(), accept=accept
                )  # as SemanticCache.search does
                for _score, key in found:
                    data = await store.get(key)
                    if data is not None:
                        decode_response(data)
                        found_answers += 1
                        break
                samples.append(time.perf_counter_ns() - start)
            return found_answers

        hits = asyncio.run(measure())
        kind = "HNSW (faiss)" if index.approximate else "exact numpy"
        print(
            f"  {size:>7,} entries [{kind}, built in {build_s:.1f} s, "
            f"index RSS +{index_bytes / 2**20:.0f} MiB]: "
            f"{percentiles(samples)}   hits {hits}/{lookups}"
        )


def search_only(sizes: list[int], lookups: int) -> None:
    print("\n## Search alone (no embedding): exact numpy vs HNSW, and HNSW recall@1")
    rng = np.random.default_rng(11)
    for size in sizes:
        matrix = rng.standard_normal((size, DIM)).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        exact = ScopeIndex(DIM, exact_limit=10**9, max_entries=10**9)
        approx = ScopeIndex(DIM, exact_limit=1, max_entries=10**9)
        keys = [str(i) for i in range(size)]
        expires = [time.time() + 3600] * size
        exact.add(matrix, keys, keys, expires, time.time())
        approx.add(matrix, keys, keys, expires, time.time())
        queries = matrix[rng.integers(0, size, lookups)] + 0.02 * rng.standard_normal((lookups, DIM)).astype(
            np.float32
        )
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        timings: dict[str, list[int]] = {"exact": [], "hnsw": []}
        agree = 0
        for query in queries:
            results = {}
            for name, index in (("exact", exact), ("hnsw", approx)):
                start = time.perf_counter_ns()
                results[name] = index.search(query, 0.5, time.time(), limit=1)
                timings[name].append(time.perf_counter_ns() - start)
            agree += [k for _, k in results["exact"]] == [k for _, k in results["hnsw"]]
        print(
            f"  {size:>7,}: exact {percentiles(timings['exact'])} | hnsw {percentiles(timings['hnsw'])} | "
            f"recall@1 {agree / lookups:.1%}"
        )


def main(argv: Any = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k only, fewer lookups")
    args = parser.parse_args(argv)
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    lookups = 200 if args.quick else 1_000
    embedder = MiniLMEmbedder()
    embedder.embed_sync(["warm up"])
    quality(embedder)
    exact_latency(sizes, lookups * 10)
    semantic_latency(embedder, sizes, lookups)
    search_only(sizes, lookups)


if __name__ == "__main__":
    main()
