"""One check of the canonical request, for every provider: the same malformed body is refused the same
way (``InvalidRequestError`` naming the field), before any upstream call, whatever the target."""

from __future__ import annotations

import warnings
from decimal import Decimal
from typing import Any

import httpx
import pytest

from strands_portkey import ConfigurationError, Gateway, InvalidRequestError, UpstreamError
from strands_portkey.nesting import MAX_JSON_DEPTH
from strands_portkey.request_checks import check_request_body
from strands_portkey.types import ChatRequest
from tests.unit.conftest import Upstream

TARGETS: dict[str, dict[str, Any]] = {
    "openai": {"provider": "openai", "api_key": "sk-x"},
    "anthropic": {"provider": "anthropic", "api_key": "sk-ant-x"},
    "bedrock": {
        "provider": "bedrock",
        "aws_region": "us-east-1",
        "aws_access_key_id": "AKIAX",
        "aws_secret_access_key": "secret-x",
    },
    "google": {"provider": "google", "api_key": "g-x"},
    "azure-openai": {
        "provider": "azure-openai",
        "api_key": "az-x",
        "azure_resource_name": "r",
        "azure_deployment_id": "d",
    },
}
USER = {"role": "user", "content": "hi"}
TEXT = {"type": "text", "text": "a"}
ASSISTANT = {"role": "assistant", "content": "ok"}


def _deep(levels: int) -> object:
    value: object = "x"
    for _ in range(levels):
        value = {"a": value}
    return value


def body(*messages: object, **extra: Any) -> dict[str, Any]:
    return {"model": "m", "messages": list(messages) or [USER], **extra}


INVALID: list[tuple[dict[str, Any], str, str]] = [
    (body({"role": "user", "content": 5}), "request.messages[0].content", "got number"),
    (body({"role": "user", "content": {"text": "hi"}}), "request.messages[0].content", "got object"),
    (body({"role": "user", "content": True}), "request.messages[0].content", "got boolean"),
    (
        body({"role": "user", "content": [1, 2]}),
        "request.messages[0].content[0]",
        "content part must be an object",
    ),
    (body({"role": "user", "content": ["hi"]}), "request.messages[0].content[0]", "got string"),
    (
        body({"role": "user", "content": [{"text": "hi"}]}),
        "request.messages[0].content[0].type",
        "string 'type'",
    ),
    (
        body({"role": "user", "content": [{"type": "text"}]}),
        "request.messages[0].content[0].text",
        "string 'text'",
    ),
    (
        body({"role": "user", "content": [{"type": "image_url", "image_url": "http://x/a.png"}]}),
        "request.messages[0].content[0].image_url",
        "{'url'",
    ),
    (body({"role": "user"}), "request.messages[0].content", "needs 'content'"),
    (body({"role": "system", "content": None}, USER), "request.messages[0].content", "needs 'content'"),
    (body(USER, {"role": "robot", "content": "x"}), "request.messages[1].role", "unknown role 'robot'"),
    (body(USER, {"content": "x"}), "request.messages[1]", "string 'role'"),
    (body(USER, "hi"), "request.messages[1]", "string 'role'"),
    (
        body(USER, {"role": "assistant", "content": None, "tool_calls": {"id": "c"}}),
        "request.messages[1].tool_calls",
        "must be a list",
    ),
    (
        body(USER, {"role": "assistant", "tool_calls": [{"id": "c", "function": {"arguments": "{}"}}]}),
        "request.messages[1].tool_calls[0].function",
        "'name'",
    ),
    (
        body(
            USER,
            {"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": {}}}]},
        ),
        "request.messages[1].tool_calls[0].function.arguments",
        "JSON string",
    ),
    (
        body(USER, {"role": "assistant", "tool_calls": [{"id": 7, "function": {"name": "f"}}]}),
        "request.messages[1].tool_calls[0].id",
        "must be a string",
    ),
    (body(USER, {"role": "tool", "content": "42"}), "request.messages[1].tool_call_id", "'tool_call_id'"),
    (body(tools=[{"type": "function"}]), "request.tools[0]", "'name'"),
    (body(tools=["f"]), "request.tools[0]", "'name'"),
    (body(tools=[{"type": "web", "function": {"name": "f"}}]), "request.tools[0].type", "'web'"),
    (
        body(tools=[{"type": "function", "function": {"name": "f", "parameters": []}}]),
        "request.tools[0].function.parameters",
        "JSON Schema object",
    ),
    (
        body(tools=[{"type": "function", "function": {"name": "f"}}], tool_choice="always"),
        "request.tool_choice",
        "'auto'",
    ),
    (body(tools={"f": {}}), "request.tools", "must be a list"),
    (body(stream="yes"), "request.stream", "true or false"),
    (body(model=""), "request.model", "non-empty string"),
    ({"messages": [USER]}, "request.model", "non-empty string"),
    ({"model": "m"}, "request.messages", "non-empty list"),
    (body(response_format=_deep(MAX_JSON_DEPTH + 1)), "request.response_format.a.a.a", "nested deeper"),
    (body(temperature=Decimal("0.1")), "request.temperature", "got Decimal"),
    (body(stop={"a"}), "request.stop", "got set"),
    (body(response_format={"a": [1, object()]}), "request.response_format.a[1]", "got object"),
    (
        body({"role": "user", "content": [{"type": "text", "text": "x", "meta": {("k",): 1}}]}),
        "request.messages[0].content[0].meta",
        "keys must be strings",
    ),
    ({**body(), 1: "x"}, "request", "field names must be strings"),
    (
        body({"role": "user", "content": [{"type": "text", "text": "x", "extra": _deep(MAX_JSON_DEPTH)}]}),
        "request.messages[0].content[0].extra.a.a",
        "nested deeper",
    ),
]


