"""The data plane end to end over ASGI: OpenAI shapes, Portkey headers, routing, errors, bad input."""

from __future__ import annotations

import json

import httpx
import pytest

from strands_portkey.errors import ConfigurationError, LimitExceededError
from strands_portkey.server.app import create_app
from strands_portkey.server.auth import Principal
from strands_portkey.server.errors import UnauthorizedError
from strands_portkey.server.settings import ServerSettings
from strands_portkey.telemetry.logs import JsonFormatter
from tests.unit.conftest import chunk, completion, sse
from tests.unit.server.conftest import HI, RecordingLimiter, client, make_app

OPENAI = {"x-portkey-provider": "openai", "authorization": "Bearer sk-canary-provider-7788"}
BODY = {"model": "gpt-4o", "messages": HI}


def answer(request: httpx.Request) -> httpx.Response:
    if json.loads(request.content).get("stream"):
        body = sse(chunk("hel", role="assistant"), chunk("lo", finish="stop"))
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})
    return httpx.Response(200, json=completion("hello"))


def events(text: str) -> list[str]:
    return [line.removeprefix("data: ") for line in text.split("\n\n") if line.startswith("data: ")]


async def test_chat_completion_in_openais_shape_with_portkeys_headers(limiter: RecordingLimiter) -> None:
    seen: list[httpx.Request] = []
    app = make_app(lambda r: seen.append(r) or answer(r), limiter=limiter)
    async with client(app) as c:
        response = await c.post(
            "/v1/chat/completions", json=BODY, headers={**OPENAI, "x-portkey-trace-id": "t-1"}
        )
    assert response.status_code == 200
    body = response.json()
    assert (body["object"], body["choices"][0]["message"]["content"]) == ("chat.completion", "hello")
    assert body["usage"]["total_tokens"] == 5
    assert response.headers["x-portkey-trace-id"] == "t-1"
    assert response.headers["x-portkey-provider"] == "openai"
    assert response.headers["x-portkey-last-used-option-index"] == "config"
    assert response.headers["x-portkey-cache-status"] == "DISABLED"
    assert response.headers["x-ratelimit-remaining-requests"] == "41"
    assert str(seen[0].url) == "https://api.openai.com/v1/chat/completions"
    assert seen[0].headers["authorization"] == "Bearer sk-canary-provider-7788"
    assert [o.status for o in limiter.settled] == [200]
    assert limiter.reserved[0].model == "gpt-4o"


async def test_routes_answer_without_the_v1_prefix_and_reuse_one_gateway_per_route() -> None:
    app = make_app(answer)
    async with client(app) as c:
        for path in ("/chat/completions", "/v1/chat/completions"):
            assert (await c.post(path, json=BODY, headers=OPENAI)).status_code == 200
        other_key = {**OPENAI, "authorization": "Bearer sk-other"}
        assert (await c.post("/v1/chat/completions", json=BODY, headers=other_key)).status_code == 200
    assert len(app.state.server.pool) == 2


async def test_route_pool_is_bounded() -> None:
    app = make_app(answer)
    app.state.server.pool._size = 2
    async with client(app) as c:
        for n in range(4):
            headers = {**OPENAI, "authorization": f"Bearer sk-{n}"}
            assert (await c.post("/v1/chat/completions", json=BODY, headers=headers)).status_code == 200
    assert len(app.state.server.pool) == 2


async def test_stream_is_openai_sse_ending_in_done(limiter: RecordingLimiter) -> None:
    app = make_app(answer, limiter=limiter)
    async with client(app) as c:
        response = await c.post("/v1/chat/completions", json={**BODY, "stream": True}, headers=OPENAI)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-portkey-provider"] == "openai"
    data = events(response.text)
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert [c["object"] for c in chunks] == ["chat.completion.chunk"] * 2
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "hello"
    assert [o.status for o in limiter.settled] == [200]


