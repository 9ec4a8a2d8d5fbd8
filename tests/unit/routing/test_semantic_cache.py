"""The semantic cache through the gateway, with the real MiniLM int8 embedder (the [semantic] extra)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from strands.event_loop.streaming import process_stream

from strands_portkey import Gateway, PortkeyModel
from strands_portkey.cache.embedders import MiniLMEmbedder, OpenAIEmbedder
from strands_portkey.cache.semantic import SemanticSettings
from strands_portkey.cache.sqlite import SQLiteStore
from strands_portkey.errors import ServerError

from .conftest import Hosts, target

Make = Callable[..., Gateway]

QUESTION = "What is the capital of France?"
PARAPHRASE = "Which city is France's capital?"
NEAR_MISS = "What is the capital of Germany?"


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    """One real embedder for the module (loading it takes ~0.4 s)."""
    embedder = MiniLMEmbedder()
    embedder.embed_sync(["warm up"])
    return embedder


def body(question: str, *, system: str = "You answer in one word.", **params: Any) -> dict[str, Any]:
    return {
        "model": "m",
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": question}],
        **params,
    }


def semantic(url: str) -> dict[str, Any]:
    return target(url, cache={"mode": "semantic", "max_age": 600})


@pytest.fixture
def make(gateway: Make, minilm: MiniLMEmbedder) -> Make:
    def build(config: dict[str, Any], **kwargs: Any) -> Gateway:
        kwargs.setdefault("semantic_cache", SemanticSettings(embedder=minilm))
        return gateway(config, **kwargs)

    return build


def status(response: Any) -> str:
    assert response.route is not None
    return str(response.route.cache_status)


@pytest.mark.parametrize(
    "near_miss",
    [NEAR_MISS, "What is the capital of France in 1800?", "What is the population of France?"],
)
async def test_near_misses_are_not_hits(make: Make, hosts: Hosts, near_miss: str) -> None:
    gw = make(semantic(hosts.script("a")))
    await gw.chat(body(QUESTION))
    assert status(await gw.chat(body(near_miss))) == "SEMANTIC MISS"
    assert hosts.calls == ["a", "a"]


async def test_a_paraphrase_is_a_semantic_hit_and_a_near_miss_is_not(make: Make, hosts: Hosts) -> None:
    gw = make(semantic(hosts.script("a")))
    first = await gw.chat(body(QUESTION))
    paraphrase = await gw.chat(body(PARAPHRASE))
    exact = await gw.chat(body(QUESTION))
    near_miss = await gw.chat(body(NEAR_MISS))
    assert [status(r) for r in (first, paraphrase, exact, near_miss)] == [
        "SEMANTIC MISS",
        "SEMANTIC HIT",
        "HIT",
        "SEMANTIC MISS",
    ]
    assert hosts.calls == ["a", "a"]
    assert paraphrase.text == first.text
    assert paraphrase.route is not None
    assert paraphrase.route.attempts == []
    assert paraphrase.route.last_used_option_index == "config"


@pytest.mark.parametrize(
    "other",
    [
        body(PARAPHRASE, system="You answer in French."),
        body(PARAPHRASE, temperature=0.9),
        {**body(PARAPHRASE), "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]},
        {"model": "other", "messages": body(PARAPHRASE)["messages"]},
    ],
    ids=["system prompt", "params", "tools", "model"],
)
async def test_everything_but_the_last_user_turn_must_match_exactly(
    make: Make, hosts: Hosts, other: dict[str, Any]
) -> None:
    gw = make(semantic(hosts.script("a")))
    await gw.chat(body(QUESTION))
    assert status(await gw.chat(other)) == "SEMANTIC MISS"
    assert hosts.calls == ["a", "a"]


async def test_earlier_turns_must_match_and_long_conversations_are_exact_only(
    make: Make, hosts: Hosts
) -> None:
    gw = make(semantic(hosts.script("a")))

    def conversation(turns: int, question: str, earlier: str = "Hello") -> dict[str, Any]:
        messages: list[dict[str, Any]] = []
        for i in range(turns):
            messages += [
                {"role": "user", "content": f"{earlier} {i}"},
                {"role": "assistant", "content": "ok"},
            ]
        return {"model": "m", "messages": [*messages, {"role": "user", "content": question}]}

    await gw.chat(conversation(1, QUESTION))
    assert status(await gw.chat(conversation(1, PARAPHRASE))) == "SEMANTIC HIT"
    assert status(await gw.chat(conversation(1, PARAPHRASE, earlier="Bonjour"))) == "SEMANTIC MISS"
    await gw.chat(conversation(3, QUESTION))  # 6 earlier messages > max_context_messages=4
    assert status(await gw.chat(conversation(3, PARAPHRASE))) == "MISS"
    assert status(await gw.chat(conversation(3, QUESTION))) == "HIT"


async def test_a_streamed_request_gets_a_semantic_hit_replayed_as_a_stream(make: Make, hosts: Hosts) -> None:
    gw = make(semantic(hosts.script("a")))
    async with gw.stream(body(QUESTION)) as live:
        [c async for c in live]
    async with gw.stream(body(PARAPHRASE)) as replay:
        chunks = [c async for c in replay]
    assert replay.route.cache_status == "SEMANTIC HIT"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "a-0a-1"
    assert hosts.calls == ["a"]


async def test_portkey_model_gets_semantic_hits_too(hosts: Hosts, minilm: MiniLMEmbedder) -> None:
    gw = Gateway(
        semantic(hosts.script("a")),
        transport=hosts.transport,
        semantic_cache=SemanticSettings(embedder=minilm),
    )
    model = PortkeyModel(gateway=gw, model_id="m")

    async def final(question: str) -> Any:
        stop: Any = None
        async for event in process_stream(model.stream([{"role": "user", "content": [{"text": question}]}])):
            stop = event.get("stop", stop)
        return stop[1]

    live = await final(QUESTION)
    replay = await final(PARAPHRASE)
    assert model.last_route is not None
    assert model.last_route.cache_status == "SEMANTIC HIT"
    assert replay == live
    assert hosts.calls == ["a"]


async def test_controls_bypass_refresh_and_namespace_apply_to_semantic_matches(
    make: Make, hosts: Hosts
) -> None:
    gw = make(semantic(hosts.script("a")))
    await gw.chat(body(QUESTION), cache_namespace="team-a")
    assert status(await gw.chat(body(PARAPHRASE), cache_namespace="team-b")) == "SEMANTIC MISS"
    assert status(await gw.chat(body(PARAPHRASE), cache_namespace="team-a", cache_bypass=True)) == "DISABLED"
    assert status(await gw.chat(body(PARAPHRASE), cache_namespace="team-a")) == "SEMANTIC HIT"
    assert (
        status(await gw.chat(body(PARAPHRASE), cache_namespace="team-a", cache_force_refresh=True))
        == "REFRESH"
    )
    assert (
        status(await gw.chat(body(PARAPHRASE), cache_namespace="team-a")) == "HIT"
    )  # the refresh was stored
    assert hosts.calls == ["a", "a", "a", "a"]


async def test_a_failure_is_never_stored_for_semantic_matches(make: Make, hosts: Hosts) -> None:
    gw = make(semantic(hosts.script("a", 500, 200)))
    with pytest.raises(ServerError):
        await gw.chat(body(QUESTION))
    assert status(await gw.chat(body(PARAPHRASE))) == "SEMANTIC MISS"


async def test_the_threshold_is_configurable(gateway: Make, hosts: Hosts, minilm: MiniLMEmbedder) -> None:
    """A weaker paraphrase (cosine ~0.83) misses at the default 0.90 and hits at 0.80."""
    default = gateway(semantic(hosts.script("a")), semantic_cache=SemanticSettings(embedder=minilm))
    lenient = gateway(
        semantic(hosts.script("a")), semantic_cache=SemanticSettings(embedder=minilm, threshold=0.8)
    )
    for gw in (default, lenient):
        await gw.chat(body("What is the speed of light?"))
    assert status(await default.chat(body("How fast does light travel?"))) == "SEMANTIC MISS"
    assert status(await lenient.chat(body("How fast does light travel?"))) == "SEMANTIC HIT"
    with pytest.raises(ValueError, match="threshold"):
        SemanticSettings(threshold=1.5)


async def test_an_embedder_that_fails_to_load_leaves_an_exact_cache_and_logs_once(
    gateway: Make, hosts: Hosts, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    broken = MiniLMEmbedder(model_path=tmp_path / "missing.onnx")
    gw = gateway(semantic(hosts.script("a")), semantic_cache=SemanticSettings(embedder=broken))
    with caplog.at_level(logging.WARNING, logger="strands_portkey.cache"):
        statuses = [status(await gw.chat(body(q))) for q in (QUESTION, PARAPHRASE, QUESTION)]
    assert statuses == ["MISS", "MISS", "HIT"]
    assert hosts.calls == ["a", "a"]
    assert len(caplog.records) == 1
    assert "embedder unavailable" in caplog.records[0].getMessage()


async def test_two_gateways_share_semantic_entries_through_one_sqlite_file(
    hosts: Hosts, tmp_path: Any, minilm: MiniLMEmbedder
) -> None:
    config = semantic(hosts.script("a"))
    settings = SemanticSettings(embedder=minilm)

    def gateway() -> Gateway:
        store = SQLiteStore(tmp_path / "c.db")
        return Gateway(config, transport=hosts.transport, cache_store=store, semantic_cache=settings)

    writer, reader = gateway(), gateway()
    await reader.chat(body(NEAR_MISS))  # the reader has synced this scope before the write
    await writer.chat(body(QUESTION))
    assert status(await reader.chat(body(PARAPHRASE))) == "SEMANTIC HIT"
    assert hosts.calls == ["a", "a"]


async def test_an_openai_compatible_embeddings_endpoint_is_called_through_the_gateway_transport(
    hosts: Hosts, minilm: MiniLMEmbedder
) -> None:
    """The endpoint answers with real MiniLM vectors; the embedder's request goes over the test transport."""
    seen: list[httpx.Request] = []

    async def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "embed":
            seen.append(request)
            texts = json.loads(request.content)["input"]
            vectors = minilm.embed_sync(texts)
            data = [{"index": i, "embedding": [float(x) for x in v]} for i, v in enumerate(vectors)]
            return httpx.Response(200, json={"data": data, "model": "e"})
        return await hosts.handle(request)

    embedder = OpenAIEmbedder("http://embed/v1", "e", api_key="sk-embed-canary")
    gw = Gateway(
        semantic(hosts.script("a")),
        transport=httpx.MockTransport(handle),
        semantic_cache=SemanticSettings(embedder=embedder),
    )
    await gw.chat(body(QUESTION))
    assert status(await gw.chat(body(PARAPHRASE))) == "SEMANTIC HIT"
    assert hosts.calls == ["a"]
    assert seen[0].url.path == "/v1/embeddings"
    assert seen[0].headers["authorization"] == "Bearer sk-embed-canary"
    assert "sk-embed-canary" not in repr(embedder)
    assert "sk-embed-canary" not in repr(gw)


