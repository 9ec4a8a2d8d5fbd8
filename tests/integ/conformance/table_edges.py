"""The conformance table, edges: query-language corners, timeouts against retry codes, network
retries, ignored strategy fields, the response cache (absent from the npm build), and the rows
where this project deliberately differs (README, "Where this differs from Portkey's open-source
gateway"). ``repeat`` rows send the same successful request twice through one gateway.

See table.py for the conventions.
"""

from __future__ import annotations

from typing import Any

from scripted_upstream import fail, late_stream, slow

from .harness import LATE_S, TIMEOUT_MS, Case, Expect, leaf, node, refused_leaf

OK = [200]
ALL_OK = {"a": OK, "b": OK, "c": OK}


def routed(query: dict[str, Any], *, default: str = "basic") -> dict[str, Any]:
    """A conditional: ``query`` picks ``premium`` (b), else ``default`` (``basic``, a)."""
    strategy = {"conditions": [{"query": query, "then": "premium"}], "default": default}
    return node("conditional", leaf("a", name="basic"), leaf("b", name="premium"), strategy=strategy)


QUERY_EDGES = [
    Case(
        "conditional-url-pathname",
        routed({"url.pathname": {"$regex": "chat/completions$"}}),
        ALL_OK,
        Expect(200, "config.targets[1]", 0, ("b",)),
    ),
    Case(
        "conditional-params-on-a-stream",
        routed({"params.temperature": {"$lt": 0.5}}),
        ALL_OK,
        Expect(200, "config.targets[1]", 0, ("b",), stream_complete=True),
        request={"temperature": 0.1},
        stream=True,
    ),
    Case(
        "conditional-gt-on-a-numeric-metadata-string",
        routed({"metadata.level": {"$gt": 5}}),
        ALL_OK,
        Expect(200, "config.targets[1]", 0, ("b",)),
        metadata={"level": "10"},
    ),
    Case(
        "conditional-nin-on-missing-key-is-true",
        routed({"metadata.region": {"$nin": ["eu"]}}),
        ALL_OK,
        Expect(200, "config.targets[1]", 0, ("b",)),
        metadata={"tier": "free"},
    ),
    Case(
        "conditional-then-names-a-group",
        node(
            "conditional",
            leaf("a", name="basic"),
            node("fallback", leaf("b"), leaf("c"), name="group"),
            strategy={
                "conditions": [{"query": {"metadata.tier": "gold"}, "then": "group"}],
                "default": "basic",
            },
        ),
        {"a": OK, "b": [500], "c": OK},
        Expect(200, "config.targets[1].targets[1]", 0, ("b", "c")),
        metadata={"tier": "gold"},
    ),
    # ------------------------------------------------------------------ deliberate: the query language
    Case(
        "conditional-or-does-not-short-circuit-siblings",
        routed({"$or": [{"metadata.user": "vip"}], "metadata.tier": "gold"}),
        ALL_OK,
        Expect(200, "config.targets[1]", 0, ("b",)),
        ours=Expect(200, "config.targets[0]", 0, ("a",)),
        why="Portkey returns the $or result for the whole query and skips its sibling keys (quirk); "
        "ours requires every key to match, so tier=free fails the query",
        metadata={"user": "vip", "tier": "free"},
    ),
    Case(
        "conditional-regex-does-not-short-circuit-operators",
        routed({"metadata.user": {"$regex": "^vip", "$ne": "vip-banned"}}),
        ALL_OK,
        Expect(200, "config.targets[1]", 0, ("b",)),
        ours=Expect(200, "config.targets[0]", 0, ("a",)),
        why="Portkey returns after $regex and ignores the operators after it (quirk); ours checks $ne too",
        metadata={"user": "vip-banned"},
    ),
    Case(
        "conditional-deep-path-truncated-by-portkey",
        routed({"metadata.a.b": "x"}),
        ALL_OK,
        Expect(200, "config.targets[1]", 0, ("b",)),
        ours=Expect(200, "config.targets[0]", 0, ("a",)),
        why="Portkey reads only two path segments, so metadata.a.b reads metadata.a ('x'); ours follows the "
        "whole path, and metadata.a has no key b",
        metadata={"a": "x"},
    ),
    Case(
        "conditional-deep-path-into-params",
        routed({"params.response_format.type": "json_object"}),
        ALL_OK,
        Expect(200, "config.targets[0]", 0, ("a",)),
        ours=Expect(200, "config.targets[1]", 0, ("b",)),
        why="ours follows paths to any depth; Portkey compares the whole response_format object to a string",
        request={"response_format": {"type": "json_object"}},
    ),
    Case(
        "conditional-plain-number-matches-metadata-string",
        routed({"metadata.level": 10}),
        ALL_OK,
        Expect(200, "config.targets[0]", 0, ("a",)),
        ours=Expect(200, "config.targets[1]", 0, ("b",)),
        why="Portkey compares strictly ('10' !== 10); ours treats metadata values as the strings they are "
        "on the wire, so a plain number matches its text",
        metadata={"level": "10"},
    ),
]

