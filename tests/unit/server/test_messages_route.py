"""``POST /v1/messages`` over ASGI: Anthropic's shapes in and out, routed to an OpenAI-format upstream.

The upstream is a MockTransport playing OpenAI; the client is httpx (exact bytes) or the real
``anthropic`` SDK on an ASGI transport (what a Claude-style client sees).
"""

from __future__ import annotations

import asyncio
import json

import anthropic
import httpx
import pytest

from strands_portkey.server.auth import Principal
from strands_portkey.server.errors import UnauthorizedError
from tests.unit.conftest import chunk, completion, sse
from tests.unit.server.conftest import RecordingLimiter, client, make_app

try:  # the SDK's own HTTP library: httpx2 from anthropic 2 on, httpx before
    import httpx2 as sdk_http  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - older SDKs
    sdk_http = httpx

PROVIDER_KEY = "sk-canary-messages-5566"
OPENAI = {"x-portkey-provider": "openai", "authorization": f"Bearer {PROVIDER_KEY}"}
HELLO = [{"role": "user", "content": "Hello"}]
BODY = {"model": "gpt-4o", "max_tokens": 64, "messages": HELLO}
TOOL = {
    "name": "weather",
    "description": "Weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}
TOOL_CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "weather", "arguments": '{"city":"Paris"}'},
}


def answer(request: httpx.Request) -> httpx.Response:
    if json.loads(request.content).get("stream"):
        body = sse(
            chunk("Bon", role="assistant"),
            chunk("jour", finish="stop"),
            {
                "id": "c1",
                "model": "gpt-4o",
                "choices": [],
                "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
            },
        )
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})
    return httpx.Response(200, json=completion("Bonjour"))


def frames(text: str) -> list[tuple[str, dict]]:
    out = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        out.append((lines["event"], json.loads(lines["data"])))
    return out


def sdk_client(app, headers: dict[str, str] | None = None) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(
        base_url="http://gateway.test",
        api_key="gateway-key-unused",
        max_retries=0,
        default_headers=headers or OPENAI,
        http_client=sdk_http.AsyncClient(transport=sdk_http.ASGITransport(app=app)),
    )


async def test_message_in_anthropics_shape_with_portkeys_headers(limiter: RecordingLimiter) -> None:
    seen: list[httpx.Request] = []
    app = make_app(lambda r: seen.append(r) or answer(r), limiter=limiter)
    headers = {
        **OPENAI,
        "x-api-key": "gateway-key-1",
        "anthropic-version": "2023-06-01",
        "x-portkey-trace-id": "t-9",
    }
    async with client(app) as c:
        response = await c.post("/v1/messages", json={**BODY, "system": "Speak French."}, headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert (body["type"], body["role"], body["stop_reason"]) == ("message", "assistant", "end_turn")
    assert body["content"] == [{"type": "text", "text": "Bonjour"}]
    assert body["usage"] == {"input_tokens": 3, "output_tokens": 2}
    assert body["id"].startswith("msg_")
    assert response.headers["x-portkey-trace-id"] == "t-9"
    assert response.headers["x-portkey-provider"] == "openai"
    assert response.headers["x-ratelimit-remaining-requests"] == "41"
    assert str(seen[0].url) == "https://api.openai.com/v1/chat/completions"
    assert json.loads(seen[0].content)["messages"][0] == {"role": "system", "content": "Speak French."}
    assert seen[0].headers["authorization"] == f"Bearer {PROVIDER_KEY}"
    assert "x-api-key" not in seen[0].headers
    assert "anthropic-version" not in seen[0].headers
    assert [(r.endpoint, r.model) for r in limiter.reserved] == [("messages", "gpt-4o")]
    assert [o.status for o in limiter.settled] == [200]
    assert limiter.settled[0].usage is not None


async def test_the_route_answers_without_the_v1_prefix() -> None:
    app = make_app(answer)
    async with client(app) as c:
        response = await c.post("/messages", json=BODY, headers=OPENAI)
    assert response.status_code == 200
    assert response.json()["content"][0]["text"] == "Bonjour"


async def test_sdk_tool_use_out_and_tool_result_history_in() -> None:
    sent: list[dict] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        if len(sent) == 1:
            return httpx.Response(200, json=completion(None, finish="tool_calls", tool_calls=[TOOL_CALL]))
        return httpx.Response(200, json=completion("Sunny in Paris."))

    sdk = sdk_client(make_app(upstream))
    first = await sdk.messages.create(
        model="gpt-4o",
        max_tokens=64,
        tools=[TOOL],
        tool_choice={"type": "tool", "name": "weather"},
        messages=[{"role": "user", "content": "Weather in Paris?"}],
    )
    assert first.stop_reason == "tool_use"
    [use] = first.content
    assert (use.type, use.id, use.name, use.input) == ("tool_use", "call_1", "weather", {"city": "Paris"})
    assert sent[0]["tool_choice"] == {"type": "function", "function": {"name": "weather"}}
    second = await sdk.messages.create(
        model="gpt-4o",
        max_tokens=64,
        tools=[TOOL],
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": [use.model_dump()]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "21C, sun"}],
            },
        ],
    )
    assert second.content[0].text == "Sunny in Paris."
    assert sent[1]["messages"][1]["tool_calls"][0]["id"] == "call_1"
    assert sent[1]["messages"][2] == {"role": "tool", "tool_call_id": "call_1", "content": "21C, sun"}