@pytest.mark.parametrize(
    ("code", "content"),
    [
        (503, b'{"error": "down"}'),
        (200, b'{"data": ' + b"[" * 100_000),  # hostile: nested past the recursion limit
    ],
)
async def test_a_failing_embeddings_endpoint_serves_from_the_provider(
    hosts: Hosts, code: int, content: bytes
) -> None:
    async def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "embed":
            return httpx.Response(code, content=content)
        return await hosts.handle(request)

    gw = Gateway(
        semantic(hosts.script("a")),
        transport=httpx.MockTransport(handle),
        semantic_cache=SemanticSettings(embedder=OpenAIEmbedder("http://embed/v1", "e")),
    )
    responses = [await gw.chat(body(QUESTION)) for _ in range(2)]
    assert [status(r) for r in responses] == ["MISS", "HIT"]
    assert responses[0].text == "from a"


async def test_a_closed_sqlite_store_is_a_logged_miss_not_an_error(
    make: Make, hosts: Hosts, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    store = SQLiteStore(tmp_path / "c.db")
    store.close()
    gw = make(semantic(hosts.script("a")), cache_store=store)
    with caplog.at_level(logging.WARNING, logger="strands_portkey.cache"):
        responses = [await gw.chat(body(q)) for q in (QUESTION, PARAPHRASE)]
    assert [r.text for r in responses] == ["from a", "from a"]
    assert len(caplog.records) == 1
    assert "sqlite cache" in caplog.records[0].getMessage()


class CountingEmbedder:
    def __init__(self, inner: MiniLMEmbedder) -> None:
        self.inner = inner
        self.texts: list[str] = []
        self.name = inner.name

    async def embed(self, texts: Any) -> Any:
        self.texts += list(texts)
        return await self.inner.embed(texts)


async def test_the_leaves_of_a_fallback_embed_a_question_once(
    gateway: Make, hosts: Hosts, minilm: MiniLMEmbedder
) -> None:
    counting = CountingEmbedder(minilm)
    config = {
        "strategy": {"mode": "fallback"},
        "cache": {"mode": "semantic"},
        "targets": [target(hosts.script("a", 500)), target(hosts.script("b"))],
    }
    gw = gateway(config, semantic_cache=SemanticSettings(embedder=counting))
    first = await gw.chat(body(QUESTION))
    second = await gw.chat(body(PARAPHRASE))
    assert (first.text, status(second)) == ("from b", "SEMANTIC HIT")
    assert counting.texts == [QUESTION, PARAPHRASE]
    assert hosts.calls == ["a", "b", "a"]
