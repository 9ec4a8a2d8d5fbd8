"""Guardrail hooks through Gateway: deny, 246, async, retry, fallback, inheritance, streaming."""

import asyncio
import json

import httpx
import pytest

from strands_portkey import ConfigurationError, Gateway
from strands_portkey.errors import GuardrailDeniedError
from strands_portkey.guardrails import CheckOutcome, default_registry
from strands_portkey.pipeline.retry import Backoff
from tests.unit.conftest import chunk, completion, sse

BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "tell me a secret"}]}
LEAF = {"provider": "openai", "api_key": "sk-test"}
NO_SECRET = {"default.contains": {"operator": "none", "words": ["secret"]}}


def leaf(**extra: object) -> dict[str, object]:
    return {**LEAF, **extra}


def answering(text: str = "hello"):
    return lambda request: httpx.Response(200, json=completion(text))


async def test_input_deny_blocks_without_calling_the_upstream(upstream) -> None:
    up = upstream(answering())
    gw = Gateway(leaf(input_guardrails=[{**NO_SECRET, "deny": True}]), transport=up.transport)
    with pytest.raises(GuardrailDeniedError) as caught:
        await gw.chat(BODY)
    assert up.requests == []
    error = caught.value
    assert (error.status_code, error.stage, error.code) == (446, "input", "hooks_failed")
    hook = error.hook_results.before_request_hooks[0]
    assert (hook.verdict, hook.deny, hook.checks[0].id) == (False, True, "default.contains")
    assert error.route is not None
    assert error.route.hook_results is error.hook_results


async def test_failed_check_without_deny_returns_the_answer_flagged_246(upstream) -> None:
    up = upstream(answering())
    gw = Gateway(leaf(input_guardrails=[NO_SECRET]), transport=up.transport)
    response = await gw.chat(BODY)
    assert response.text == "hello"
    assert len(up.requests) == 1
    assert response.route is not None
    assert response.route.status_code == 246
    assert response.route.hook_results is not None
    assert response.route.hook_results.to_dict()["before_request_hooks"][0]["verdict"] is False


async def test_passing_hooks_leave_status_200_with_results(upstream) -> None:
    up = upstream(answering("all good"))
    config = leaf(
        before_request_hooks=[
            {
                "id": "h1",
                "type": "guardrail",
                "checks": [{"id": "default.contains", "parameters": {"operator": "any", "words": ["tell"]}}],
            }
        ],
        output_guardrails=[{"default.endsWith": {"suffix": "good"}, "deny": True}],
    )
    response = await Gateway(config, transport=up.transport).chat(BODY)
    assert response.route is not None
    assert response.route.status_code == 200
    results = response.route.hook_results
    assert results is not None
    assert [h.id for h in results.before_request_hooks] == ["h1"]
    assert results.after_request_hooks[0].verdict is True


async def test_errored_check_passes_unless_fail_on_error(upstream) -> None:
    up = upstream(answering())
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "   "}]}
    lenient = leaf(input_guardrails=[{"default.wordCount": {"minWords": 1, "maxWords": 5}, "deny": True}])
    response = await Gateway(lenient, transport=up.transport).chat(body)
    assert response.route is not None
    assert response.route.status_code == 200
    check = response.route.hook_results.before_request_hooks[0].checks[0]  # type: ignore[union-attr]
    assert check.error == "Missing text to analyze"
    assert check.verdict is False
    strict = leaf(
        input_guardrails=[
            {"default.wordCount": {"minWords": 1, "maxWords": 5, "failOnError": True}, "deny": True}
        ]
    )
    with pytest.raises(GuardrailDeniedError):
        await Gateway(strict, transport=up.transport).chat(body)