async def test_stream_is_anthropic_sse_and_the_sdk_builds_the_final_message(
    limiter: RecordingLimiter,
) -> None:
    app = make_app(answer, limiter=limiter)
    async with client(app) as c:
        response = await c.post("/v1/messages", json={**BODY, "stream": True}, headers=OPENAI)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-portkey-provider"] == "openai"
    kinds = [kind for kind, _ in frames(response.text)]
    assert kinds[0] == "message_start"
    assert kinds[-2:] == ["message_delta", "message_stop"]
    assert kinds.count("content_block_delta") == 2
    assert [o.status for o in limiter.settled] == [200]
    assert limiter.settled[0].usage is not None
    assert limiter.settled[0].usage.prompt_tokens == 9
    async with sdk_client(make_app(answer)).messages.stream(
        model="gpt-4o", max_tokens=32, messages=HELLO
    ) as stream:
        texts = [text async for text in stream.text_stream]
        final = await stream.get_final_message()
    assert texts == ["Bon", "jour"]
    assert (final.content[0].text, final.stop_reason, final.usage.output_tokens) == ("Bonjour", "end_turn", 2)


async def test_upstream_error_is_anthropics_error_shape_with_its_status(limiter: RecordingLimiter) -> None:
    app = make_app(
        lambda r: httpx.Response(429, json={"error": {"message": "slow down"}}, headers={"retry-after": "2"}),
        limiter=limiter,
    )
    async with client(app) as c:
        response = await c.post("/v1/messages", json=BODY, headers=OPENAI)
    assert response.status_code == 429
    assert response.json()["type"] == "error"
    assert response.json()["error"]["type"] == "rate_limit_error"
    assert response.headers["retry-after"] == "2"
    assert [o.status for o in limiter.settled] == [429]
    with pytest.raises(anthropic.RateLimitError):
        await sdk_client(app).messages.create(model="gpt-4o", max_tokens=8, messages=HELLO)


async def test_bad_bodies_are_400s_in_anthropics_shape_naming_the_field() -> None:
    calls: list[httpx.Request] = []
    app = make_app(lambda r: calls.append(r) or answer(r))
    async with client(app) as c:
        no_max = await c.post("/v1/messages", json={"model": "m", "messages": HELLO}, headers=OPENAI)
        bad_block = await c.post(
            "/v1/messages",
            json={**BODY, "messages": [{"role": "user", "content": [{"type": "nope"}]}]},
            headers=OPENAI,
        )
        not_json = await c.post(
            "/v1/messages", content=b"{", headers={**OPENAI, "content-type": "application/json"}
        )
    assert no_max.status_code == 400
    assert no_max.json() == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": no_max.json()["error"]["message"]},
    }
    assert "max_tokens" in no_max.json()["error"]["message"]
    assert "messages[0].content[0].type" in bad_block.json()["error"]["message"]
    assert not_json.status_code == 400
    assert not_json.json()["type"] == "error"
    assert calls == []


async def test_a_refused_key_is_anthropics_authentication_error() -> None:
    class Refuse:
        def claims(self, token: str) -> bool:
            return False

        async def authenticate(self, headers) -> Principal:
            raise UnauthorizedError("unknown gateway key")

    app = make_app(answer, authenticator=Refuse())
    with pytest.raises(anthropic.AuthenticationError) as raised:
        await sdk_client(app).messages.create(model="gpt-4o", max_tokens=8, messages=HELLO)
    assert raised.value.body["error"]["type"] == "authentication_error"


