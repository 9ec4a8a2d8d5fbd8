"""The conformance table: configs, upstream scripts, and the decision Portkey's gateway makes.

Each ``expect`` was observed on Portkey OSS 1.15.2 (npm) against the scripted upstream and is
re-checked against the real gateway on every run, so this table doubles as an executable spec of
Portkey's routing (semantics reference, sections 8 and 11). Targets are named ``a``, ``b``, ``c``;
each leaf sends its own key ``sk-<name>``. Statuses in scripts: ``[503, 200]`` means 503 once, then
200 (the last step repeats). Rows with ``ours=`` are deliberate differences: ``why`` says why.

Portkey's backoff is real (1 s before the first retry, 2 s before the second), so retry attempts
stay at 1-2 and the whole table costs ~15 s of Portkey waiting.
"""

from __future__ import annotations

from .harness import ABSENT, Case, Expect, leaf, node

OK, FAIL = [200], [500]

ROUTING = [
    # ------------------------------------------------------------------ leaves and mode single
    Case("leaf-ok", leaf("a"), {"a": OK}, Expect(200, "config", 0, ("a",))),
    Case("leaf-error-passes-through", leaf("a"), {"a": [502]}, Expect(502, "config", 0, ("a",))),
    Case(
        "single-uses-only-targets0",
        node("single", leaf("a"), leaf("b")),
        {"a": OK, "b": OK},
        Expect(200, "config.targets[0]", 0, ("a",)),
    ),
    Case(
        "single-never-falls-back",
        node("single", leaf("a"), leaf("b")),
        {"a": FAIL, "b": OK},
        Expect(500, "config.targets[0]", 0, ("a",)),
    ),
    # ------------------------------------------------------------------ fallback stop rule
    Case(
        "fallback-moves-on-500",
        node("fallback", leaf("a"), leaf("b")),
        {"a": FAIL, "b": OK},
        Expect(200, "config.targets[1]", 0, ("a", "b")),
    ),
    Case(
        "fallback-moves-on-any-non-2xx",
        node("fallback", leaf("a"), leaf("b")),
        {"a": [400], "b": OK},
        Expect(200, "config.targets[1]", 0, ("a", "b")),
    ),
    Case(
        "fallback-stops-at-first-success",
        node("fallback", leaf("a"), leaf("b")),
        {"a": OK, "b": OK},
        Expect(200, "config.targets[0]", 0, ("a",)),
    ),
    Case(
        "fallback-on-status-codes-stops-on-others",
        node("fallback", leaf("a"), leaf("b"), strategy={"on_status_codes": [429]}),
        {"a": FAIL, "b": OK},
        Expect(500, "config.targets[0]", 0, ("a",)),
    ),
    Case(
        "fallback-on-status-codes-moves-on-listed",
        node("fallback", leaf("a"), leaf("b"), strategy={"on_status_codes": [500]}),
        {"a": FAIL, "b": OK},
        Expect(200, "config.targets[1]", 0, ("a", "b")),
    ),
    Case(
        "fallback-all-fail-returns-last",
        node("fallback", leaf("a"), leaf("b")),
        {"a": FAIL, "b": [429]},
        Expect(429, "config.targets[1]", 0, ("a", "b")),
    ),
    # ------------------------------------------------------------------ nesting
    Case(
        "fallback-in-fallback",
        node("fallback", leaf("a"), node("fallback", leaf("b"), leaf("c"))),
        {"a": FAIL, "b": [503], "c": OK},
        Expect(200, "config.targets[1].targets[1]", 0, ("a", "b", "c")),
    ),
    Case(
        "fallback-over-loadbalance-and-fallback",
        node("fallback", node("loadbalance", leaf("a")), node("fallback", leaf("b"), leaf("c"))),
        {"a": FAIL, "b": FAIL, "c": OK},
        Expect(200, "config.targets[1].targets[1]", 0, ("a", "b", "c")),
    ),
    Case(
        "loadbalance-over-fallback",
        node("loadbalance", node("fallback", leaf("a"), leaf("b")), leaf("c", weight=0)),
        {"a": FAIL, "b": OK, "c": OK},
        Expect(200, "config.targets[0].targets[1]", 0, ("a", "b")),
    ),
    Case(
        "loadbalance-never-fails-over",
        node("loadbalance", leaf("a"), leaf("b", weight=0)),
        {"a": FAIL, "b": OK},
        Expect(500, "config.targets[0]", 0, ("a",)),
    ),
    Case(
        "nested-on-status-codes-inner-stops-outer-moves",
        node(
            "fallback",
            node("fallback", leaf("a"), leaf("b"), strategy={"on_status_codes": [500]}),
            leaf("c"),
            strategy={"on_status_codes": [503]},
        ),
        {"a": [503], "b": OK, "c": OK},
        Expect(200, "config.targets[1]", 0, ("a", "c")),
    ),
    Case(
        "single-inside-fallback",
        node("fallback", node("single", leaf("a"), leaf("b")), leaf("c")),
        {"a": FAIL, "b": OK, "c": OK},
        Expect(200, "config.targets[1]", 0, ("a", "c")),
    ),
    # ------------------------------------------------------------------ retry (Portkey waits 1 s, 2 s)
    Case(
        "retry-recovers-after-two-503",
        leaf("a", retry={"attempts": 2}),
        {"a": [503, 503, 200]},
        Expect(200, "config", 2, ("a", "a", "a")),
    ),
    Case(
        "retry-runs-out",
        leaf("a", retry={"attempts": 1, "on_status_codes": [500]}),
        {"a": FAIL},
        Expect(500, "config", -1, ("a", "a")),
    ),
    Case(
        "retry-only-listed-codes",
        leaf("a", retry={"attempts": 2, "on_status_codes": [503]}),
        {"a": FAIL},
        Expect(500, "config", 0, ("a",)),
    ),
    Case(
        "retry-default-codes-skip-400",
        leaf("a", retry={"attempts": 2}),
        {"a": [400, 200]},
        Expect(400, "config", 0, ("a",)),
    ),
    Case(
        "top-retry-runs-in-each-leaf-before-fallback",
        node("fallback", leaf("a"), leaf("b"), retry={"attempts": 1}),
        {"a": FAIL, "b": OK},
        Expect(200, "config.targets[1]", 0, ("a", "a", "b")),
    ),
    Case(
        "child-retry-replaces-parent-retry",
        node(
            "fallback",
            leaf("a", retry={"attempts": 1}),
            leaf("b"),
            retry={"attempts": 1, "on_status_codes": [503]},
        ),
        {"a": FAIL, "b": OK},
        Expect(200, "config.targets[1]", 0, ("a", "a", "b")),
    ),
    Case(
        "retry-count-is-the-serving-leafs",
        node("fallback", leaf("a", retry={"attempts": 1}), leaf("b", retry={"attempts": 1})),
        {"a": FAIL, "b": [503, 200]},
        Expect(200, "config.targets[1]", 1, ("a", "a", "b", "b")),
    ),
    # ------------------------------------------------------------------ override_params inheritance
    Case(
        "override-params-shallow-merge-down-the-tree",
        node(
            "fallback",
            node("loadbalance", leaf("a"), override_params={"temperature": 0.3}),
            leaf("b", override_params={"model": "m-b"}),
            override_params={"model": "m-top", "max_tokens": 7},
        ),
        {"a": FAIL, "b": OK},
        Expect(200, "config.targets[1]", 0, ("a", "b")),
        request={"temperature": 0.9},
        bodies={
            "a": {"model": "m-top", "temperature": 0.3, "max_tokens": 7},
            "b": {"model": "m-b", "temperature": 0.9, "max_tokens": 7},
        },
    ),
    Case(
        "override-params-win-over-the-request",
        leaf("a", override_params={"temperature": 0, "seed": 3}),
        {"a": OK},
        Expect(200, "config", 0, ("a",)),
        request={"temperature": 1, "top_p": 0.5},
        bodies={"a": {"temperature": 0, "seed": 3, "top_p": 0.5, "max_tokens": ABSENT}},
    ),
]
