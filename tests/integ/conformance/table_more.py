"""The conformance table, continued: conditional routing, timeouts, streaming, network failures,
and the rows where this project deliberately differs from Portkey OSS 1.15.2.

See table.py for the conventions.
"""

from __future__ import annotations

from typing import Any

from scripted_upstream import drop, fail, ok, slow

from .harness import ANY_TRACE, LATE_S, TIMEOUT_MS, Case, Expect, leaf, node, refused_leaf

OK, FAIL = [200], [500]


def conditional(
    *conditions: dict[str, Any], default: str | None, targets: list[dict[str, Any]]
) -> dict[str, Any]:
    strategy: dict[str, Any] = {"conditions": list(conditions)}
    if default is not None:
        strategy["default"] = default
    return node("conditional", *targets, strategy=strategy)


TIERS = [leaf("a", name="basic"), leaf("b", name="premium")]
GOLD = {"query": {"metadata.tier": {"$eq": "gold"}}, "then": "premium"}

CONDITIONAL = [
    Case(
        "conditional-metadata-match",
        conditional(GOLD, default="basic", targets=TIERS),
        {"a": OK, "b": OK},
        Expect(200, "config.targets[1]", 0, ("b",)),
        metadata={"tier": "gold"},
    ),
    Case(
        "conditional-metadata-default",
        conditional(GOLD, default="basic", targets=TIERS),
        {"a": OK, "b": OK},
        Expect(200, "config.targets[0]", 0, ("a",)),
        metadata={"tier": "free"},
    ),
    Case(
        "conditional-or-regex-in",
        conditional(
            {
                "query": {
                    "$or": [
                        {"metadata.user": {"$regex": "^vip-"}},
                        {"metadata.tier": {"$in": ["gold", "plat"]}},
                    ]
                },
                "then": "premium",
            },
            default="basic",
            targets=TIERS,
        ),
        {"a": OK, "b": OK},
        Expect(200, "config.targets[1]", 0, ("b",)),
        metadata={"user": "vip-42", "tier": "free"},
    ),
    Case(
        "conditional-params-gte",
        conditional(
            {"query": {"params.temperature": {"$gte": 0.5}}, "then": "creative"},
            {"query": {"params.model": {"$in": ["gpt-small"]}}, "then": "small"},
            default="basic",
            targets=[leaf("a", name="basic"), leaf("b", name="creative"), leaf("c", name="small")],
        ),
        {"a": OK, "b": OK, "c": OK},
        Expect(200, "config.targets[1]", 0, ("b",)),
        request={"temperature": 0.7},
    ),
    Case(
        "conditional-params-second-condition",
        conditional(
            {"query": {"params.temperature": {"$gte": 0.5}}, "then": "creative"},
            {"query": {"params.model": {"$in": ["gpt-small"]}}, "then": "small"},
            default="basic",
            targets=[leaf("a", name="basic"), leaf("b", name="creative"), leaf("c", name="small")],
        ),
        {"a": OK, "b": OK, "c": OK},
        Expect(200, "config.targets[2]", 0, ("c",)),
        request={"temperature": 0.2, "model": "gpt-small"},
    ),
    Case(
        "conditional-ne-on-missing-key-is-true",
        conditional(
            {"query": {"metadata.region": {"$ne": "eu"}}, "then": "premium"}, default="basic", targets=TIERS
        ),
        {"a": OK, "b": OK},
        Expect(200, "config.targets[1]", 0, ("b",)),
        metadata={"tier": "free"},
    ),
    Case(
        "conditional-no-match-no-default-is-400",
        conditional(GOLD, default=None, targets=TIERS),
        {"a": OK, "b": OK},
        Expect(400, None, None, ()),
        ours_error="InvalidRequestError",
        metadata={"tier": "free"},
    ),
    Case(
        "conditional-inside-fallback",
        node("fallback", conditional(GOLD, default="basic", targets=TIERS), leaf("c")),
        {"a": OK, "b": FAIL, "c": OK},
        Expect(200, "config.targets[1]", 0, ("b", "c")),
        metadata={"tier": "gold"},
    ),
]