async def test_hook_verdict_is_the_and_of_enabled_checks(upstream) -> None:
    up = upstream(answering())
    hook = {
        "id": "both",
        "type": "guardrail",
        "deny": True,
        "checks": [
            {"id": "default.contains", "parameters": {"operator": "any", "words": ["secret"]}},
            {
                "id": "default.contains",
                "parameters": {"operator": "none", "words": ["secret"]},
                "is_enabled": False,
            },
        ],
    }
    response = await Gateway(leaf(before_request_hooks=[hook]), transport=up.transport).chat(BODY)
    assert response.route is not None
    assert response.route.status_code == 200
    hook["checks"][1]["is_enabled"] = True  # type: ignore[index]
    with pytest.raises(GuardrailDeniedError):
        await Gateway(leaf(before_request_hooks=[hook]), transport=up.transport).chat(BODY)


async def test_output_deny_falls_back_to_the_next_target(upstream) -> None:
    up = upstream(lambda r: httpx.Response(200, json=completion("bad answer")))
    config = {
        "strategy": {"mode": "fallback"},
        "targets": [
            leaf(
                output_guardrails=[{"default.contains": {"operator": "none", "words": ["bad"]}, "deny": True}]
            ),
            leaf(api_key="sk-second"),
        ],
    }
    response = await Gateway(config, transport=up.transport).chat(BODY)
    assert len(up.requests) == 2
    assert response.route is not None
    assert response.route.last_used_option_index == "config.targets[1]"


async def test_output_deny_is_retried_at_once_when_446_is_listed(upstream) -> None:
    up = upstream(lambda r: httpx.Response(200, json=completion("bad")))
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    config = leaf(
        retry={"attempts": 2, "on_status_codes": [446]},
        output_guardrails=[{"default.contains": {"operator": "none", "words": ["bad"]}, "deny": True}],
    )
    gw = Gateway(config, transport=up.transport, sleep=sleep, backoff=Backoff(jitter=0))
    with pytest.raises(GuardrailDeniedError) as caught:
        await gw.chat(BODY)
    assert len(up.requests) == 3
    assert waits == [0.0, 0.0]
    assert caught.value.route is not None
    assert caught.value.route.retry_attempt_count == -1


async def test_output_deny_is_not_retried_with_default_codes(upstream) -> None:
    up = upstream(lambda r: httpx.Response(200, json=completion("bad")))
    config = leaf(
        retry={"attempts": 2},
        output_guardrails=[{"default.contains": {"operator": "none", "words": ["bad"]}, "deny": True}],
    )
    with pytest.raises(GuardrailDeniedError):
        await Gateway(config, transport=up.transport).chat(BODY)
    assert len(up.requests) == 1


async def test_child_hooks_replace_the_parents_and_others_inherit(upstream) -> None:
    up = upstream(answering())
    config = {
        "strategy": {"mode": "fallback"},
        "input_guardrails": [{**NO_SECRET, "deny": True}],
        "targets": [
            leaf(input_guardrails=[{"default.contains": {"operator": "any", "words": ["tell"]}}]),
            leaf(),
        ],
    }
    gw = Gateway(config, transport=up.transport)
    response = await gw.chat(BODY)  # targets[0]'s own hook replaces the parent's deny hook
    assert response.route is not None
    assert response.route.last_used_option_index == "config.targets[0]"
    plan_leaves = [gw._plan.targets[i] for i in (0, 1)]  # type: ignore[union-attr]
    assert [h.checks[0].parameters["operator"] for h in plan_leaves[0].before_hooks] == ["any"]
    assert [h.checks[0].parameters["operator"] for h in plan_leaves[1].before_hooks] == ["none"]


async def test_async_hook_does_not_delay_or_deny(upstream) -> None:
    up = upstream(answering())
    release = asyncio.Event()
    registry = default_registry()

    async def slow(context, params):
        await release.wait()
        return CheckOutcome(False)

    registry.register("acme.slow", slow)
    config = leaf(
        before_request_hooks=[
            {"id": "bg", "type": "guardrail", "async": True, "deny": True, "checks": [{"id": "acme.slow"}]}
        ]
    )
    response = await Gateway(config, transport=up.transport, checks=registry).chat(BODY)
    assert response.text == "hello"
    assert response.route is not None
    assert response.route.status_code == 200
    assert response.route.hook_results is not None
    assert response.route.hook_results.before_request_hooks == []
    release.set()
    for _ in range(5):
        await asyncio.sleep(0)
    [done] = response.route.hook_results.before_request_hooks
    assert (done.id, done.verdict, done.deny, done.is_async) == ("bg", False, False, True)


