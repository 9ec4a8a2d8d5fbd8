"""Anthropic's Messages API (``POST /v1/messages``): canonical requests in, canonical answers out.

Translation policies (what a caller can rely on):

* **System prompt**: every ``system``/``developer`` message goes to the top-level ``system``; a
  string when no part has ``cache_control``, else a list of text blocks keeping it.
* **Turns**: tool results become ``tool_result`` blocks in a user turn; consecutive messages of one
  role are merged (Anthropic requires strict alternation; tool results go first).
* **Reasoning**: signed thinking in history (``thinking_blocks``, kept by the Strands codec) is
  sent back as ``thinking`` / ``redacted_thinking`` blocks; unsigned reasoning from another
  provider is not sent (Anthropic rejects thinking without a signature).
* **Structured output**: ``response_format`` (json_schema or json_object) is served by a forced
  tool whose input is returned as the answer's text, as the model has no JSON mode.
* **Parameters**: ``max_tokens`` is required by Anthropic (default 4096); ``stop`` becomes
  ``stop_sequences``, ``user`` becomes ``metadata.user_id``, ``parallel_tool_calls: false``
  becomes ``disable_parallel_tool_use``; other OpenAI-only fields are dropped and everything else
  (``top_k``, ``thinking``...) is passed through.
* **Usage**: ``prompt_tokens`` counts every input token (uncached + cache read + cache write), as
  OpenAI's does; the cache counts are reported separately too.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import ConfigurationError, InvalidRequestError, UpstreamError
from ..messages import Message
from ..types import ChatRequest, ChatResponse, Choice, ResponseMessage, ToolCall, Usage
from ..wire import HttpRequest, HttpResponse
from ._anthropic_stream import AnthropicStreamParser, finish_reason, usage_from
from ._convert import (
    decode_json_body,
    max_tokens,
    parse_data_url,
    parts_of,
    response_schema,
    stop_sequences,
    thinking_blocks,
    tool_arguments,
    tool_result_text,
    unexpected,
)
from ._errors import classify_error_response, classify_in_band_error
from ._headers import content_headers, merge_headers, secret_header_values
from .base import Target
from .openai_compat import HostSpec

__all__ = ["ANTHROPIC_HOST", "DEFAULT_ANTHROPIC_VERSION", "DEFAULT_MAX_TOKENS", "AnthropicAdapter"]

ANTHROPIC_HOST = HostSpec("anthropic", "https://api.anthropic.com/v1", "ANTHROPIC_API_KEY", True)
"""Registry row: Anthropic's API; any Anthropic-format server (llama-server) via ``custom_host``."""

DEFAULT_ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096

# OpenAI body fields with no Anthropic equivalent, or translated above: never passed through.
_OPENAI_ONLY = frozenset(
    {
        "max_tokens",
        "max_completion_tokens",
        "stop",
        "user",
        "response_format",
        "parallel_tool_calls",
        "stream_options",
        "n",
        "seed",
        "frequency_penalty",
        "presence_penalty",
        "logprobs",
        "top_logprobs",
        "logit_bias",
        "reasoning_effort",
        "modalities",
        "store",
        "prediction",
        "audio",
        "web_search_options",
    }
)


