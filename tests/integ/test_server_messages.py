"""The real ``anthropic`` SDK and the real ``openai`` SDK against the real server, served by
OpenAI-format upstreams: ``POST /v1/messages`` (a Claude-style client answered by another model)
and ``POST /v1/embeddings``.

Upstreams: the scripted loopback upstream (exact, countable), the local SmolLM2 server, and a
small loopback embeddings server defined here (the scripted upstream answers chat only).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from scripted_upstream import Reply, ScriptedUpstream, drop, fail, ok
from tests.integ.test_server_process import ServerProcess, running_server

pytestmark = pytest.mark.integ

PROVIDER_KEY = "sk-canary-messages-integ-8080"
GATEWAY_KEY = "pk-gateway-key-harmless-without-auth"  # what the SDK sends as x-api-key
HELLO = [{"role": "user", "content": "Hello"}]
WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@pytest.fixture(scope="module")
def upstream() -> Iterator[ScriptedUpstream]:
    with ScriptedUpstream(default=ok()) as scripted:
        yield scripted


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("server-messages")) as running:
        yield running


def direct(upstream: ScriptedUpstream, scenario: str) -> dict[str, str]:
    return {
        "x-portkey-provider": "openai",
        "x-portkey-custom-host": upstream.base_url(scenario, "a"),
        "authorization": f"Bearer {PROVIDER_KEY}",
    }


def claude(server: ServerProcess, headers: dict[str, str]) -> anthropic.Anthropic:
    """The Anthropic SDK as a Claude-style client configures it: base URL and key, nothing else."""
    return anthropic.Anthropic(
        base_url=server.url, api_key=GATEWAY_KEY, default_headers=headers, max_retries=0, timeout=60
    )


def test_text_answer_from_an_openai_format_upstream(
    server: ServerProcess, upstream: ScriptedUpstream
) -> None:
    client = claude(server, {**direct(upstream, "msg-text"), "x-portkey-trace-id": "trace-msg-1"})
    raw = client.messages.with_raw_response.create(
        model="m", max_tokens=32, system="Be brief.", messages=HELLO
    )
    message = raw.parse()
    assert message.content[0].type == "text"
    assert message.content[0].text == "ok from a"
    assert (message.stop_reason, message.role) == ("end_turn", "assistant")
    assert (message.usage.input_tokens, message.usage.output_tokens) == (5, 3)
    assert raw.headers["x-portkey-trace-id"] == "trace-msg-1"
    assert raw.headers["x-portkey-provider"] == "openai"
    (call,) = upstream.calls("msg-text")
    assert call.path == "/v1/chat/completions"
    assert call.body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello"},
    ]
    assert call.body["max_tokens"] == 32
    assert call.authorization == f"Bearer {PROVIDER_KEY}"
    assert "x-api-key" not in call.headers  # the gateway key stays at the gateway
    assert PROVIDER_KEY not in raw.http_response.text


def test_tool_use_out_and_tool_result_history_in(server: ServerProcess, upstream: ScriptedUpstream) -> None:
    tool_call = {
        "id": "call_7",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
    }
    answer = {
        "id": "chatcmpl-tools",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": None, "tool_calls": [tool_call]},
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 20, "completion_tokens": 9, "total_tokens": 29},
    }
    upstream.script("msg-tools", "a", [Reply(200, body=answer), ok()])
    client = claude(server, direct(upstream, "msg-tools"))
    question = {"role": "user", "content": "Weather in Paris?"}
    first = client.messages.create(
        model="m", max_tokens=64, tools=[WEATHER], tool_choice={"type": "any"}, messages=[question]
    )
    assert first.stop_reason == "tool_use"
    [use] = first.content
    assert (use.type, use.id, use.name, use.input) == ("tool_use", "call_7", "get_weather", {"city": "Paris"})
    second = client.messages.create(
        model="m",
        max_tokens=64,
        tools=[WEATHER],
        messages=[
            question,
            {"role": "assistant", "content": [use.model_dump()]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "call_7", "content": "21C and sunny"}],
            },
        ],
    )
    assert second.content[0].text == "ok from a"
    first_call, second_call = upstream.calls("msg-tools")
    assert first_call.body["tool_choice"] == "required"
    assert first_call.body["tools"][0]["function"]["name"] == "get_weather"
    assert second_call.body["messages"][1]["tool_calls"][0]["id"] == "call_7"
    assert second_call.body["messages"][2] == {
        "role": "tool",
        "tool_call_id": "call_7",
        "content": "21C and sunny",
    }


def test_stream_and_final_message(server: ServerProcess, upstream: ScriptedUpstream) -> None:
    client = claude(server, direct(upstream, "msg-stream"))
    with client.messages.stream(model="m", max_tokens=32, messages=HELLO) as stream:
        texts = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(texts) == "part0 part1 part2 "
    assert final.content[0].text == "part0 part1 part2 "
    assert final.stop_reason == "end_turn"
    (call,) = upstream.calls("msg-stream")
    assert call.body["stream"] is True


def test_errors_in_anthropics_shape(server: ServerProcess, upstream: ScriptedUpstream) -> None:
    upstream.script("msg-400", "a", [fail(400)])
    with pytest.raises(anthropic.BadRequestError) as bad:
        claude(server, direct(upstream, "msg-400")).messages.create(model="m", max_tokens=8, messages=HELLO)
    assert bad.value.status_code == 400
    assert bad.value.body["type"] == "error"
    assert bad.value.body["error"]["type"] == "invalid_request_error"
    upstream.script("msg-429", "a", [fail(429, retry_after="4")])
    with pytest.raises(anthropic.RateLimitError) as limited:
        claude(server, direct(upstream, "msg-429")).messages.create(model="m", max_tokens=8, messages=HELLO)
    assert limited.value.response.headers["retry-after"] == "4"
    assert limited.value.body["error"]["type"] == "rate_limit_error"
    with pytest.raises(anthropic.BadRequestError, match="max_tokens"):
        claude(server, direct(upstream, "msg-refused")).messages.create(
            model="m", max_tokens=0, messages=HELLO
        )
    assert upstream.calls("msg-refused") == []


def test_a_mid_stream_failure_is_an_error_never_a_clean_end(
    server: ServerProcess, upstream: ScriptedUpstream
) -> None:
    upstream.script("msg-drop", "a", [drop(after=2)])
    client = claude(server, direct(upstream, "msg-drop"))
    events: list[str] = []

    def consume() -> None:
        with client.messages.stream(model="m", max_tokens=32, messages=HELLO) as stream:
            for event in stream:
                events.append(event.type)

    with pytest.raises(anthropic.APIStatusError):
        consume()
    assert "content_block_delta" in events or "text" in events  # the failure came after the first chunk
    assert "message_stop" not in events


def test_forward_headers_reach_the_upstream(server: ServerProcess, upstream: ScriptedUpstream) -> None:
    headers = {
        **direct(upstream, "msg-forward"),
        "x-portkey-forward-headers": "x-tenant, anthropic-beta",
        "x-tenant": "acme-9",
        "anthropic-beta": "tools-2024-04-04",
    }
    claude(server, headers).messages.create(model="m", max_tokens=8, messages=HELLO)
    (call,) = upstream.calls("msg-forward")
    assert (call.headers["x-tenant"], call.headers["anthropic-beta"]) == ("acme-9", "tools-2024-04-04")
    assert "x-api-key" not in call.headers
    assert "anthropic-version" not in call.headers


def test_the_local_model_answers_a_claude_style_client(server: ServerProcess, local_model: Any) -> None:
    client = claude(server, {"x-portkey-provider": "openai", "x-portkey-custom-host": local_model.base_url})
    message = client.messages.create(
        model=local_model.model, max_tokens=16, messages=[{"role": "user", "content": "Say hello."}]
    )
    assert message.content[0].type == "text"
    assert message.content[0].text.strip()
    assert message.usage.output_tokens > 0
    with client.messages.stream(
        model=local_model.model, max_tokens=16, messages=[{"role": "user", "content": "Count to three."}]
    ) as stream:
        streamed = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert streamed.strip()
    assert final.content[0].text == streamed
    forced = client.messages.create(
        model=local_model.model,
        max_tokens=128,
        tools=[WEATHER],
        tool_choice={"type": "tool", "name": "get_weather"},
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
    )
    uses = [block for block in forced.content if block.type == "tool_use"]
    assert uses
    assert uses[0].name == "get_weather"
    assert isinstance(uses[0].input, dict)


# --------------------------------------------------------------------------- embeddings


class _Embeddings(BaseHTTPRequestHandler):
    """``POST /v1/embeddings``: one two-number vector per input; records each call."""

    protocol_version = "HTTP/1.1"
    calls: list[tuple[dict[str, str], Any]]

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)))
        self.calls.append(({k.lower(): v for k, v in self.headers.items()}, body))
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {"object": "embedding", "index": i, "embedding": [float(i), 0.25]} for i in range(len(inputs))
        ]
        payload = json.dumps(
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": 6, "total_tokens": 6},
            }
        ).encode()
        status = 200 if self.path == "/v1/embeddings" else 404
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture(scope="module")
def embeddings_upstream() -> Iterator[tuple[str, list[tuple[dict[str, str], Any]]]]:
    calls: list[tuple[dict[str, str], Any]] = []
    handler = type("_Bound", (_Embeddings,), {"calls": calls})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", calls
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_openai_sdk_embeddings_through_the_server(
    server: ServerProcess, embeddings_upstream: tuple[str, list[tuple[dict[str, str], Any]]]
) -> None:
    base_url, calls = embeddings_upstream
    client = openai.OpenAI(
        base_url=f"{server.url}/v1",
        api_key=PROVIDER_KEY,
        max_retries=0,
        default_headers={
            "x-portkey-provider": "openai",
            "x-portkey-custom-host": base_url,
            "x-portkey-forward-headers": "x-tenant",
            "x-tenant": "acme-embed",
        },
    )
    raw = client.embeddings.with_raw_response.create(
        model="text-embedding-3-small", input=["first", "second"]
    )
    result = raw.parse()  # the SDK asked for base64 and decoded it
    assert [item.embedding for item in result.data] == [[0.0, 0.25], [1.0, 0.25]]
    assert result.usage.prompt_tokens == 6
    assert raw.headers["x-portkey-provider"] == "openai"
    headers, body = calls[-1]
    assert body["input"] == ["first", "second"]
    assert body.get("encoding_format", "float") == "float"  # upstreams are asked for floats
    assert headers["authorization"] == f"Bearer {PROVIDER_KEY}"
    assert headers["x-tenant"] == "acme-embed"
    with pytest.raises(openai.BadRequestError) as bad:
        client.embeddings.create(model="text-embedding-3-small", input=[])
    assert "input" in str(bad.value)


def test_log_never_holds_the_provider_or_gateway_key(server: ServerProcess) -> None:
    log = Path(server.log).read_text(errors="replace")
    assert PROVIDER_KEY not in log
    assert GATEWAY_KEY not in log
