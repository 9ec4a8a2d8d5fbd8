"""Each adapter's embeddings wire format (OpenAI-compatible, Portkey, Azure, Gemini, Bedrock)."""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

import pytest

from strands_portkey.embeddings import EmbeddingRequest
from strands_portkey.errors import InvalidRequestError, MalformedResponseError
from strands_portkey.providers import get_adapter
from strands_portkey.providers.anthropic import AnthropicAdapter
from strands_portkey.providers.azure import AzureOpenAIAdapter
from strands_portkey.providers.base import Target, embedding_adapter
from strands_portkey.providers.bedrock import BedrockAdapter
from strands_portkey.providers.gemini import GeminiAdapter
from strands_portkey.providers.portkey import PortkeyAdapter
from strands_portkey.wire import HttpResponse, Secret


def embed_request(**body: Any) -> EmbeddingRequest:
    return EmbeddingRequest.from_body({"model": "text-embedding-3-small", "input": ["a", "b"], **body})


def answer(payload: object) -> HttpResponse:
    return HttpResponse(200, {"content-type": "application/json"}, json.dumps(payload).encode())


OPENAI_ANSWER = {
    "object": "list",
    "data": [
        {"object": "embedding", "index": 1, "embedding": [0.3, 0.4]},
        {"object": "embedding", "index": 0, "embedding": [0.1, 0.2]},
    ],
    "model": "text-embedding-3-small",
    "usage": {"prompt_tokens": 2, "total_tokens": 2},
}


def test_openai_compatible_hosts_post_to_embeddings_asking_for_floats() -> None:
    adapter = get_adapter("openai")
    target = Target("openai", "https://api.openai.com/v1", Secret("sk-canary-1"))
    http = adapter.build_embedding_request(embed_request(encoding_format="base64", dimensions=2), target)  # type: ignore[attr-defined]
    assert (http.method, http.url) == ("POST", "https://api.openai.com/v1/embeddings")
    assert http.headers["authorization"] == "Bearer sk-canary-1"
    assert http.json == {
        "model": "text-embedding-3-small",
        "input": ["a", "b"],
        "encoding_format": "float",
        "dimensions": 2,
    }
    assert "sk-canary-1" in http.secrets
    assert "canary" not in repr(http)


def test_openai_answer_is_put_in_input_order_with_usage() -> None:
    response = get_adapter("groq").parse_embedding_response(answer(OPENAI_ANSWER), embed_request())  # type: ignore[attr-defined]
    assert response.embeddings == [[0.1, 0.2], [0.3, 0.4]]
    assert (response.usage.prompt_tokens, response.usage.total_tokens) == (2, 2)
    assert response.model == "text-embedding-3-small"


def test_openai_answer_in_base64_is_decoded() -> None:
    packed = base64.b64encode(struct.pack("<2f", 0.5, 1.5)).decode()
    payload = {"data": [{"index": 0, "embedding": packed}], "model": "m", "usage": {"prompt_tokens": 1}}
    request = EmbeddingRequest.from_body({"model": "m", "input": "x"})
    response = get_adapter("openai").parse_embedding_response(answer(payload), request)  # type: ignore[attr-defined]
    assert response.embeddings == [[0.5, 1.5]]
    assert response.usage.total_tokens == 1


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        ({"object": "list"}, "without a 'data' list"),
        ({"data": [{"index": 0, "embedding": ["x"]}, {"index": 1, "embedding": [1]}]}, "unexpected shape"),
        ({"data": [{"index": 0, "embedding": [1.0]}]}, "1 embeddings for 2 inputs"),
    ],
)
def test_openai_answers_of_unexpected_shape(payload, match) -> None:
    with pytest.raises(MalformedResponseError, match=match):
        get_adapter("openai").parse_embedding_response(answer(payload), embed_request())  # type: ignore[attr-defined]


def test_portkey_forwards_trace_and_metadata_headers() -> None:
    target = Target("portkey", "http://127.0.0.1:8787/v1", Secret("pk-canary"))
    http = PortkeyAdapter().build_embedding_request(
        embed_request(), target, trace_id="t-9", metadata={"team": "a"}
    )
    assert http.url == "http://127.0.0.1:8787/v1/embeddings"
    assert http.headers["x-portkey-trace-id"] == "t-9"
    assert json.loads(http.headers["x-portkey-metadata"]) == {"team": "a"}


