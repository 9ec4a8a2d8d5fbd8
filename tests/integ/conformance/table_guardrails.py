"""Guardrail rows of the conformance table: Portkey's built-in checks, verdicts and statuses.

Each ``expect`` is what Portkey OSS 1.15.2 decides (re-checked against the real gateway on every
run): 200 when every hook passed, 246 when a hook without ``deny`` failed (the answer is still
served), 446 when a ``deny`` hook failed -- with no upstream call for an input hook. Input checks
read the last user message (``request=``); output checks read the scripted answer (``answer()``).
"""

from __future__ import annotations

from typing import Any

from scripted_upstream import Reply

from .harness import Case, Expect, leaf, node


def says(text: str) -> dict[str, Any]:
    """A request whose last user message is ``text``."""
    return {"messages": [{"role": "user", "content": text}]}


def answer(text: str) -> list[Reply]:
    """An upstream script answering ``text``."""
    body = {
        "id": "chatcmpl-g",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-test",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
    }
    return [Reply(200, body=body)]


def inp(check: str, params: dict[str, Any], **hook: Any) -> dict[str, Any]:
    return {"input_guardrails": [{check: params, **hook}]}


def out(check: str, params: dict[str, Any], **hook: Any) -> dict[str, Any]:
    return {"output_guardrails": [{check: params, **hook}]}


OK = [200]
PASSED, FLAGGED = Expect(200, "config", 0, ("a",)), Expect(246, "config", 0, ("a",))
BLOCKED_BEFORE, BLOCKED_AFTER = Expect(446, "config", 0, ()), Expect(446, "config", 0, ("a",))
NONE_SECRET = {"operator": "none", "words": ["secret"]}

