"""``Gateway.embed``: the same config machinery as chat (fallback, balance, conditions, retries, errors).

Ends with the real ``openai`` SDK parsing what ``EmbeddingResponse.to_dict()`` serialises.
"""

import json

import httpx
import openai
import pytest

from strands_portkey import Gateway
from strands_portkey.embeddings import EMBEDDINGS_UNSUPPORTED, EmbeddingRequest
from strands_portkey.errors import AuthenticationError, InvalidRequestError, ServerError

BODY = {"model": "text-embedding-3-small", "input": ["a", "b"]}
ENV: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path, monkeypatch) -> None:
    """Gateways here look for a control plane in a fresh, empty data directory (none is created)."""
    monkeypatch.setitem(ENV, "STRANDS_PORTKEY_HOME", str(tmp_path))


OPENAI = {"provider": "openai", "api_key": "sk-test-1234"}
ANTHROPIC = {"provider": "anthropic", "api_key": "sk-ant-test"}


def vectors(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
    data = [{"object": "embedding", "index": i, "embedding": [float(i), 0.5]} for i in range(len(texts))]
    return httpx.Response(
        200,
        json={
            "object": "list",
            "data": data,
            "model": body["model"],
            "usage": {"prompt_tokens": 4, "total_tokens": 4},
        },
    )


async def test_embed_sends_openai_embeddings_and_reports_the_route(upstream) -> None:
    up = upstream(vectors)
    gw = Gateway(OPENAI, transport=up.transport, env=ENV)
    response = await gw.embed(BODY, trace_id="t-e", metadata={"team": "x"})
    assert str(up.requests[0].url) == "https://api.openai.com/v1/embeddings"
    assert up.body() == {**BODY, "encoding_format": "float"}
    assert response.embeddings == [[0.0, 0.5], [1.0, 0.5]]
    assert response.usage.prompt_tokens == 4
    route = response.route
    assert route is not None
    assert (route.trace_id, route.provider, route.last_used_option_index, route.status_code) == (
        "t-e",
        "openai",
        "config",
        200,
    )
    assert route.cache_status == "DISABLED"


async def test_fallback_passes_over_a_provider_without_embeddings(upstream) -> None:
    up = upstream(vectors)
    config = {"strategy": {"mode": "fallback", "on_status_codes": [429]}, "targets": [ANTHROPIC, OPENAI]}
    response = await Gateway(config, transport=up.transport, env=ENV).embed(EmbeddingRequest.from_body(BODY))
    assert response.route is not None
    assert response.route.last_used_option_index == "config.targets[1]"
    assert [(a.provider, a.error_type) for a in response.route.attempts] == [
        ("anthropic", "InvalidRequestError"),
        ("openai", None),
    ]
    assert len(up.requests) == 1  # nothing was sent to Anthropic


async def test_only_targets_without_embeddings_is_a_clear_error(upstream) -> None:
    up = upstream(vectors)
    gw = Gateway({"strategy": {"mode": "fallback"}, "targets": [ANTHROPIC]}, transport=up.transport, env=ENV)
    with pytest.raises(InvalidRequestError, match="'anthropic' does not offer embeddings") as raised:
        await gw.embed(BODY)
    assert raised.value.code == EMBEDDINGS_UNSUPPORTED
    assert raised.value.route is not None
    assert raised.value.route.attempts[0].provider == "anthropic"


async def test_retry_then_fallback_on_upstream_errors(upstream) -> None:
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.host)
        if request.url.host == "api.openai.com":
            return httpx.Response(503, json={"error": {"message": "down"}})
        return vectors(request)

    async def no_sleep(_: float) -> None:
        return None

    config = {
        "strategy": {"mode": "fallback"},
        "targets": [
            {**OPENAI, "retry": {"attempts": 2}},
            {
                "provider": "groq",
                "api_key": "gsk-1",
                "override_params": {"model": "groq-embed", "temperature": 0.3},
            },
        ],
    }
    gw = Gateway(config, transport=upstream(answer).transport, env=ENV, sleep=no_sleep)
    response = await gw.embed(BODY)
    assert calls == ["api.openai.com"] * 3 + ["api.groq.com"]
    assert response.route is not None
    assert response.route.last_used_option_index == "config.targets[1]"
    assert response.model == "groq-embed"  # override_params.model applied, temperature not sent