class AnthropicAdapter:
    """The adapter for Anthropic's Messages API (and servers that speak it)."""

    __slots__ = ("default_base_url", "name")

    def __init__(self, name: str = ANTHROPIC_HOST.name, default_base_url: str = ANTHROPIC_HOST.base_url):
        self.name = name
        self.default_base_url = default_base_url

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def prepare_target(self, target: Target, env: Mapping[str, str]) -> Target:
        """Check the version/beta fields once; the key was resolved from the host row."""
        for field in ("anthropic_version", "anthropic_beta"):
            value = target.options.get(field)
            if value is not None and not isinstance(value, (str, list)):
                raise ConfigurationError("expected a string (or a list of beta names)", path=field)
        return target

    def build_request(
        self,
        request: ChatRequest,
        target: Target,
        *,
        trace_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> HttpRequest:
        """``POST {base_url}/messages`` with ``x-api-key`` and ``anthropic-version``."""
        headers = content_headers(stream=request.stream)
        headers["anthropic-version"] = str(
            target.options.get("anthropic_version") or DEFAULT_ANTHROPIC_VERSION
        )
        beta = target.options.get("anthropic_beta")
        if beta:
            headers["anthropic-beta"] = ",".join(beta) if isinstance(beta, list) else str(beta)
        if target.api_key:
            headers["x-api-key"] = target.api_key.reveal()
        merge_headers(headers, target.headers)
        base_url = (target.base_url or self.default_base_url).rstrip("/")
        return HttpRequest(
            method="POST",
            url=f"{base_url}/messages",
            headers=headers,
            json=request_body(request),
            secrets=secret_header_values(headers),
        )

    def parse_response(self, response: HttpResponse, request: ChatRequest) -> ChatResponse:
        """Parse a complete ``message`` object."""
        payload = decode_json_body(self.name, response.content)
        if payload.get("type") == "error":
            raise classify_in_band_error(self.name, payload)
        content = payload.get("content")
        if not isinstance(content, list):
            raise unexpected(self.name, "a message without a 'content' list", response.content)
        try:
            message, finish = _message(content, payload.get("stop_reason"), _json_tool(request))
            usage = payload.get("usage")
            return ChatResponse(
                id=str(payload.get("id") or ""),
                model=str(payload.get("model") or request.model),
                choices=(Choice(0, message, finish),),
                usage=usage_from(usage, None) if isinstance(usage, Mapping) else Usage(),
            )
        except (AttributeError, TypeError, ValueError, KeyError) as exc:
            raise unexpected(
                self.name, f"a message of unexpected shape ({exc!r})", response.content
            ) from None

    def stream_parser(self, request: ChatRequest) -> AnthropicStreamParser:
        """Return a fresh parser for one streamed response."""
        return AnthropicStreamParser(self.name, request.model, _json_tool(request))

    def map_error(
        self, status_code: int, headers: Mapping[str, str], body: bytes, *, secrets: Iterable[str] = ()
    ) -> UpstreamError:
        """Classify a non-2xx answer (``{"type": "error", "error": {"type", "message"}}``; 529 overloaded)."""
        return classify_error_response(self.name, status_code, headers, body, secrets=secrets)


# --------------------------------------------------------------------------- request


def _json_tool(request: ChatRequest) -> str | None:
    """The forced tool's name when ``response_format`` is served by the tool trick, else None."""
    schema = response_schema(request.params)
    return schema[0] if schema is not None else None


def request_body(request: ChatRequest) -> dict[str, Any]:
    """The Messages API body for ``request`` (see the module's translation policies)."""
    params = request.params
    system, messages = _messages(request.messages)
    body: dict[str, Any] = {"model": request.model, "max_tokens": max_tokens(params, DEFAULT_MAX_TOKENS)}
    if system:
        body["system"] = system
    body["messages"] = messages
    tools = [_tool(tool, f"request.tools[{i}]") for i, tool in enumerate(request.tools or ())]
    tool_choice = _tool_choice(request.tool_choice) if tools and request.tool_choice is not None else None
    schema = response_schema(params)
    if schema is not None:
        name, json_schema = schema
        tools.append(
            {
                "name": name,
                "description": "Answer with JSON matching this schema.",
                "input_schema": json_schema,
            }
        )
        tool_choice = {"type": "tool", "name": name}
    if tools:
        body["tools"] = tools
    if params.get("parallel_tool_calls") is False and tools:
        tool_choice = {**(tool_choice or {"type": "auto"}), "disable_parallel_tool_use": True}
    if tool_choice is not None:
        body["tool_choice"] = tool_choice
    stops = stop_sequences(params)
    if stops:
        body["stop_sequences"] = stops
    if isinstance(params.get("user"), str) and "metadata" not in params:
        body["metadata"] = {"user_id": params["user"]}
    body.update({key: value for key, value in params.items() if key not in _OPENAI_ONLY})
    if request.stream:
        body["stream"] = True
    return body


def _messages(messages: list[Message]) -> tuple[str | list[dict[str, Any]], list[dict[str, Any]]]:
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        path = f"request.messages[{index}]"
        role = message["role"]
        if role in ("system", "developer"):
            system.extend(_text_block(part) for part in parts_of(message["content"], f"{path}.content"))
            continue
        if role == "assistant":
            blocks = _assistant_blocks(message, path)
        elif role == "tool":
            blocks = [_tool_result(message, path)]
        elif role == "user":
            blocks = [
                _user_block(part, f"{path}.content[{i}]")
                for i, part in enumerate(parts_of(message["content"], f"{path}.content"))
            ]
        else:
            raise InvalidRequestError(f"unknown role {role!r}", path=f"{path}.role")
        if not blocks:
            continue
        turn_role = "assistant" if role == "assistant" else "user"
        if turns and turns[-1]["role"] == turn_role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": turn_role, "content": blocks})
    if any("cache_control" in block for block in system):
        return system, turns
    return "\n".join(block["text"] for block in system), turns


def _text_block(part: Mapping[str, Any]) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "text", "text": str(part.get("text", ""))}
    if "cache_control" in part:
        block["cache_control"] = part["cache_control"]
    return block


def _user_block(part: Mapping[str, Any], path: str) -> dict[str, Any]:
    kind = part.get("type")
    if kind == "text":
        return _text_block(part)
    if kind == "image_url":
        image = part.get("image_url") or {}
        url = image.get("url") if isinstance(image, Mapping) else None
        data = parse_data_url(url, f"{path}.image_url.url")
        source = (
            {"type": "url", "url": url}
            if data is None
            else {"type": "base64", "media_type": data.mime_type, "data": data.data}
        )
        block: dict[str, Any] = {"type": "image", "source": source}
    elif kind == "file":
        block = _document(part.get("file") or {}, f"{path}.file")
    else:
        raise InvalidRequestError(f"content part type {kind!r} cannot be sent to Anthropic", path=path)
    if "cache_control" in part:
        block["cache_control"] = part["cache_control"]
    return block