async def test_sequential_checks_see_earlier_rewrites(upstream) -> None:
    up = upstream(answering())
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "mail me at a.b@example.com"}]}
    hook = {
        "id": "redact-then-check",
        "type": "guardrail",
        "sequential": True,
        "deny": True,
        "checks": [
            {"id": "default.detectPII", "parameters": {"redact": True, "categories": ["email"]}},
            {"id": "default.regexMatch", "parameters": {"rule": "@", "not": True}},
        ],
    }
    # detectPII fails (it found PII) -> the hook denies; the second check saw the redacted text
    with pytest.raises(GuardrailDeniedError) as caught:
        await Gateway(leaf(before_request_hooks=[hook]), transport=up.transport).chat(body)
    checks = caught.value.hook_results.before_request_hooks[0].checks
    assert [c.verdict for c in checks] == [False, True]


async def test_input_mutator_redacts_before_the_upstream_sees_it(upstream) -> None:
    up = upstream(answering())
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "card 4111 1111 1111 1111 thanks"}]}
    config = leaf(input_mutators=[{"default.detectPII": {"categories": ["credit_card"]}}])
    await Gateway(config, transport=up.transport).chat(body)
    assert up.body()["messages"][-1]["content"] == "card [REDACTED_CREDIT_CARD] thanks"


async def test_output_mutator_redacts_the_answer(upstream) -> None:
    up = upstream(answering("write to jane@example.org"))
    config = leaf(output_mutators=[{"default.detectPII": {}}])
    response = await Gateway(config, transport=up.transport).chat(BODY)
    assert response.text == "write to [REDACTED_EMAIL]"


@pytest.mark.parametrize(
    ("hooks", "message"),
    [
        ({"input_guardrails": [{"default.nope": {}}]}, "unknown check id"),
        ({"input_guardrails": [{"default.regexMatch": {"rule": "("}}]}, "not a valid regular expression"),
        (
            {"input_guardrails": [{"default.wordCount": {"minWords": "1", "maxWords": 3}}]},
            "must be an integer",
        ),
        (
            {"output_guardrails": [{"default.jsonSchema": {"schema": {"type": 12}}}]},
            "not a valid JSON Schema",
        ),
        ({"input_guardrails": ["pg-saved-guardrail"]}, "hosted app"),
        ({"before_request_hooks": [{"id": "x", "type": "guardrail", "checks": []}]}, "non-empty 'checks'"),
        ({"input_guardrails": [{"default.contains": {"words": ["a"], "operator": "some"}}]}, "operator"),
    ],
)
def test_bad_hooks_are_rejected_at_load_naming_hook_and_check(hooks, message) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Gateway(leaf(**hooks))
    assert message in str(caught.value)
    assert "config." in str(caught.value)


async def test_stream_output_deny_is_raised_before_the_finish(upstream) -> None:
    body = sse(chunk("this is "), chunk("bad"), chunk(finish="stop"))
    up = upstream(lambda r: httpx.Response(200, content=body, headers={"content-type": "text/event-stream"}))
    config = leaf(
        output_guardrails=[{"default.contains": {"operator": "none", "words": ["bad"]}, "deny": True}]
    )
    seen: list[str] = []
    finishes: list[str] = []

    async def consume() -> None:
        async with Gateway(config, transport=up.transport).stream(BODY) as stream:
            async for piece in stream:
                seen.extend(c.delta.content or "" for c in piece.choices)
                finishes.extend(c.finish_reason for c in piece.choices if c.finish_reason)

    with pytest.raises(GuardrailDeniedError) as caught:
        await consume()
    assert "".join(seen) == "this is bad"
    assert finishes == []
    assert caught.value.stage == "output"
    route = caught.value.route
    assert route is not None
    assert route.status_code == 446  # the answer was denied, not served
    assert [a.status_code for a in route.attempts] == [200]  # the upstream itself answered well