RETRY_EDGES = [
    Case(
        "timeout-is-not-a-default-retry-code",
        leaf("a", request_timeout=TIMEOUT_MS, retry={"attempts": 1}),
        {"a": [slow(LATE_S), OK[0]]},
        Expect(408, "config", 0, ("a",)),
        ours_error="RequestTimeoutError",
    ),
    Case(
        "connection-refused-is-retried-then-runs-out",
        refused_leaf(retry={"attempts": 1}),
        {},
        Expect(500, "config", -1, ()),
        ours_error="UpstreamConnectionError",
    ),
    Case(
        "retry-attempts-zero-ignores-its-codes",
        leaf("a", retry={"attempts": 0, "on_status_codes": [500]}),
        {"a": [500, 200]},
        Expect(500, "config", 0, ("a",)),
    ),
    Case(
        "loadbalance-ignores-on-status-codes",
        node("loadbalance", leaf("a"), leaf("b", weight=0), strategy={"on_status_codes": [500]}),
        {"a": [500], "b": OK},
        Expect(500, "config.targets[0]", 0, ("a",)),
    ),
    Case(
        "retry-then-fallback-on-the-same-code",
        node(
            "fallback",
            leaf("a", retry={"attempts": 1, "on_status_codes": [429]}),
            leaf("b"),
            strategy={"on_status_codes": [429]},
        ),
        {"a": [429], "b": OK},
        Expect(200, "config.targets[1]", 0, ("a", "a", "b")),
    ),
    # ------------------------------------------------------------------ deliberate: waits and timeouts
    Case(
        "retry-after-no-wait-after-the-last-attempt",
        leaf("a", retry={"attempts": 2, "use_retry_after_headers": True}),
        {"a": [fail(429, retry_after="1")]},
        Expect(429, "config", -1, ("a", "a", "a")),
        ours=Expect(429, "config", -1, ("a", "a", "a"), error="RateLimitError", sleeps=(1.0, 1.0)),
        why="Portkey ignores the plural flag (and with the singular one, waits again after the last "
        "attempt); ours waits Retry-After between attempts only. Same calls and count",
    ),
    Case(
        "stream-timeout-bounds-the-first-chunk",
        node("fallback", leaf("a"), leaf("b"), request_timeout=TIMEOUT_MS),
        {"a": [late_stream(LATE_S)], "b": OK},
        Expect(200, "config.targets[0]", 0, ("a",), stream_complete=True),
        ours=Expect(200, "config.targets[1]", 0, ("a", "b"), stream_complete=True),
        why="Portkey's request_timeout stops at the response headers, so a stream whose first chunk is late "
        "is served; ours bounds the time to the first chunk, times out a and falls back to b",
        stream=True,
    ),
]

CACHE = [
    Case(
        "no-cache-config-is-disabled",
        leaf("a"),
        {"a": OK},
        Expect(200, "config", 0, ("a", "a"), cache_status="DISABLED"),
        repeat=2,
    ),
    Case(
        "cache-simple-second-request",
        leaf("a", cache={"mode": "simple", "max_age": 60}),
        {"a": OK},
        Expect(200, "config", 0, ("a", "a"), cache_status="DISABLED"),
        ours=Expect(200, "config", 0, ("a",), cache_status="HIT"),
        why="the npm build has no response cache (always DISABLED); ours answers the repeat from its exact "
        "cache, max_age in seconds",
        repeat=2,
    ),
    Case(
        "cache-never-stores-failures",
        node("fallback", leaf("a"), leaf("b"), cache={"mode": "simple"}),
        {"a": [500], "b": OK},
        Expect(200, "config.targets[1]", 0, ("a", "b", "a", "b"), cache_status="DISABLED"),
        ours=Expect(200, "config.targets[1]", 0, ("a", "b", "a"), cache_status="HIT"),
        why="no cache in the npm build; ours caches per leaf, never a failure: a is asked again, b's answer "
        "comes from the cache",
        repeat=2,
    ),
    Case(
        "cache-replays-a-stream",
        leaf("a", cache={"mode": "simple"}),
        {"a": OK},
        Expect(200, "config", 0, ("a", "a"), stream_complete=True, cache_status="DISABLED"),
        ours=Expect(200, "config", 0, ("a",), stream_complete=True, cache_status="HIT"),
        why="no cache in the npm build; ours replays the cached answer as a complete stream",
        stream=True,
        repeat=2,
    ),
]

CASES = [*QUERY_EDGES, *RETRY_EDGES, *CACHE]