TIMEOUTS_AND_STREAMS = [
    Case(
        "timeout-inherited-then-fallback",
        node("fallback", leaf("a"), leaf("b"), request_timeout=TIMEOUT_MS),
        {"a": [slow(LATE_S)], "b": OK},
        Expect(200, "config.targets[1]", 0, ("a", "b")),
    ),
    Case(
        "timeout-alone-is-408",
        leaf("a", request_timeout=TIMEOUT_MS),
        {"a": [slow(LATE_S)]},
        Expect(408, "config", 0, ("a",)),
        ours_error="RequestTimeoutError",
    ),
    Case(
        "timeout-retried-when-408-listed",
        leaf("a", request_timeout=TIMEOUT_MS, retry={"attempts": 1, "on_status_codes": [408]}),
        {"a": [slow(LATE_S), ok()]},
        Expect(200, "config", 1, ("a", "a")),
    ),
    Case(
        "stream-ok",
        leaf("a"),
        {"a": OK},
        Expect(200, "config", 0, ("a",), stream_complete=True),
        stream=True,
    ),
    Case(
        "stream-fallback-before-first-chunk",
        node("fallback", leaf("a"), leaf("b")),
        {"a": FAIL, "b": OK},
        Expect(200, "config.targets[1]", 0, ("a", "b"), stream_complete=True),
        stream=True,
    ),
    Case(
        "stream-retry-before-first-chunk",
        leaf("a", retry={"attempts": 1}),
        {"a": [503, 200]},
        Expect(200, "config", 1, ("a", "a"), stream_complete=True),
        stream=True,
    ),
    Case(
        "stream-dropped-mid-answer",
        node("fallback", leaf("a"), leaf("b")),
        {"a": [drop(after=2)], "b": OK},
        Expect(200, "config.targets[0]", 0, ("a",), stream_complete=False),
        ours=Expect(
            502, "config.targets[0]", 0, ("a",), stream_complete=False, error="StreamInterruptedError"
        ),
        why="Portkey ends a cut stream as a clean, truncated 200 (#1797); ours raises StreamInterruptedError "
        "and, the first chunk being out, neither retries nor falls back",
        stream=True,
    ),
    # ------------------------------------------------------------------ network failures
    Case(
        "connection-refused-then-fallback",
        node("fallback", refused_leaf(), leaf("b")),
        {"b": OK},
        Expect(200, "config.targets[1]", 0, ("b",)),
    ),
    Case(
        "connection-refused-alone-is-500",
        refused_leaf(),
        {},
        Expect(500, "config", 0, ()),
        ours_error="UpstreamConnectionError",
    ),
]

DELIBERATE = [
    Case(
        "retry-after-headers-plural",
        leaf("a", retry={"attempts": 2, "use_retry_after_headers": True}),
        {"a": [fail(429, retry_after="1"), fail(429, retry_after_ms="250", retry_after="9"), ok()]},
        Expect(200, "config", 2, ("a", "a", "a")),
        ours=Expect(200, "config", 2, ("a", "a", "a"), sleeps=(1.0, 0.25)),
        why="Portkey ignores the plural flag (default 1 s, 2 s backoff); ours honours it: retry-after-ms "
        "first, then retry-after. Same calls, same count",
    ),
    Case(
        "retry-after-header-singular",
        leaf("a", retry={"attempts": 2, "use_retry_after_header": True}),
        {"a": [fail(429, retry_after="1"), fail(429, retry_after_ms="250"), ok()]},
        None,
        ours=Expect(200, "config", 2, ("a", "a", "a"), sleeps=(1.0, 0.25)),
        why="the npm build crashes on a 429 with this flag (missing async-retry patch); not run on Portkey",
    ),
    Case(
        "status-529-retried-by-default",
        leaf("a", retry={"attempts": 1}),
        {"a": [529, 200]},
        Expect(529, "config", 0, ("a",)),
        ours=Expect(200, "config", 1, ("a", "a")),
        why="newer hosted docs add 529 (overloaded) to the default retry codes; OSS 1.15.2 lacks it",
    ),
    Case(
        "loadbalance-all-weights-zero",
        node("loadbalance", leaf("a", weight=0), leaf("b", weight=0)),
        {"a": OK, "b": OK},
        Expect(500, None, None, ()),
        ours=Expect(None, None, None, (), error="ConfigurationError"),
        why="Portkey crashes with 500 at request time; ours rejects the config at construction with its path",
    ),
    Case(
        "conditional-then-names-no-target",
        conditional({"query": {"metadata.tier": "gold"}, "then": "nope"}, default="basic", targets=TIERS),
        {"a": OK, "b": OK},
        Expect(400, None, None, ()),
        ours=Expect(None, None, None, (), error="ConfigurationError"),
        why="Portkey answers 400 at request time; ours rejects the config at construction",
        metadata={"tier": "gold"},
    ),
    Case(
        "conditional-unknown-operator",
        conditional(
            {"query": {"metadata.tier": {"$exists": True}}, "then": "premium"}, default="basic", targets=TIERS
        ),
        {"a": OK, "b": OK},
        Expect(400, None, None, ()),
        ours=Expect(None, None, None, (), error="ConfigurationError"),
        why="Portkey answers 400 at request time; ours rejects the config at construction",
        metadata={"tier": "gold"},
    ),
    Case(
        "trace-id-absent",
        leaf("a"),
        {"a": OK},
        Expect(200, "config", 0, ("a",), trace_id=""),
        ours=Expect(200, "config", 0, ("a",), trace_id=ANY_TRACE),
        why="Portkey echoes an empty trace id; ours generates one (hosted behaviour)",
        send_trace=False,
    ),
]

CASES = [*CONDITIONAL, *TIMEOUTS_AND_STREAMS, *DELIBERATE]
