from __future__ import annotations

import json
from typing import Any

import pytest

from strands_portkey.providers.base import Target
from strands_portkey.providers.openai_compat import OpenAICompatAdapter
from strands_portkey.providers.portkey import (
    PORTKEY_HOST,
    PORTKEY_HOSTED_URL,
    PortkeyAdapter,
    portkey_headers,
)
from strands_portkey.types import ChatRequest
from strands_portkey.wire import HttpResponse, Secret

STRICT_DEFAULT = {"x-portkey-strict-open-ai-compliance": "false"}


@pytest.mark.parametrize(
    ("client_args", "expected"),
    [
        ({}, {}),
        ({"api_key": "pk-123456"}, {"x-portkey-api-key": "pk-123456"}),
        ({"api_key": Secret("pk-123456")}, {"x-portkey-api-key": "pk-123456"}),
        ({"virtual_key": "openai-vk"}, {"x-portkey-virtual-key": "openai-vk"}),
        (
            {"provider": "openai", "Authorization": "sk-abc"},
            {"x-portkey-provider": "openai", "authorization": "Bearer sk-abc"},
        ),
        ({"Authorization": "Bearer sk-abc"}, {"authorization": "Bearer sk-abc"}),
        ({"authorization": "bearer sk-abc"}, {"authorization": "bearer sk-abc"}),
        (
            {"config": {"strategy": {"mode": "fallback"}, "targets": [{"virtual_key": "a"}]}},
            {"x-portkey-config": '{"strategy":{"mode":"fallback"},"targets":[{"virtual_key":"a"}]}'},
        ),
        ({"config": "pc-saved-123"}, {"x-portkey-config": "pc-saved-123"}),
        ({"metadata": {"_user": "u1", "env": "prod"}}, {"x-portkey-metadata": '{"_user":"u1","env":"prod"}'}),
        ({"metadata": '{"a":"b"}'}, {"x-portkey-metadata": '{"a":"b"}'}),
        (
            {"cache_force_refresh": True, "debug": False},
            {"x-portkey-cache-force-refresh": "true", "x-portkey-debug": "false"},
        ),
        ({"strict_open_ai_compliance": True}, {"x-portkey-strict-open-ai-compliance": "true"}),
        ({"request_timeout": 3000}, {"x-portkey-request-timeout": "3000"}),
        ({"custom_host": "http://127.0.0.1:8000/v1"}, {"x-portkey-custom-host": "http://127.0.0.1:8000/v1"}),
        (
            {"trace_id": "trace-1", "cache_namespace": "ns"},
            {"x-portkey-trace-id": "trace-1", "x-portkey-cache-namespace": "ns"},
        ),
        (
            {"aws_region": "us-east-1", "azure_api_version": "2024-06-01"},
            {"x-portkey-aws-region": "us-east-1", "x-portkey-azure-api-version": "2024-06-01"},
        ),
        ({"some_future_arg": "v"}, {"x-portkey-some-future-arg": "v"}),
        ({"api_key": None, "virtual_key": "", "metadata": {}, "forward_headers": [], "trace_id": None}, {}),
        (
            {
                "base_url": "http://x",
                "http_client": object(),
                "websocket_base_url": "ws://x",
                "webhook_secret": "s",
                "instrumentation": True,
                "calculate_audio_duration": True,
            },
            {},
        ),
    ],
)
def test_portkey_headers_table(client_args: dict[str, Any], expected: dict[str, str]) -> None:
    assert portkey_headers(client_args) == {**STRICT_DEFAULT, **expected}


def test_forward_headers_are_sent_unprefixed() -> None:
    headers = portkey_headers(
        {"forward_headers": ["x_custom_header", "x-other"], "x_custom_header": "v1", "x_other": "v2"}
    )
    assert headers == {
        **STRICT_DEFAULT,
        "x-portkey-forward-headers": "x_custom_header,x-other",
        "x-custom-header": "v1",
        "x-other": "v2",
    }


def test_portkey_headers_json_is_ascii_safe() -> None:
    assert (
        portkey_headers({"metadata": {"city": "Zürich"}})["x-portkey-metadata"] == '{"city":"Z\\u00fcrich"}'
    )


# ---------------------------------------------------------------- adapter

REQUEST = ChatRequest.from_body(
    {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True}
)
ADAPTER = PortkeyAdapter()


