"""Embeddings wire formats: OpenAI's ``/embeddings``, Gemini's ``batchEmbedContents``, Bedrock's models.

Pure translation, shared by the adapters that offer embeddings (OpenAI-compatible hosts, Azure
OpenAI and Portkey use the OpenAI format; Gemini and Bedrock their own). Upstreams are always
asked for floats; an answer of unexpected shape is a
:class:`~strands_portkey.errors.MalformedResponseError` naming the provider.
"""

from __future__ import annotations

import base64
import sys
from array import array
from collections.abc import Mapping
from typing import Any, Protocol

from ..embeddings import EmbeddingRequest, EmbeddingResponse
from ..errors import GatewayError, InvalidRequestError
from ..types import Usage
from ..wire import HttpRequest, HttpResponse
from ._convert import decode_json_body, token_count, unexpected
from ._errors import classify_in_band_error
from ._headers import secret_header_values
from .base import Target

__all__ = [
    "OpenAIEmbeddings",
    "bedrock_embedding_body",
    "gemini_embedding_body",
    "openai_embedding_body",
    "parse_bedrock_embeddings",
    "parse_gemini_embeddings",
    "parse_openai_embeddings",
    "text_inputs",
]


def text_inputs(provider: str, request: EmbeddingRequest) -> list[str]:
    """The inputs as texts; token-id inputs are OpenAI's alone, refused for native providers."""
    texts = request.texts
    if texts is None:
        raise InvalidRequestError(f"{provider} embeds text only, not token ids", path="input")
    return texts


def _vector(value: object) -> list[float]:
    """A vector from floats, or from OpenAI's base64 (a host that ignored ``encoding_format``)."""
    if isinstance(value, str):
        packed = array("f")
        packed.frombytes(base64.b64decode(value))
        if sys.byteorder == "big":  # pragma: no cover
            packed.byteswap()
        return packed.tolist()
    if not isinstance(value, list) or not all(
        isinstance(x, (int, float)) and not isinstance(x, bool) for x in value
    ):
        raise TypeError("an embedding must be a list of numbers")
    return [float(x) for x in value]


def _shape(provider: str, exc: Exception, raw: bytes) -> GatewayError:
    return unexpected(provider, f"an embeddings answer of unexpected shape ({exc!r})", raw)


def _checked_count(provider: str, vectors: list[list[float]], request: EmbeddingRequest, raw: bytes) -> None:
    if len(vectors) != len(request.inputs):
        raise unexpected(provider, f"{len(vectors)} embeddings for {len(request.inputs)} inputs", raw)


# --------------------------------------------------------------------------- OpenAI


def openai_embedding_body(request: EmbeddingRequest) -> dict[str, Any]:
    """OpenAI's body, asking for floats (``base64`` is encoded by the gateway for the caller)."""
    body = request.to_body()
    body["encoding_format"] = "float"
    return body


def parse_openai_embeddings(
    provider: str, response: HttpResponse, request: EmbeddingRequest
) -> EmbeddingResponse:
    """OpenAI's ``{"data": [{"index", "embedding"}], "model", "usage"}``, ordered by ``index``."""
    payload = decode_json_body(provider, response.content)
    data = payload.get("data")
    if not isinstance(data, list):
        if payload.get("error"):
            raise classify_in_band_error(provider, payload)
        raise unexpected(provider, "an embeddings answer without a 'data' list", response.content)
    try:
        ordered = sorted(data, key=lambda item: item.get("index", 0))
        vectors = [_vector(item["embedding"]) for item in ordered]
        usage = payload.get("usage") or {}
        prompt = token_count(usage.get("prompt_tokens"))
        total = token_count(usage.get("total_tokens")) or prompt
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise _shape(provider, exc, response.content) from None
    _checked_count(provider, vectors, request, response.content)
    model = payload.get("model")
    return EmbeddingResponse(
        model=model if isinstance(model, str) and model else request.model,
        embeddings=vectors,
        usage=Usage(prompt_tokens=prompt, total_tokens=total),
    )