async def test_a_chat_answer_denied_by_an_output_hook_leaves_a_446_route(upstream) -> None:
    up = upstream(answering("this is bad"))
    config = leaf(
        output_guardrails=[{"default.contains": {"operator": "none", "words": ["bad"]}, "deny": True}]
    )
    with pytest.raises(GuardrailDeniedError) as caught:
        await Gateway(config, transport=up.transport).chat(BODY)
    route = caught.value.route
    assert route is not None
    assert route.status_code == caught.value.status_code == 446
    assert [(a.status_code, a.error_type) for a in route.attempts] == [(200, None)]


async def test_stream_redaction_never_splits_a_match(upstream) -> None:
    text = "pay with 4111 1111 " + "1111 1111 please" + " and more text" * 10
    pieces = [text[i : i + 5] for i in range(0, len(text), 5)]
    body = sse(*[chunk(p) for p in pieces], chunk(finish="stop"))
    up = upstream(lambda r: httpx.Response(200, content=body, headers={"content-type": "text/event-stream"}))
    config = leaf(output_mutators=[{"default.detectPII": {"categories": ["credit_card"]}}])
    out: list[str] = []
    async for piece in Gateway(config, transport=up.transport).stream(BODY):
        out.extend(c.delta.content or "" for c in piece.choices)
    assert "".join(out) == text.replace("4111 1111 1111 1111", "[REDACTED_CREDIT_CARD]")


async def test_webhook_verdict_and_timeout_follow_fail_on_error(upstream) -> None:
    calls: list[dict[str, object]] = []

    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.host == "hooks.example":
            calls.append(json.loads(request.content))
            if request.url.path == "/slow":
                raise httpx.ReadTimeout("slow", request=request)
            return httpx.Response(200, json={"verdict": False})
        return httpx.Response(200, json=completion())

    up = upstream(respond)
    denying = leaf(
        input_guardrails=[{"default.webhook": {"webhookURL": "https://hooks.example/v"}, "deny": True}]
    )
    with pytest.raises(GuardrailDeniedError):
        await Gateway(denying, transport=up.transport).chat(BODY)
    assert calls[0]["eventType"] == "beforeRequestHook"
    slow = {"webhookURL": "https://hooks.example/slow", "timeout": 50}
    lenient = leaf(input_guardrails=[{"default.webhook": slow, "deny": True}])
    response = await Gateway(lenient, transport=up.transport).chat(BODY)
    assert response.text == "hello"
    strict = leaf(input_guardrails=[{"default.webhook": {**slow, "failOnError": True}, "deny": True}])
    with pytest.raises(GuardrailDeniedError):
        await Gateway(strict, transport=up.transport).chat(BODY)


async def test_user_check_from_the_registry(upstream) -> None:
    up = upstream(answering())
    registry = default_registry()
    registry.register("acme.short", lambda context, params: len(context.text) <= params["max"])
    config = leaf(input_guardrails=[{"acme.short": {"max": 5}, "deny": True}])
    with pytest.raises(GuardrailDeniedError):
        await Gateway(config, transport=up.transport, checks=registry).chat(BODY)
    with pytest.raises(ConfigurationError):
        Gateway(config, transport=up.transport)  # not in the default registry


async def test_webhook_secrets_never_reach_results_errors_or_reprs(upstream) -> None:
    canary = "canary-9f8e7d6c5b4a"

    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.host == "hooks.example":
            assert request.headers["authorization"] == f"Bearer {canary}"
            raise httpx.ConnectError(f"refused {canary}", request=request)
        return httpx.Response(200, json=completion())

    hook = {
        "default.webhook": {
            "webhookURL": f"https://hooks.example/{canary}?token={canary}",
            "headers": {"Authorization": f"Bearer {canary}"},
            "failOnError": True,
        },
        "deny": True,
    }
    gw = Gateway(leaf(input_guardrails=[hook]), transport=upstream(respond).transport)
    with pytest.raises(GuardrailDeniedError) as caught:
        await gw.chat(BODY)
    outputs = [
        str(caught.value),
        repr(caught.value),
        json.dumps(caught.value.hook_results.to_dict()),
        repr(caught.value.route),
        repr(gw),
    ]
    assert not [text for text in outputs if canary in text]