async def test_overrides_reach_the_upstream_without_chat_params(upstream) -> None:
    up = upstream(vectors)
    config = {
        **OPENAI,
        "override_params": {"model": "text-embedding-3-large", "dimensions": 2, "max_tokens": 9},
    }
    await Gateway(config, transport=up.transport, env=ENV).embed(BODY)
    assert up.body() == {
        "model": "text-embedding-3-large",
        "input": ["a", "b"],
        "dimensions": 2,
        "encoding_format": "float",
    }


async def test_conditional_and_loadbalance_route_embeddings(upstream) -> None:
    up = upstream(vectors)
    config = {
        "strategy": {
            "mode": "conditional",
            "conditions": [{"query": {"url.pathname": {"$eq": "/v1/embeddings"}}, "then": "emb"}],
            "default": "chat",
        },
        "targets": [
            {"name": "chat", **ANTHROPIC},
            {"name": "emb", "strategy": {"mode": "loadbalance"}, "targets": [{**OPENAI, "weight": 1}]},
        ],
    }
    response = await Gateway(config, transport=up.transport, env=ENV).embed(BODY)
    assert response.route is not None
    assert response.route.last_used_option_index == "config.targets[1].targets[0]"


async def test_upstream_errors_are_mapped_and_carry_the_route(upstream) -> None:
    up = upstream(lambda r: httpx.Response(401, json={"error": {"message": "bad key sk-test-1234"}}))
    with pytest.raises(AuthenticationError) as raised:
        await Gateway(OPENAI, transport=up.transport, env=ENV).embed(BODY)
    assert "sk-test-1234" not in str(raised.value)
    assert raised.value.route is not None
    assert raised.value.route.status_code == 401
    up = upstream(lambda r: httpx.Response(500, json={"error": {"message": "boom"}}))
    with pytest.raises(ServerError):
        await Gateway(OPENAI, transport=up.transport, env=ENV).embed(BODY)


async def test_bad_requests_and_a_gateway_without_config() -> None:
    with pytest.raises(InvalidRequestError, match=r"request\.input"):
        await Gateway(OPENAI, env=ENV).embed({"model": "m"})
    with pytest.raises(InvalidRequestError, match="not a registered model"):
        await Gateway(env=ENV).embed(BODY)


# --------------------------------------------------------------------------- the openai SDK

try:  # the SDK's own HTTP library: httpx2 from openai 3 on, httpx before
    import httpx2 as sdk_http  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - older SDKs
    sdk_http = httpx


def sdk_client(gateway: Gateway) -> openai.AsyncOpenAI:
    """An OpenAI client whose HTTP goes to what the server's /v1/embeddings route will do."""

    async def route(request):
        assert request.url.path == "/v1/embeddings"
        response = await gateway.embed(json.loads(request.content))
        return sdk_http.Response(200, json=response.to_dict())

    transport = sdk_http.MockTransport(route)
    return openai.AsyncOpenAI(
        base_url="http://gateway.test/v1",
        api_key="x",
        max_retries=0,
        http_client=sdk_http.AsyncClient(transport=transport),
    )


@pytest.mark.parametrize("encoding_format", [None, "float", "base64"])
async def test_openai_sdk_parses_the_embeddings(upstream, encoding_format) -> None:
    up = upstream(vectors)
    client = sdk_client(Gateway(OPENAI, transport=up.transport, env=ENV))
    kwargs = {} if encoding_format is None else {"encoding_format": encoding_format}
    result = await client.embeddings.create(model="text-embedding-3-small", input=["a", "b"], **kwargs)
    if encoding_format == "base64":  # asked explicitly: the SDK hands the base64 text back as is
        assert all(isinstance(item.embedding, str) for item in result.data)
    else:  # default: the SDK asks for base64 itself and decodes it; or floats as sent
        assert [item.embedding for item in result.data] == [[0.0, 0.5], [1.0, 0.5]]
    assert [item.index for item in result.data] == [0, 1]
    assert (result.model, result.usage.prompt_tokens, result.usage.total_tokens) == (
        "text-embedding-3-small",
        4,
        4,
    )
    assert up.body()["encoding_format"] == "float"  # the upstream is always asked for floats