class _OpenAIHost(Protocol):
    name: str

    def base_url(self, target: Target) -> str: ...

    def request_headers(
        self,
        request: EmbeddingRequest,
        target: Target,
        *,
        trace_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> dict[str, str]: ...


class OpenAIEmbeddings:
    """``POST {base_url}/embeddings`` for the OpenAI-format adapters (mixed into the compatible one)."""

    __slots__ = ()

    def build_embedding_request(
        self: _OpenAIHost,
        request: EmbeddingRequest,
        target: Target,
        *,
        trace_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> HttpRequest:
        """OpenAI's body (floats asked for) with the adapter's own headers (key, Portkey's...)."""
        headers = self.request_headers(request, target, trace_id=trace_id, metadata=metadata)
        return HttpRequest(
            method="POST",
            url=f"{self.base_url(target)}/embeddings",
            headers=headers,
            json=openai_embedding_body(request),
            secrets=secret_header_values(headers),
        )

    def parse_embedding_response(
        self: _OpenAIHost, response: HttpResponse, request: EmbeddingRequest
    ) -> EmbeddingResponse:
        """Parse OpenAI's embeddings ``list``."""
        return parse_openai_embeddings(self.name, response, request)


# --------------------------------------------------------------------------- Gemini


def gemini_embedding_body(provider: str, request: EmbeddingRequest) -> dict[str, Any]:
    """``batchEmbedContents``: one ``EmbedContentRequest`` per input (``outputDimensionality``)."""
    model = f"models/{request.model.removeprefix('models/')}"
    task = request.params.get("task_type")
    requests = []
    for text in text_inputs(provider, request):
        item: dict[str, Any] = {"model": model, "content": {"parts": [{"text": text}]}}
        if request.dimensions is not None:
            item["outputDimensionality"] = request.dimensions
        if isinstance(task, str):
            item["taskType"] = task
        requests.append(item)
    return {"requests": requests}


def parse_gemini_embeddings(
    provider: str, response: HttpResponse, request: EmbeddingRequest
) -> EmbeddingResponse:
    """``{"embeddings": [{"values": [...]}]}`` in input order (Gemini reports no token counts)."""
    payload = decode_json_body(provider, response.content)
    if payload.get("error"):
        raise classify_in_band_error(provider, payload)
    try:
        vectors = [_vector(item["values"]) for item in payload["embeddings"]]
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise _shape(provider, exc, response.content) from None
    _checked_count(provider, vectors, request, response.content)
    return EmbeddingResponse(model=request.model, embeddings=vectors)


# --------------------------------------------------------------------------- Bedrock


def _is_titan(model: str) -> bool:
    return "titan-embed" in model


def bedrock_embedding_body(provider: str, request: EmbeddingRequest) -> dict[str, Any]:
    """InvokeModel bodies: Titan Text Embeddings (one text) or Cohere Embed (a list of texts)."""
    texts = text_inputs(provider, request)
    if _is_titan(request.model):
        if len(texts) != 1:
            raise InvalidRequestError(
                f"Titan embedding models embed one text per request, got {len(texts)}: send them one by one",
                path="input",
            )
        body: dict[str, Any] = {"inputText": texts[0]}
        if request.dimensions is not None:
            body["dimensions"] = request.dimensions
        return body
    if "cohere.embed" in request.model:
        input_type = request.params.get("input_type")
        kind = input_type if isinstance(input_type, str) else "search_document"
        return {"texts": texts, "input_type": kind}
    raise InvalidRequestError(
        f"no Bedrock embedding format known for model {request.model!r} (Titan Text Embeddings "
        "'amazon.titan-embed-*' and Cohere Embed 'cohere.embed-*' are)",
        path="model",
    )


def parse_bedrock_embeddings(
    provider: str, response: HttpResponse, request: EmbeddingRequest
) -> EmbeddingResponse:
    """Titan's ``{"embedding", "inputTextTokenCount"}`` or Cohere's ``{"embeddings": [[...]]}``."""
    payload = decode_json_body(provider, response.content)
    try:
        if _is_titan(request.model):
            vectors = [_vector(payload["embedding"])]
            tokens = token_count(payload.get("inputTextTokenCount"))
        else:
            embeddings = payload["embeddings"]
            if isinstance(embeddings, Mapping):  # Cohere's "embedding_types" answer: {"float": [...]}
                embeddings = embeddings["float"]
            vectors = [_vector(vector) for vector in embeddings]
            tokens = 0
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise _shape(provider, exc, response.content) from None
    _checked_count(provider, vectors, request, response.content)
    return EmbeddingResponse(model=request.model, embeddings=vectors, usage=Usage(tokens, 0, tokens))