def test_azure_embedding_deployment_url() -> None:
    adapter = AzureOpenAIAdapter()
    target = adapter.prepare_target(
        Target(
            "azure-openai",
            "",
            Secret("az-canary"),
            {},
            {"azure_resource_name": "res", "azure_deployment_id": "emb"},
        ),
        {},
    )
    http = adapter.build_embedding_request(embed_request(), target)
    assert http.url == "https://res.openai.azure.com/openai/deployments/emb/embeddings?api-version=2024-10-21"
    assert http.headers["api-key"] == "az-canary"
    assert http.json["encoding_format"] == "float"
    assert adapter.parse_embedding_response(answer(OPENAI_ANSWER), embed_request()).embeddings[1] == [
        0.3,
        0.4,
    ]


def test_gemini_batch_embed_contents() -> None:
    adapter = GeminiAdapter()
    target = Target("google", "", Secret("gm-canary"))
    request = EmbeddingRequest.from_body(
        {
            "model": "gemini-embedding-001",
            "input": ["a", "b"],
            "dimensions": 3,
            "task_type": "RETRIEVAL_QUERY",
        }
    )
    http = adapter.build_embedding_request(request, target)
    assert (
        http.url
        == "https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:batchEmbedContents"
    )
    assert http.headers["x-goog-api-key"] == "gm-canary"
    item = {"model": "models/gemini-embedding-001", "outputDimensionality": 3, "taskType": "RETRIEVAL_QUERY"}
    assert http.json == {
        "requests": [
            {**item, "content": {"parts": [{"text": "a"}]}},
            {**item, "content": {"parts": [{"text": "b"}]}},
        ]
    }
    parsed = adapter.parse_embedding_response(
        answer({"embeddings": [{"values": [1, 2, 3]}, {"values": [4, 5, 6]}]}), request
    )
    assert parsed.embeddings == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert parsed.model == "gemini-embedding-001"
    with pytest.raises(InvalidRequestError, match="text only"):
        adapter.build_embedding_request(EmbeddingRequest.from_body({"model": "g", "input": [1, 2]}), target)


BEDROCK_TARGET = Target(
    "bedrock",
    "https://bedrock-runtime.us-east-1.amazonaws.com",
    Secret("br-canary"),
    {},
    {"aws_region": "us-east-1"},
)


def test_bedrock_titan_invoke_model() -> None:
    adapter = BedrockAdapter()
    request = EmbeddingRequest.from_body(
        {"model": "amazon.titan-embed-text-v2:0", "input": "hello", "dimensions": 256}
    )
    http = adapter.build_embedding_request(request, BEDROCK_TARGET)
    assert (
        http.url
        == "https://bedrock-runtime.us-east-1.amazonaws.com/model/amazon.titan-embed-text-v2%3A0/invoke"
    )
    assert http.json == {"inputText": "hello", "dimensions": 256}
    assert http.headers["authorization"] == "Bearer br-canary"
    parsed = adapter.parse_embedding_response(
        answer({"embedding": [0.5, 0.25], "inputTextTokenCount": 3}), request
    )
    assert parsed.embeddings == [[0.5, 0.25]]
    assert (parsed.usage.prompt_tokens, parsed.usage.total_tokens) == (3, 3)
    with pytest.raises(InvalidRequestError, match="one text per request"):
        adapter.build_embedding_request(
            EmbeddingRequest.from_body({"model": "amazon.titan-embed-text-v2:0", "input": ["a", "b"]}),
            BEDROCK_TARGET,
        )


def test_bedrock_cohere_invoke_model() -> None:
    adapter = BedrockAdapter()
    request = EmbeddingRequest.from_body(
        {"model": "cohere.embed-english-v3", "input": ["a", "b"], "input_type": "search_query"}
    )
    http = adapter.build_embedding_request(request, BEDROCK_TARGET)
    assert http.json == {"texts": ["a", "b"], "input_type": "search_query"}
    parsed = adapter.parse_embedding_response(
        answer({"id": "x", "embeddings": [[1.0], [2.0]], "texts": ["a", "b"]}), request
    )
    assert parsed.embeddings == [[1.0], [2.0]]
    typed = adapter.parse_embedding_response(answer({"embeddings": {"float": [[3.0], [4.0]]}}), request)
    assert typed.embeddings == [[3.0], [4.0]]
    with pytest.raises(InvalidRequestError, match="no Bedrock embedding format"):
        adapter.build_embedding_request(
            EmbeddingRequest.from_body({"model": "anthropic.claude", "input": "a"}), BEDROCK_TARGET
        )


def test_which_adapters_offer_embeddings() -> None:
    assert embedding_adapter(AnthropicAdapter()) is None
    for provider in ("openai", "groq", "azure-openai", "google", "bedrock", "portkey", "ollama"):
        assert embedding_adapter(get_adapter(provider)) is not None, provider