def _document(file: Mapping[str, Any], path: str) -> dict[str, Any]:
    data = parse_data_url(file.get("file_data"), f"{path}.file_data")
    if data is None:
        raise InvalidRequestError("documents must be inline data URLs", path=f"{path}.file_data")
    if data.mime_type.startswith("text/"):
        text = base64.b64decode(data.data).decode("utf-8", "replace")
        source: dict[str, Any] = {"type": "text", "media_type": "text/plain", "data": text}
    elif data.mime_type == "application/pdf":
        source = {"type": "base64", "media_type": data.mime_type, "data": data.data}
    else:
        raise InvalidRequestError(
            f"Anthropic accepts PDF and plain-text documents, not {data.mime_type}", path=f"{path}.file_data"
        )
    block: dict[str, Any] = {"type": "document", "source": source}
    if isinstance(file.get("filename"), str):
        block["title"] = file["filename"]
    return block


def _assistant_blocks(message: Mapping[str, Any], path: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [_thinking(block) for block in thinking_blocks(message)]
    blocks += [
        _text_block(part) for part in parts_of(message.get("content"), f"{path}.content") if part.get("text")
    ]
    for index, call in enumerate(message.get("tool_calls") or ()):
        call_path = f"{path}.tool_calls[{index}]"
        function = call.get("function") or {}
        blocks.append(
            {
                "type": "tool_use",
                "id": call.get("id"),
                "name": function.get("name"),
                "input": tool_arguments(function.get("arguments"), f"{call_path}.function.arguments"),
            }
        )
    return blocks


def _thinking(block: Mapping[str, Any]) -> dict[str, Any]:
    if block["type"] == "redacted_thinking":  # the codec keeps the opaque bytes base64-encoded
        return {
            "type": "redacted_thinking",
            "data": base64.b64decode(block["data"]).decode("utf-8", "replace"),
        }
    return {"type": "thinking", "thinking": block.get("thinking", ""), "signature": block["signature"]}


def _tool_result(message: Mapping[str, Any], path: str) -> dict[str, Any]:
    text = tool_result_text(message.get("content"), f"{path}.content")
    block: dict[str, Any] = {
        "type": "tool_result",
        "tool_use_id": message.get("tool_call_id"),
        "content": text,
    }
    if text.startswith("Error"):
        block["is_error"] = True
    return block


def _tool(tool: Mapping[str, Any], path: str) -> dict[str, Any]:
    function = tool.get("function")
    if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
        raise InvalidRequestError("a tool needs {'type': 'function', 'function': {'name': ...}}", path=path)
    out: dict[str, Any] = {
        "name": function["name"],
        "input_schema": function.get("parameters") or {"type": "object"},
    }
    if function.get("description"):
        out["description"] = function["description"]
    return out


def _tool_choice(choice: str | Mapping[str, Any]) -> dict[str, Any]:
    if choice == "auto":
        return {"type": "auto"}
    if choice == "required":
        return {"type": "any"}
    if choice == "none":
        return {"type": "none"}
    if isinstance(choice, Mapping):
        function = choice.get("function")
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            return {"type": "tool", "name": function["name"]}
    raise InvalidRequestError(
        "expected 'auto', 'required', 'none' or {'type': 'function', 'function': {'name': ...}}",
        path="request.tool_choice",
    )


# --------------------------------------------------------------------------- response


def _message(
    content: list[Any], stop_reason: object, json_tool: str | None
) -> tuple[ResponseMessage, str | None]:
    texts: list[str] = []
    thinking: list[str] = []
    signature: str | None = None
    calls: list[ToolCall] = []
    for block in content:
        kind = block["type"]
        if kind == "text":
            texts.append(block["text"])
        elif kind == "thinking":
            thinking.append(block["thinking"])
            signature = block.get("signature") or signature
        elif kind == "tool_use" and block["name"] == json_tool:
            texts.append(json.dumps(block.get("input") or {}, ensure_ascii=False))
        elif kind == "tool_use":
            arguments = json.dumps(block.get("input") or {}, ensure_ascii=False)
            calls.append(ToolCall(str(block["id"]), str(block["name"]), arguments))
    finish = finish_reason(stop_reason)
    if json_tool is not None and finish == "tool_calls" and not calls:
        finish = "stop"
    message = ResponseMessage(
        content="".join(texts) if texts else None,
        tool_calls=tuple(calls),
        reasoning="".join(thinking) if thinking else None,
        reasoning_signature=signature,
    )
    return message, finish