CASES = [
    # ------------------------------------------------------------------ contains
    Case(
        "g-contains-none-deny",
        leaf("a", **inp("default.contains", NONE_SECRET, deny=True)),
        {"a": OK},
        BLOCKED_BEFORE,
        request=says("my secret plan"),
    ),
    Case(
        "g-contains-none-flag",
        leaf("a", **inp("default.contains", NONE_SECRET)),
        {"a": OK},
        FLAGGED,
        request=says("my secret plan"),
    ),
    Case(
        "g-contains-any-pass",
        leaf("a", **inp("contains", {"operator": "any", "words": ["x", "plan"]}, deny=True)),
        {"a": OK},
        PASSED,
        request=says("my plan"),
    ),
    Case(
        "g-contains-all-missing",
        leaf("a", **inp("default.contains", {"operator": "all", "words": ["my", "zz"]}, deny=True)),
        {"a": OK},
        BLOCKED_BEFORE,
        request=says("my plan"),
    ),
    Case(
        "g-contains-output-deny",
        leaf("a", **out("default.contains", NONE_SECRET, deny=True)),
        {"a": answer("the secret is 42")},
        BLOCKED_AFTER,
    ),
    # ------------------------------------------------------------------ regexMatch
    Case(
        "g-regex-match-pass",
        leaf("a", **inp("default.regexMatch", {"rule": "\\d{3}-\\d{4}"}, deny=True)),
        {"a": OK},
        PASSED,
        request=says("call 555-1234"),
    ),
    Case(
        "g-regex-no-match-deny",
        leaf("a", **inp("default.regexMatch", {"rule": "^hello"}, deny=True)),
        {"a": OK},
        BLOCKED_BEFORE,
        request=says("bye"),
    ),
    Case(
        "g-regex-not-flag",
        leaf("a", **inp("default.regexMatch", {"rule": "[0-9]{16}", "not": True})),
        {"a": OK},
        FLAGGED,
        request=says("card 4111111111111111"),
    ),
    # ------------------------------------------------------------------ counts
    Case(
        "g-words-outside-flag",
        leaf("a", **inp("default.wordCount", {"minWords": 1, "maxWords": 3})),
        {"a": OK},
        FLAGGED,
        request=says("one two three four five"),
    ),
    Case(
        "g-words-inside-pass",
        leaf("a", **inp("default.wordCount", {"minWords": 1, "maxWords": 5}, deny=True)),
        {"a": OK},
        PASSED,
        request=says("one two three"),
    ),
    Case(
        "g-sentences-pass",
        leaf("a", **out("default.sentenceCount", {"minSentences": 1, "maxSentences": 2}, deny=True)),
        {"a": answer("One. Two!")},
        PASSED,
    ),
    Case(
        "g-sentences-deny",
        leaf("a", **out("default.sentenceCount", {"minSentences": 1, "maxSentences": 2}, deny=True)),
        {"a": answer("One. Two! Three?")},
        BLOCKED_AFTER,
    ),
    Case(
        "g-chars-deny",
        leaf("a", **inp("default.characterCount", {"minCharacters": 1, "maxCharacters": 5}, deny=True)),
        {"a": OK},
        BLOCKED_BEFORE,
        request=says("too long a prompt"),
    ),
    Case(
        "g-chars-not-pass",
        leaf(
            "a",
            **inp("default.characterCount", {"minCharacters": 1, "maxCharacters": 5, "not": True}, deny=True),
        ),
        {"a": OK},
        PASSED,
        request=says("long enough"),
    ),
    # ------------------------------------------------------------------ JSON
    Case(
        "g-json-schema-pass",
        leaf(
            "a", **out("default.jsonSchema", {"schema": {"type": "object", "required": ["name"]}}, deny=True)
        ),
        {"a": answer('Here: {"name": "Ada"}')},
        PASSED,
    ),
    Case(
        "g-json-schema-deny",
        leaf(
            "a", **out("default.jsonSchema", {"schema": {"type": "object", "required": ["name"]}}, deny=True)
        ),
        {"a": answer('{"age": 3}')},
        BLOCKED_AFTER,
    ),
    Case(
        "g-json-schema-no-json",
        leaf("a", **out("default.jsonSchema", {"schema": {"type": "object"}})),
        {"a": answer("no json here")},
        FLAGGED,
    ),
    Case(
        "g-json-keys-all-pass",
        leaf("a", **out("default.jsonKeys", {"keys": ["a", "b"], "operator": "all"}, deny=True)),
        {"a": answer('```json\n{"a": 1, "b": 2}\n```')},
        PASSED,
    ),
    Case(
        "g-json-keys-missing-flag",
        leaf("a", **out("default.jsonKeys", {"keys": ["a", "b"], "operator": "all"})),
        {"a": answer('{"a": 1}')},
        FLAGGED,
    ),
    Case(
        "g-json-keys-none-pass",
        leaf("a", **out("default.jsonKeys", {"keys": ["password"], "operator": "none"}, deny=True)),
        {"a": answer('{"user": "x"}')},
        PASSED,
    ),
    # ------------------------------------------------------------------ URLs, suffix
    Case(
        "g-urls-none-found-flag",
        leaf("a", **inp("default.validUrls", {})),
        {"a": OK},
        FLAGGED,
        request=says("no links at all"),
    ),
    Case(
        "g-urls-unreachable-flag",
        leaf("a", **inp("default.validUrls", {})),
        {"a": OK},
        FLAGGED,
        request=says("see http://127.0.0.1:9/nothing"),
    ),
    Case(
        "g-ends-with-pass",
        leaf("a", **out("default.endsWith", {"suffix": "Done"}, deny=True)),
        {"a": answer("All finished. Done.")},
        PASSED,
    ),
    Case(
        "g-ends-with-deny",
        leaf("a", **out("default.endsWith", {"suffix": "Done"}, deny=True)),
        {"a": answer("Not finished")},
        BLOCKED_AFTER,
    ),
    # ------------------------------------------------------------------ request facts
    Case(
        "g-model-allowed",
        leaf("a", **inp("default.modelWhitelist", {"models": ["gpt-test"]}, deny=True)),
        {"a": OK},
        PASSED,
    ),
    Case(
        "g-model-refused",
        leaf("a", **inp("default.modelWhitelist", {"models": ["gpt-4o"]}, deny=True)),
        {"a": OK},
        BLOCKED_BEFORE,
    ),
    Case(
        "g-metadata-present",
        leaf(
            "a",
            **inp("default.requiredMetadataKeys", {"metadataKeys": ["user"], "operator": "all"}, deny=True),
        ),
        {"a": OK},
        PASSED,
        metadata={"user": "u1"},
    ),
    Case(
        "g-metadata-missing",
        leaf(
            "a",
            **inp(
                "default.requiredMetadataKeys",
                {"metadataKeys": ["user", "team"], "operator": "all"},
                deny=True,
            ),
        ),
        {"a": OK},
        BLOCKED_BEFORE,
        metadata={"user": "u1"},
    ),
    # ------------------------------------------------------------------ hook semantics
    Case(
        "g-errored-check-passes",
        leaf("a", **inp("default.endsWith", {"suffix": "x"}, deny=True)),
        {"a": OK},
        PASSED,
        request=says(""),
    ),
    Case(
        "g-errored-check-fail-on-error",
        leaf("a", **inp("default.endsWith", {"suffix": "x", "failOnError": True}, deny=True)),
        {"a": OK},
        BLOCKED_BEFORE,
        request=says(""),
    ),
    Case(
        "g-disabled-check-skipped",
        leaf(
            "a",
            before_request_hooks=[
                {
                    "id": "h",
                    "type": "guardrail",
                    "deny": True,
                    "checks": [{"id": "default.contains", "parameters": NONE_SECRET, "is_enabled": False}],
                }
            ],
        ),
        {"a": OK},
        PASSED,
        request=says("a secret"),
    ),
    Case(
        "g-verdict-is-and",
        leaf(
            "a",
            before_request_hooks=[
                {
                    "id": "h",
                    "type": "guardrail",
                    "deny": True,
                    "checks": [
                        {"id": "default.contains", "parameters": {"operator": "any", "words": ["a"]}},
                        {"id": "default.contains", "parameters": NONE_SECRET},
                    ],
                }
            ],
        ),
        {"a": OK},
        BLOCKED_BEFORE,
        request=says("a secret"),
    ),
    Case(
        "g-output-deny-falls-back",
        node("fallback", leaf("a", **out("default.contains", NONE_SECRET, deny=True)), leaf("b")),
        {"a": answer("a secret"), "b": OK},
        Expect(200, "config.targets[1]", 0, ("a", "b")),
    ),
    Case(
        "g-output-deny-retried-446",
        leaf(
            "a",
            retry={"attempts": 1, "on_status_codes": [446]},
            **out("default.contains", NONE_SECRET, deny=True),
        ),
        {"a": answer("a secret")},
        Expect(446, "config", -1, ("a", "a")),
    ),
    Case(
        "g-inherited-input-deny-falls-through",
        node("fallback", leaf("a"), leaf("b"), **inp("default.contains", NONE_SECRET, deny=True)),
        {"a": OK, "b": OK},
        Expect(446, "config.targets[1]", 0, ()),
        request=says("secret"),
    ),
    Case(
        "g-child-hooks-replace-parents",
        node(
            "fallback",
            leaf("a", **inp("default.contains", {"operator": "any", "words": ["secret"]})),
            leaf("b"),
            **inp("default.contains", NONE_SECRET, deny=True),
        ),
        {"a": OK, "b": OK},
        Expect(200, "config.targets[0]", 0, ("a",)),
        request=says("secret"),
    ),
    Case(
        "g-hook-without-type",
        leaf(
            "a",
            before_request_hooks=[
                {"id": "h", "deny": True, "checks": [{"id": "default.contains", "parameters": NONE_SECRET}]}
            ],
        ),
        {"a": OK},
        PASSED,
        request=says("a secret"),
        ours=Expect(None, None, None, (), error="ConfigurationError"),
        why="Portkey runs no check of a hook without 'type' (the hook silently passes); ours refuses the "
        "config at load, naming the hook, so a guardrail is never silently off",
    ),
]