async def test_a_stream_broken_after_its_first_chunk_ends_with_an_error_event_not_done(
    limiter: RecordingLimiter,
) -> None:
    def cut(request: httpx.Request) -> httpx.Response:
        body = sse(chunk("hel", role="assistant"), done=False) + b'data: {"id": "c1", "choi'
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    app = make_app(cut, limiter=limiter)
    async with client(app) as c:
        response = await c.post("/v1/chat/completions", json={**BODY, "stream": True}, headers=OPENAI)
    data = events(response.text)
    assert "[DONE]" not in data
    assert json.loads(data[0])["choices"][0]["delta"]["content"] == "hel"
    assert json.loads(data[-1])["error"]["type"] == "api_error"
    assert [o.status for o in limiter.settled] == [502]


async def test_a_stream_failing_before_its_first_chunk_is_an_ordinary_error_response() -> None:
    app = make_app(lambda r: httpx.Response(401, json={"error": {"message": "bad key"}}))
    async with client(app) as c:
        response = await c.post("/v1/chat/completions", json={**BODY, "stream": True}, headers=OPENAI)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"
    assert response.headers["x-portkey-provider"] == "openai"


async def test_fallback_from_a_config_header_says_which_target_answered() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] == "Bearer sk-a":
            return httpx.Response(503, json={"error": {"message": "down"}})
        return answer(request)

    config = {
        "strategy": {"mode": "fallback"},
        "targets": [{"provider": "openai", "api_key": "sk-a"}, {"provider": "openai", "api_key": "sk-b"}],
    }
    app = make_app(respond)
    async with client(app) as c:
        response = await c.post(
            "/v1/chat/completions", json=BODY, headers={"x-portkey-config": json.dumps(config)}
        )
    assert response.status_code == 200
    assert response.headers["x-portkey-last-used-option-index"] == "config.targets[1]"


async def test_cache_headers_hit_and_force_refresh() -> None:
    calls: list[int] = []
    app = make_app(lambda r: calls.append(1) or answer(r))
    config = json.dumps({"provider": "openai", "api_key": "sk-a", "cache": {"mode": "simple"}})
    async with client(app) as c:
        statuses = []
        for extra in ({}, {}, {"x-portkey-cache-force-refresh": "true"}):
            response = await c.post(
                "/v1/chat/completions", json=BODY, headers={"x-portkey-config": config, **extra}
            )
            statuses.append(response.headers["x-portkey-cache-status"])
        namespaced = await c.post(
            "/v1/chat/completions",
            json=BODY,
            headers={"x-portkey-config": config, "x-portkey-cache-namespace": "n"},
        )
    assert statuses == ["MISS", "HIT", "REFRESH"]
    assert namespaced.headers["x-portkey-cache-status"] == "MISS"
    assert len(calls) == 3


NO_SECRET = {"default.contains": {"operator": "none", "words": ["secret"]}}


async def test_a_denying_guardrail_is_446_with_hook_results_and_no_upstream_call() -> None:
    calls: list[int] = []
    config = {"provider": "openai", "api_key": "sk-a", "input_guardrails": [{**NO_SECRET, "deny": True}]}
    app = make_app(lambda r: calls.append(1) or answer(r))
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "a secret"}]}
    async with client(app) as c:
        response = await c.post(
            "/v1/chat/completions", json=body, headers={"x-portkey-config": json.dumps(config)}
        )
    assert response.status_code == 446
    assert response.json()["error"]["type"] == "hooks_failed"
    assert response.json()["hook_results"]["before_request_hooks"][0]["verdict"] is False
    assert calls == []


async def test_a_failed_guardrail_without_deny_answers_246_with_hook_results() -> None:
    config = {"provider": "openai", "api_key": "sk-a", "input_guardrails": [NO_SECRET]}
    app = make_app(answer)
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "a secret"}]}
    async with client(app) as c:
        response = await c.post(
            "/v1/chat/completions", json=body, headers={"x-portkey-config": json.dumps(config)}
        )
    assert response.status_code == 246
    assert response.json()["choices"][0]["message"]["content"] == "hello"
    assert response.json()["hook_results"]["before_request_hooks"][0]["verdict"] is False