async def test_failure_after_the_first_chunk_ends_with_an_error_event(limiter: RecordingLimiter) -> None:
    cut = sse(chunk("partial", role="assistant"), done=False)  # no finish, no [DONE]
    app = make_app(
        lambda r: httpx.Response(200, content=cut, headers={"content-type": "text/event-stream"}),
        limiter=limiter,
    )
    async with client(app) as c:
        response = await c.post("/v1/messages", json={**BODY, "stream": True}, headers=OPENAI)
    assert response.status_code == 200
    received = frames(response.text)
    assert received[-1][0] == "error"
    assert received[-1][1]["type"] == "error"
    assert "message_stop" not in [kind for kind, _ in received]
    assert any(kind == "content_block_delta" for kind, _ in received)
    assert len(limiter.settled) == 1
    assert limiter.settled[0].status >= 500


async def test_a_failure_before_the_first_chunk_is_an_error_status() -> None:
    app = make_app(lambda r: httpx.Response(503, json={"error": {"message": "down"}}))
    async with client(app) as c:
        response = await c.post("/v1/messages", json={**BODY, "stream": True}, headers=OPENAI)
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "api_error"


class Endless(httpx.AsyncByteStream):
    """One SSE chunk, then nothing until closed (a model still thinking)."""

    def __init__(self) -> None:
        self.closed = asyncio.Event()

    async def __aiter__(self):
        yield f"data: {json.dumps(chunk('first', role='assistant'))}\n\n".encode()
        await self.closed.wait()

    async def aclose(self) -> None:
        self.closed.set()


async def test_abandoned_stream_closes_upstream_and_settles_once() -> None:
    upstream = Endless()
    limiter = RecordingLimiter()
    app = make_app(
        lambda r: httpx.Response(200, stream=upstream, headers={"content-type": "text/event-stream"}),
        limiter=limiter,
    )
    body = json.dumps({**BODY, "stream": True}).encode()
    sent: list[dict] = []
    first_chunk = asyncio.Event()
    requested = False

    async def receive() -> dict:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": body, "more_body": False}
        await first_chunk.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and message.get("body"):
            first_chunk.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/messages",
        "raw_path": b"/v1/messages",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json")]
        + [(k.encode(), v.encode()) for k, v in OPENAI.items()],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8787),
    }
    await asyncio.wait_for(app(scope, receive, send), timeout=5)
    assert sent[0]["status"] == 200
    assert b"message_start" in sent[1]["body"]
    assert upstream.closed.is_set()
    assert [outcome.status for outcome in limiter.settled] == [499]


NO_SECRET = {"default.contains": {"operator": "none", "words": ["secret"]}}
SECRET_BODY = {"model": "gpt-4o", "max_tokens": 8, "messages": [{"role": "user", "content": "a secret"}]}


async def test_guardrails_deny_with_446_in_anthropics_shape_or_pass_with_246() -> None:
    calls: list[httpx.Request] = []
    app = make_app(lambda r: calls.append(r) or answer(r))
    deny = {"provider": "openai", "api_key": "sk-a", "input_guardrails": [{**NO_SECRET, "deny": True}]}
    warn = {"provider": "openai", "api_key": "sk-a", "input_guardrails": [NO_SECRET]}
    async with client(app) as c:
        denied = await c.post(
            "/v1/messages", json=SECRET_BODY, headers={"x-portkey-config": json.dumps(deny)}
        )
        warned = await c.post(
            "/v1/messages", json=SECRET_BODY, headers={"x-portkey-config": json.dumps(warn)}
        )
    assert denied.status_code == 446
    assert denied.json()["type"] == "error"
    assert denied.json()["error"]["type"] == "invalid_request_error"
    assert denied.json()["hook_results"]["before_request_hooks"][0]["verdict"] is False
    assert warned.status_code == 246
    assert warned.json()["content"] == [{"type": "text", "text": "Bonjour"}]
    assert warned.json()["hook_results"]["before_request_hooks"][0]["verdict"] is False
    assert len(calls) == 1


async def test_a_wrong_method_on_messages_answers_in_anthropics_shape() -> None:
    from tests.unit.server.conftest import client, make_app

    app = make_app(lambda request: None)
    async with client(app) as c:
        answer = await c.get("/v1/messages")
    assert answer.status_code == 405
    assert answer.json() == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "GET is not allowed here"},
    }
