"""Google Gemini's native API (``models/{model}:generateContent`` / ``:streamGenerateContent``).

Translation policies: ``system`` messages become ``systemInstruction``; the assistant is ``model``;
a ``tool`` message becomes a ``functionResponse`` part (named after the call it answers, found in
the history) in a user turn; consecutive turns of one role are merged, so the answers to parallel
calls travel together; images and documents must be inline (``inlineData``). Tools are declared
with ``parametersJsonSchema`` (full JSON Schema); ``tool_choice`` maps to ``functionCallingConfig``
(``AUTO`` / ``ANY`` / ``NONE``, a named tool as ``ANY`` + ``allowedFunctionNames``).
``response_format`` is native here: ``responseMimeType: application/json`` (+ ``responseJsonSchema``).
Sampling parameters go to ``generationConfig``; Gemini's own top-level fields (``safetySettings``,
``cachedContent``, ``generationConfig``...) pass through; other OpenAI-only fields are dropped.
Reasoning from history is not sent back (Gemini takes no thinking text in requests).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..embeddings import EmbeddingRequest, EmbeddingResponse
from ..errors import InvalidRequestError, UpstreamError
from ..messages import Message
from ..types import ChatRequest, ChatResponse, Choice, ResponseMessage, Usage
from ..wire import HttpRequest, HttpResponse, decode_json
from ._convert import (
    decode_json_body,
    max_tokens,
    parse_data_url,
    parts_of,
    response_schema,
    stop_sequences,
    tool_arguments,
    tool_names_by_id,
    tool_result_text,
    unexpected,
)
from ._embeddings import gemini_embedding_body, parse_gemini_embeddings
from ._errors import classify_error_response, classify_in_band_error
from ._gemini_parse import GeminiStreamParser, candidate_parts, finish_reason, gemini_usage
from ._headers import content_headers, merge_headers, secret_header_values
from .base import Target
from .openai_compat import HostSpec

__all__ = ["GEMINI_HOST", "GeminiAdapter"]

GEMINI_HOST = HostSpec(
    "google", "https://generativelanguage.googleapis.com/v1beta", "GEMINI_API_KEY", True, ("gemini",)
)
"""Registry row: the Gemini API (Portkey's provider id ``google``)."""

_GENERATION = {
    "temperature": "temperature",
    "top_p": "topP",
    "top_k": "topK",
    "seed": "seed",
    "n": "candidateCount",
    "presence_penalty": "presencePenalty",
    "frequency_penalty": "frequencyPenalty",
}
_PASS_THROUGH = frozenset({"safetySettings", "cachedContent", "labels"})
_CHOICE_MODES = {"auto": "AUTO", "required": "ANY", "none": "NONE"}


class GeminiAdapter:
    """The adapter for the Gemini API (API key in ``x-goog-api-key``)."""

    __slots__ = ("default_base_url", "name")

    def __init__(self, name: str = GEMINI_HOST.name, default_base_url: str = GEMINI_HOST.base_url) -> None:
        self.name = name
        self.default_base_url = default_base_url

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def prepare_target(self, target: Target, env: Mapping[str, str]) -> Target:
        """Nothing to derive: the key comes from the config or ``GEMINI_API_KEY``."""
        return target

    def build_request(
        self,
        request: ChatRequest,
        target: Target,
        *,
        trace_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> HttpRequest:
        """``POST {base}/models/{model}:generateContent`` (or ``:streamGenerateContent?alt=sse``)."""
        headers = content_headers(stream=request.stream)
        if target.api_key:
            headers["x-goog-api-key"] = target.api_key.reveal()
        merge_headers(headers, target.headers)
        model = request.model.removeprefix("models/")
        method = "streamGenerateContent?alt=sse" if request.stream else "generateContent"
        base_url = (target.base_url or self.default_base_url).rstrip("/")
        return HttpRequest(
            "POST",
            f"{base_url}/models/{model}:{method}",
            headers,
            request_body(request),
            secret_header_values(headers),
        )

    def parse_response(self, response: HttpResponse, request: ChatRequest) -> ChatResponse:
        """Parse a complete ``GenerateContentResponse``."""
        payload = decode_json_body(self.name, response.content)
        if payload.get("error"):
            raise classify_in_band_error(self.name, payload)
        if "candidates" not in payload and "promptFeedback" not in payload:
            raise unexpected(self.name, "an answer without 'candidates'", response.content)
        try:
            text, reasoning, calls, reason, _ = candidate_parts(payload)
            usage = payload.get("usageMetadata")
            message = ResponseMessage(content=text, tool_calls=tuple(calls), reasoning=reasoning)
            return ChatResponse(
                id=str(payload.get("responseId") or ""),
                model=str(payload.get("modelVersion") or request.model),
                choices=(Choice(0, message, finish_reason(reason, bool(calls)) or "stop"),),
                usage=gemini_usage(usage) if isinstance(usage, Mapping) else Usage(),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise unexpected(
                self.name, f"an answer of unexpected shape ({exc!r})", response.content
            ) from None

    def build_embedding_request(
        self,
        request: EmbeddingRequest,
        target: Target,
        *,
        trace_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> HttpRequest:
        """``POST {base}/models/{model}:batchEmbedContents``, one request per input."""
        headers = content_headers(stream=False)
        if target.api_key:
            headers["x-goog-api-key"] = target.api_key.reveal()
        merge_headers(headers, target.headers)
        model = request.model.removeprefix("models/")
        base_url = (target.base_url or self.default_base_url).rstrip("/")
        return HttpRequest(
            "POST",
            f"{base_url}/models/{model}:batchEmbedContents",
            headers,
            gemini_embedding_body(self.name, request),
            secret_header_values(headers),
        )

    def parse_embedding_response(
        self, response: HttpResponse, request: EmbeddingRequest
    ) -> EmbeddingResponse:
        """Parse ``BatchEmbedContentsResponse`` (no token counts: usage stays 0)."""
        return parse_gemini_embeddings(self.name, response, request)

    def stream_parser(self, request: ChatRequest) -> GeminiStreamParser:
        """Return a fresh parser for one streamed response."""
        return GeminiStreamParser(self.name, request.model)

    def map_error(
        self, status_code: int, headers: Mapping[str, str], body: bytes, *, secrets: Iterable[str] = ()
    ) -> UpstreamError:
        """Classify ``{"error": {"code", "message", "status"}}`` answers.

        Gemini answers a bad API key with 400 ``INVALID_ARGUMENT`` (reason ``API_KEY_INVALID``);
        it is reported as the authentication error it is.
        """
        if status_code == 400 and b"API_KEY_INVALID" in body:
            status_code = 401
        return classify_error_response(self.name, status_code, headers, body, secrets=secrets)


def request_body(request: ChatRequest) -> dict[str, Any]:
    """The ``generateContent`` body for ``request`` (see the module policies)."""
    params = request.params
    system, contents = _contents(request.messages)
    body: dict[str, Any] = {"contents": contents}
    if system:
        body["systemInstruction"] = {"parts": system}
    if request.tools:
        body["tools"] = [
            {
                "functionDeclarations": [
                    _declaration(t, f"request.tools[{i}]") for i, t in enumerate(request.tools)
                ]
            }
        ]
        if request.tool_choice is not None:
            body["toolConfig"] = {"functionCallingConfig": _tool_choice(request.tool_choice)}
    config = _generation_config(params)
    if config:
        body["generationConfig"] = config
    body.update({key: value for key, value in params.items() if key in _PASS_THROUGH})
    return body


def _generation_config(params: Mapping[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {
        name: params[key] for key, name in _GENERATION.items() if params.get(key) is not None
    }
    limit = max_tokens(params, None)
    if limit is not None:
        config["maxOutputTokens"] = limit
    stops = stop_sequences(params)
    if stops:
        config["stopSequences"] = stops
    schema = response_schema(params)
    if schema is not None:
        config["responseMimeType"] = "application/json"
        if schema[1] != {"type": "object"}:
            config["responseJsonSchema"] = schema[1]
    extra = params.get("generationConfig")
    if isinstance(extra, Mapping):
        config.update(extra)
    return config


def _declaration(tool: Mapping[str, Any], path: str) -> dict[str, Any]:
    function = tool.get("function")
    if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
        raise InvalidRequestError("a tool needs {'type': 'function', 'function': {'name': ...}}", path=path)
    out: dict[str, Any] = {"name": function["name"]}
    if function.get("description"):
        out["description"] = function["description"]
    if function.get("parameters"):
        out["parametersJsonSchema"] = function["parameters"]
    return out


def _tool_choice(choice: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(choice, str) and choice in _CHOICE_MODES:
        return {"mode": _CHOICE_MODES[choice]}
    if isinstance(choice, Mapping):
        function = choice.get("function")
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            return {"mode": "ANY", "allowedFunctionNames": [function["name"]]}
    raise InvalidRequestError(
        "expected 'auto', 'required', 'none' or {'type': 'function', 'function': {'name': ...}}",
        path="request.tool_choice",
    )


def _contents(messages: list[Message]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    names = tool_names_by_id(messages)
    system: list[dict[str, Any]] = []
    contents: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        path = f"request.messages[{index}]"
        role = message["role"]
        if role in ("system", "developer"):
            system.extend(
                {"text": str(p.get("text", ""))} for p in parts_of(message["content"], f"{path}.content")
            )
            continue
        if role == "assistant":
            parts = _model_parts(message, path)
        elif role == "tool":
            parts = [_function_response(message, names, path)]
        elif role == "user":
            parts = [
                _user_part(p, f"{path}.content[{i}]")
                for i, p in enumerate(parts_of(message["content"], f"{path}.content"))
            ]
        else:
            raise InvalidRequestError(f"unknown role {role!r}", path=f"{path}.role")
        if not parts:
            continue
        turn_role = "model" if role == "assistant" else "user"
        if contents and contents[-1]["role"] == turn_role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": turn_role, "parts": parts})
    return system, contents


def _user_part(part: Mapping[str, Any], path: str) -> dict[str, Any]:
    kind = part.get("type")
    if kind == "text":
        return {"text": str(part.get("text", ""))}
    if kind == "image_url":
        image = part.get("image_url") or {}
        url, field = (image.get("url") if isinstance(image, Mapping) else None), f"{path}.image_url.url"
    elif kind == "file":
        file = part.get("file") or {}
        url, field = file.get("file_data"), f"{path}.file.file_data"
    else:
        raise InvalidRequestError(f"content part type {kind!r} cannot be sent to Gemini", path=path)
    data = parse_data_url(url, field)
    if data is None:
        raise InvalidRequestError("Gemini takes inline media here (a data URL)", path=field)
    return {"inlineData": {"mimeType": data.mime_type, "data": data.data}}


def _model_parts(message: Mapping[str, Any], path: str) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [
        {"text": str(p["text"])} for p in parts_of(message.get("content"), f"{path}.content") if p.get("text")
    ]
    for index, call in enumerate(message.get("tool_calls") or ()):
        function = call.get("function") or {}
        args = tool_arguments(function.get("arguments"), f"{path}.tool_calls[{index}].function.arguments")
        parts.append({"functionCall": {"name": function.get("name"), "args": args}})
    return parts


def _function_response(message: Mapping[str, Any], names: Mapping[str, str], path: str) -> dict[str, Any]:
    call_id = message.get("tool_call_id")
    name = names.get(call_id) if isinstance(call_id, str) else None
    if name is None:
        raise InvalidRequestError(
            f"tool result {call_id!r} answers no tool call in the history (Gemini needs the function name)",
            path=f"{path}.tool_call_id",
        )
    text = tool_result_text(message.get("content"), f"{path}.content")
    try:
        value = decode_json(text)
    except ValueError:
        value = None
    response = value if isinstance(value, dict) else {"result": text}
    return {"functionResponse": {"name": name, "response": response}}