def _ids(case: tuple[dict[str, Any], str, str]) -> str:
    return f"{case[1]}:{case[2]}"


def _gateway(provider: str, up: Upstream) -> Gateway:
    return Gateway(TARGETS[provider], transport=up.transport, env={})


@pytest.mark.parametrize("provider", sorted(TARGETS))
@pytest.mark.parametrize(("bad", "path", "message"), INVALID, ids=[_ids(c) for c in INVALID])
async def test_an_invalid_body_is_refused_identically_for_every_provider_without_an_upstream_call(
    provider: str, bad: dict[str, Any], path: str, message: str
) -> None:
    up = Upstream(lambda request: httpx.Response(500))
    gw = _gateway(provider, up)
    with pytest.raises(InvalidRequestError) as chat_error:
        await gw.chat(bad)
    with pytest.raises(InvalidRequestError) as stream_error:
        async with gw.stream(bad) as stream:
            [chunk async for chunk in stream]
    assert up.requests == []
    for error in (chat_error.value, stream_error.value):
        assert error.path == path
        assert message in str(error)
        assert error.provider is None  # the same error whichever provider was configured
        assert error.status_code == 400
    assert str(chat_error.value) == str(stream_error.value)


VALID: list[dict[str, Any]] = [
    body({"role": "user", "content": [TEXT, {**TEXT, "cache_control": {"type": "ephemeral"}}]}),
    body({"role": "system", "content": "be brief"}, {"role": "developer", "content": [TEXT]}, USER),
    body(
        USER,
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"x\": 1}"}}
        ]},
        {"role": "tool", "tool_call_id": "c1", "content": "42"},
        {"role": "tool", "tool_call_id": "c1", "content": [{"type": "text", "text": "43"}]},
        tools=[{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        tool_choice={"type": "function", "function": {"name": "f"}},
    ),
    body(USER, ASSISTANT, USER, tools=[{"function": {"name": "f"}}], tool_choice="none"),
    body(USER, {"role": "assistant"}, USER),
    body(response_format={"type": "json_object"}, temperature=0.2, max_tokens=5, stream=False),
    body(response_format=_deep(MAX_JSON_DEPTH - 1)),
]  # fmt: skip


@pytest.mark.parametrize("provider", sorted(TARGETS))
@pytest.mark.parametrize("good", VALID)
async def test_valid_edge_cases_pass_the_check_and_are_sent_upstream(
    provider: str, good: dict[str, Any]
) -> None:
    up = Upstream(lambda request: httpx.Response(400, json={"error": {"message": "upstream says no"}}))
    gw = _gateway(provider, up)
    with pytest.raises(UpstreamError, match="upstream says no"):
        await gw.chat(good)
    assert len(up.requests) == 1


def test_the_request_keeps_what_was_sent() -> None:
    sent = VALID[2]
    request = ChatRequest.from_body(sent)
    assert request.messages == sent["messages"]
    assert request.tools == sent["tools"]
    assert request.tool_choice == sent["tool_choice"]
    assert request.to_body() == sent
    assert check_request_body(sent) is sent


def test_override_params_are_checked_at_construction_like_a_request() -> None:
    cases = [
        ({"model": 5}, "config.override_params.model"),
        ({"messages": [{"role": "user", "content": 5}]}, "config.override_params.messages[0].content"),
        ({"tools": [{"type": "function"}]}, "config.override_params.tools[0]"),
        ({"tool_choice": "always"}, "config.override_params.tool_choice"),
    ]
    for overrides, path in cases:
        with pytest.raises(ConfigurationError) as info:
            Gateway({**TARGETS["openai"], "override_params": overrides}, env={})
        assert info.value.path == path
    with pytest.raises(ConfigurationError) as nested:
        Gateway(
            {
                "strategy": {"mode": "fallback"},
                "targets": [TARGETS["openai"], {**TARGETS["anthropic"], "override_params": {"messages": []}}],
            },
            env={},
        )
    assert nested.value.path == "config.targets[1].override_params.messages"


def test_with_overrides_checks_only_the_overrides_and_keeps_the_request() -> None:
    request = ChatRequest.from_body(body(temperature=1))
    merged = request.with_overrides({"temperature": 0, "model": "other"})
    assert (merged.model, merged.params["temperature"], merged.messages) == ("other", 0, request.messages)
    with pytest.raises(InvalidRequestError) as info:
        request.with_overrides({"messages": [{"role": "user", "content": 5}]})
    assert info.value.path == "request.messages[0].content"


async def test_a_valid_config_override_raises_no_warning_and_reaches_the_body() -> None:
    up = Upstream(lambda request: httpx.Response(400, json={"error": {"message": "no"}}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gw = Gateway(
            {**TARGETS["openai"], "override_params": {"temperature": 0}}, transport=up.transport, env={}
        )
    with pytest.raises(UpstreamError):
        await gw.chat(body())
    assert up.body()["temperature"] == 0


@pytest.mark.parametrize(
    ("metadata", "path"),
    [
        ({"tier": {"a": 1}}, "metadata.tier"),
        ({"tier": object()}, "metadata.tier"),
        ({"tier": {1, 2}}, "metadata.tier"),
        ("[" * 100_000, "metadata"),
        ("[1]", "metadata"),
    ],
)
async def test_a_requests_metadata_is_checked_as_part_of_the_request(metadata: object, path: str) -> None:
    up = Upstream(lambda request: httpx.Response(500))
    gw = _gateway("openai", up)
    with pytest.raises(InvalidRequestError) as info:
        await gw.chat(body(), metadata=metadata)  # type: ignore[arg-type]
    assert info.value.path == path
    assert up.requests == []