async def test_upstream_429_passes_with_retry_after() -> None:
    app = make_app(
        lambda r: httpx.Response(429, json={"error": {"message": "slow"}}, headers={"retry-after": "7"})
    )
    async with client(app) as c:
        response = await c.post("/v1/chat/completions", json=BODY, headers=OPENAI)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json()["error"]["type"] == "rate_limit_error"


async def test_a_limiter_refusal_is_429_before_any_upstream_call() -> None:
    calls: list[int] = []
    limiter = RecordingLimiter(refuse=LimitExceededError("requests per minute exceeded", retry_after=12))
    app = make_app(lambda r: calls.append(1) or answer(r), limiter=limiter)
    async with client(app) as c:
        response = await c.post("/v1/chat/completions", json=BODY, headers=OPENAI)
    assert (response.status_code, response.headers["retry-after"], calls) == (429, "12", [])


@pytest.mark.parametrize(
    ("kwargs", "status", "param"),
    [
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, "body"),
        ({"content": b"\xff\xfe", "headers": {"content-type": "application/json"}}, 400, "body"),
        ({"json": [1, 2]}, 400, "body"),
        (
            {"content": b"model=x", "headers": {"content-type": "application/x-www-form-urlencoded"}},
            415,
            "content-type",
        ),
        ({"json": {"model": "gpt-4o", "messages": HI, "pad": "x" * 2000}}, 413, "body"),
        ({"json": {"model": "gpt-4o"}}, 400, "request.messages"),
        ({"json": BODY, "headers": {"x-portkey-config": "{nope"}}, 400, "x-portkey-config"),
        (
            {"json": BODY, "headers": {"x-portkey-config": '{"provider": "nope-ai"}'}},
            400,
            "x-portkey-config.provider",
        ),
        ({"json": BODY, "headers": {"x-portkey-metadata": "[1]"}}, 400, "x-portkey-metadata"),
        ({"json": BODY, "headers": {"x-portkey-request-timeout": "0"}}, 400, "x-portkey-request-timeout"),
    ],
)
async def test_bad_input_is_a_clear_4xx_naming_the_field(kwargs: dict, status: int, param: str) -> None:
    calls: list[int] = []
    app = make_app(lambda r: calls.append(1) or answer(r), max_body_bytes=1000)
    headers = {**OPENAI, **kwargs.pop("headers", {})}
    async with client(app) as c:
        response = await c.post("/v1/chat/completions", headers=headers, **kwargs)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["param"] == param, error
    assert error["message"]
    assert calls == []


async def test_unknown_saved_config_is_404_and_the_hook_resolves_known_ones() -> None:
    async def saved(config_id: str, principal: Principal):
        return {"provider": "openai", "api_key": "sk-saved"} if config_id == "pc-known" else None

    seen: list[httpx.Request] = []
    app = make_app(lambda r: seen.append(r) or answer(r), saved_configs=saved)
    async with client(app) as c:
        unknown = await c.post("/v1/chat/completions", json=BODY, headers={"x-portkey-config": "pc-nope"})
        known = await c.post("/v1/chat/completions", json=BODY, headers={"x-portkey-config": "pc-known"})
    assert unknown.status_code == 404
    assert "pc-nope" in unknown.json()["error"]["message"]
    assert known.status_code == 200
    assert seen[0].headers["authorization"] == "Bearer sk-saved"


async def test_a_private_custom_host_in_a_config_is_refused_naming_its_path() -> None:
    calls: list[int] = []
    config = {
        "strategy": {"mode": "fallback"},
        "targets": [{"provider": "openai", "custom_host": "http://10.0.0.9/v1"}],
    }
    app = make_app(lambda r: calls.append(1) or answer(r))
    async with client(app) as c:
        response = await c.post(
            "/v1/chat/completions", json=BODY, headers={"x-portkey-config": json.dumps(config)}
        )
        header = await c.post(
            "/v1/chat/completions",
            json=BODY,
            headers={**OPENAI, "x-portkey-custom-host": "http://[fd00::1]:80/v1"},
        )
    assert response.status_code == 403
    assert response.json()["error"]["param"] == "x-portkey-config.targets[0].custom_host"
    assert header.status_code == 403
    assert header.json()["error"]["param"] == "x-portkey-custom-host"
    assert calls == []