def test_build_request_hosted_with_client_args() -> None:
    target = Target(
        "portkey",
        PORTKEY_HOSTED_URL,
        options={
            "client_args": {
                "api_key": "pk-live-123456",
                "virtual_key": "openai-vk",
                "trace_id": "from-client",
                "metadata": {"a": "1"},
            }
        },
    )
    http = ADAPTER.build_request(REQUEST, target)
    assert http.url == "https://api.portkey.ai/v1/chat/completions"
    assert dict(http.headers) == {
        "content-type": "application/json",
        "accept": "text/event-stream",
        "x-portkey-strict-open-ai-compliance": "false",
        "x-portkey-api-key": "pk-live-123456",
        "x-portkey-virtual-key": "openai-vk",
        "x-portkey-trace-id": "from-client",
        "x-portkey-metadata": '{"a":"1"}',
    }
    assert http.json == OpenAICompatAdapter("openai").request_body(REQUEST)
    assert http.json["stream_options"] == {"include_usage": True}
    assert http.secrets == ("pk-live-123456",)


def test_per_request_trace_and_metadata_override_client_args() -> None:
    target = Target(
        "portkey",
        PORTKEY_HOSTED_URL,
        options={"client_args": {"trace_id": "from-client", "metadata": {"a": "1"}}},
    )
    http = ADAPTER.build_request(REQUEST, target, trace_id="per-request", metadata={"user": "u1"})
    assert http.headers["x-portkey-trace-id"] == "per-request"
    assert http.headers["x-portkey-metadata"] == '{"user":"u1"}'


def test_per_request_values_override_precomputed_target_headers() -> None:
    target = Target(
        "portkey", PORTKEY_HOSTED_URL, headers=portkey_headers({"trace_id": "old", "metadata": {"a": "1"}})
    )
    http = ADAPTER.build_request(REQUEST, target, trace_id="new", metadata={"b": "2"})
    assert http.headers["x-portkey-trace-id"] == "new"
    assert http.headers["x-portkey-metadata"] == '{"b":"2"}'


def test_without_per_request_values_client_ones_stay() -> None:
    target = Target("portkey", PORTKEY_HOSTED_URL, options={"client_args": {"trace_id": "from-client"}})
    assert ADAPTER.build_request(REQUEST, target, metadata={}).headers["x-portkey-trace-id"] == "from-client"


def test_header_only_mode_secrets() -> None:
    target = Target(
        "portkey",
        "http://127.0.0.1:8787/v1",
        api_key=Secret("pk-target-key-1"),
        options={
            "client_args": {
                "provider": "openai",
                "Authorization": "sk-provider-key-2",
                "api_key": "pk-client",
            }
        },
    )
    http = ADAPTER.build_request(REQUEST, target)
    assert http.url == "http://127.0.0.1:8787/v1/chat/completions"
    assert http.headers["authorization"] == "Bearer sk-provider-key-2"
    assert http.headers["x-portkey-api-key"] == "pk-target-key-1"  # the target's key wins
    assert http.headers["x-portkey-provider"] == "openai"
    assert set(http.secrets) == {"sk-provider-key-2", "pk-target-key-1"}


def test_base_url_from_client_args_when_target_has_none() -> None:
    target = Target("portkey", "", options={"client_args": {"base_url": "http://localhost:8787/v1/"}})
    assert ADAPTER.build_request(REQUEST, target).url == "http://localhost:8787/v1/chat/completions"


def test_hosted_url_is_the_default() -> None:
    assert (
        ADAPTER.build_request(REQUEST, Target("portkey", "")).url
        == "https://api.portkey.ai/v1/chat/completions"
    )


def test_target_headers_win_over_client_args() -> None:
    target = Target(
        "portkey",
        PORTKEY_HOSTED_URL,
        headers={"X-Portkey-Provider": "groq"},
        options={"client_args": {"provider": "openai"}},
    )
    assert ADAPTER.build_request(REQUEST, target).headers["x-portkey-provider"] == "groq"


def test_parsing_and_errors_are_inherited() -> None:
    body = {
        "id": "c",
        "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"content": "hi"}, "finish_reason": "stop"}],
    }
    parsed = ADAPTER.parse_response(HttpResponse(200, {}, json.dumps(body).encode()), REQUEST)
    assert parsed.text == "hi"
    error = ADAPTER.map_error(
        400, {}, b'{"error": {"message": "openai error: bad", "type": null}, "provider": "openai"}'
    )
    assert error.message == "portkey error: openai error: bad"
    assert error.provider == "portkey"
    parser = ADAPTER.stream_parser(REQUEST)
    assert (
        parser.feed(b'data: {"choices": [{"delta": {"content": "x"}, "finish_reason": "stop"}]}\n\n')[0].model
        == "gpt-4o"
    )


def test_portkey_host_spec() -> None:
    assert PORTKEY_HOST.name == "portkey"
    assert PORTKEY_HOST.base_url == PORTKEY_HOSTED_URL == "https://api.portkey.ai/v1"
    assert PORTKEY_HOST.api_key_env == "PORTKEY_API_KEY"
