"""Forwarded headers: which caller headers a leaf picks, and how they join the provider request."""

from __future__ import annotations

import httpx

from strands_portkey import Gateway
from strands_portkey.forwarding import ForwardHeaders, never_forwarded, with_forwarded
from strands_portkey.wire import HttpRequest
from tests.unit.conftest import completion

CALLER = {
    "X-Tenant": "acme",
    "x-user": "u-1",
    "Authorization": "Bearer gateway-key",
    "x-api-key": "gateway-key",
    "x-portkey-config": "{}",
    "transfer-encoding": "chunked",
}


def test_refused_headers_are_dropped_on_the_way_in() -> None:
    forward = ForwardHeaders.of(CALLER, ["X-Tenant", " x-user ", ""])
    assert forward.headers == {"x-tenant": "acme", "x-user": "u-1"}
    assert forward.names == ("x-tenant", "x-user")
    assert "gateway-key" not in repr(forward)


def test_pick_merges_the_request_names_with_the_targets_and_skips_missing_or_refused() -> None:
    forward = ForwardHeaders.of(CALLER, ["x-tenant"])
    assert forward.pick() == {"x-tenant": "acme"}
    assert forward.pick(["X-User", "x-absent", "authorization"]) == {"x-tenant": "acme", "x-user": "u-1"}
    unfiltered = ForwardHeaders({"authorization": "Bearer k"}, ("authorization",))
    assert unfiltered.pick() == {}  # refused even when built by hand


def test_never_forwarded() -> None:
    assert never_forwarded("authorization")
    assert never_forwarded("x-portkey-anything")
    assert never_forwarded("connection")
    assert never_forwarded("content-length")
    assert not never_forwarded("x-tenant")
    assert not never_forwarded("anthropic-beta")


def test_forwarded_headers_replace_the_adapters_except_a_credential() -> None:
    request = HttpRequest(
        "POST",
        "https://example.test/v1/chat/completions",
        {"Api-Key": "secret-123", "OpenAI-Organization": "org-a", "content-type": "application/json"},
        secrets=("secret-123",),
    )
    sent = with_forwarded(request, {"api-key": "caller", "openai-organization": "org-b", "x-tenant": "t"})
    assert sent.headers == {
        "Api-Key": "secret-123",
        "content-type": "application/json",
        "openai-organization": "org-b",
        "x-tenant": "t",
    }
    assert with_forwarded(request, {}) is request


async def test_gateway_forwards_a_targets_forward_headers_on_every_attempt(upstream) -> None:
    calls = 0

    def respond(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(503 if calls == 1 else 200, json=completion("ok"))

    up = upstream(respond)
    config = {
        "strategy": {"mode": "fallback"},
        "targets": [
            {"provider": "openai", "api_key": "sk-a", "forward_headers": ["x-tenant"]},
            {"provider": "openai", "api_key": "sk-b"},
        ],
    }
    gateway = Gateway(config, transport=up.transport, env={})
    forward = ForwardHeaders.of(CALLER, ["x-user"])
    answer = await gateway.chat(
        {"model": "m", "messages": [{"role": "user", "content": "hi"}]}, forward=forward
    )
    assert answer.message.content == "ok"
    first, second = up.requests
    assert (first.headers["x-tenant"], first.headers["x-user"]) == ("acme", "u-1")
    assert "x-tenant" not in second.headers  # the second target forwards only the request's names
    assert second.headers["x-user"] == "u-1"
    plain = await gateway.chat({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    assert plain.message.content == "ok"
    assert "x-user" not in up.requests[-1].headers