async def test_a_loopback_custom_host_is_allowed_for_local_models() -> None:
    seen: list[httpx.Request] = []
    app = make_app(lambda r: seen.append(r) or answer(r))
    headers = {"x-portkey-provider": "openai", "x-portkey-custom-host": "http://127.0.0.1:9999/v1"}
    async with client(app) as c:
        response = await c.post("/v1/chat/completions", json=BODY, headers=headers)
    assert response.status_code == 200
    assert str(seen[0].url) == "http://127.0.0.1:9999/v1/chat/completions"


async def test_a_model_slug_routes_to_that_provider_with_its_model_name() -> None:
    seen: list[httpx.Request] = []
    app = make_app(lambda r: seen.append(r) or answer(r), env={"OPENAI_API_KEY": "sk-env"})
    async with client(app) as c:
        response = await c.post("/v1/chat/completions", json={"model": "@openai/gpt-4o-mini", "messages": HI})
    assert response.status_code == 200
    assert json.loads(seen[0].content)["model"] == "gpt-4o-mini"
    assert seen[0].headers["authorization"] == "Bearer sk-env"


async def test_without_a_route_the_default_config_answers() -> None:
    seen: list[httpx.Request] = []
    app = make_app(
        lambda r: seen.append(r) or answer(r), default_config={"provider": "openai", "api_key": "sk-default"}
    )
    async with client(app) as c:
        response = await c.post("/v1/chat/completions", json=BODY)
    assert response.status_code == 200
    assert seen[0].headers["authorization"] == "Bearer sk-default"


async def test_secrets_never_appear_in_responses_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        key = request.headers["authorization"]
        return httpx.Response(401, json={"error": {"message": f"Incorrect API key provided: {key}"}})

    app = make_app(echo)
    async with client(app) as c:
        responses = [
            await c.post("/v1/chat/completions", json=BODY, headers=OPENAI),
            await c.post("/v1/chat/completions", json={**BODY, "stream": True}, headers=OPENAI),
            await c.post("/v1/chat/completions", json=BODY, headers={**OPENAI, "x-portkey-config": "{bad"}),
        ]
        exposition = await c.get("/metrics")  # telemetry (issue 18): metric labels
    for response in responses:
        assert "canary" not in response.text
        assert "canary" not in str(response.headers)
    assert "canary" not in caplog.text
    assert "canary" not in "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert "canary" not in exposition.text
    assert "canary" not in repr(app.state.server.pool._gateways)


async def test_authenticator_seam_refuses_and_passes_principal() -> None:
    class Keys:
        def claims(self, token: str) -> bool:
            return token.startswith("spk-")

        async def authenticate(self, headers) -> Principal:
            if headers.get("x-portkey-api-key") != "spk-good":
                raise UnauthorizedError("unknown gateway key")
            return Principal("k1", "team-a")

    seen: list[httpx.Request] = []
    app = make_app(lambda r: seen.append(r) or answer(r), authenticator=Keys())
    async with client(app) as c:
        refused = await c.post("/v1/chat/completions", json=BODY, headers=OPENAI)
        served = await c.post(
            "/v1/chat/completions", json=BODY, headers={**OPENAI, "x-portkey-api-key": "spk-good"}
        )
        models = await c.get("/v1/models")
    assert refused.status_code == 401
    assert refused.json()["error"]["type"] == "authentication_error"
    assert served.status_code == 200
    assert seen[0].headers["authorization"] == "Bearer sk-canary-provider-7788"
    assert models.status_code == 401


def test_the_app_needs_an_authenticator_or_explicit_no_auth() -> None:
    with pytest.raises(ConfigurationError, match="authenticator"):
        create_app(ServerSettings(env={}, open_store=False))


async def test_health_and_unknown_routes() -> None:
    app = make_app(answer)
    async with client(app) as c:
        live = await c.get("/health/live")
        ready = await c.get("/health/ready")
        missing = await c.get("/v1/nope")
        wrong_method = await c.get("/v1/chat/completions")
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert ready.status_code == 200
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "not_found_error"
    assert wrong_method.status_code == 405
