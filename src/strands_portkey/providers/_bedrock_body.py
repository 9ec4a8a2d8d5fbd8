"""Canonical (OpenAI-shaped) request -> Bedrock Converse body.

Policies: system messages go to ``system``; tool results become ``toolResult`` blocks in a user
turn and consecutive turns of one role are merged (Converse requires alternation); a part with
``cache_control`` is followed by a ``cachePoint``; images and documents must be inline (data
URLs), documents get a Converse-safe name; signed reasoning from history (``thinking_blocks``) is
sent back as ``reasoningContent``; ``response_format`` is served by a forced tool whose input
becomes the answer's text. ``max_tokens``, ``temperature``, ``top_p`` and ``stop`` fill
``inferenceConfig``; Converse's own top-level fields pass through; OpenAI-only fields are
dropped; any other field (``top_k``, ``thinking``...) goes to ``additionalModelRequestFields``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..errors import InvalidRequestError
from ..messages import Message
from ..types import ChatRequest
from ._convert import (
    max_tokens,
    parse_data_url,
    parts_of,
    response_schema,
    stop_sequences,
    thinking_blocks,
    tool_arguments,
    tool_result_text,
)

__all__ = ["converse_body", "json_tool_name"]

_CONVERSE_FIELDS = frozenset(
    {
        "additionalModelRequestFields",
        "additionalModelResponseFieldPaths",
        "guardrailConfig",
        "performanceConfig",
        "promptVariables",
        "requestMetadata",
    }
)
_OPENAI_ONLY = frozenset(
    {
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
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
        "store",
        "metadata",
    }
)
_IMAGE_FORMATS = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
}
_DOCUMENT_FORMATS = {
    "application/pdf": "pdf",
    "text/csv": "csv",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "text/html": "html",
    "text/plain": "txt",
    "text/markdown": "md",
}
_DOCUMENT_KINDS = ", ".join(sorted(set(_DOCUMENT_FORMATS.values())))
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9\s\-()\[\]]+")


def json_tool_name(request: ChatRequest) -> str | None:
    """The forced tool's name when ``response_format`` is served by the tool trick, else None."""
    schema = response_schema(request.params)
    return schema[0] if schema is not None else None


def converse_body(request: ChatRequest) -> dict[str, Any]:
    """The Converse body for ``request`` (see the module policies)."""
    params = request.params
    system, messages = _messages(request.messages)
    body: dict[str, Any] = {"messages": messages}
    if system:
        body["system"] = system
    inference: dict[str, Any] = {}
    limit = max_tokens(params, None)
    if limit is not None:
        inference["maxTokens"] = limit
    for source, name in (("temperature", "temperature"), ("top_p", "topP")):
        if params.get(source) is not None:
            inference[name] = params[source]
    stops = stop_sequences(params)
    if stops:
        inference["stopSequences"] = stops
    if inference:
        body["inferenceConfig"] = inference
    tool_config = _tool_config(request)
    if tool_config:
        body["toolConfig"] = tool_config
    extra: dict[str, Any] = {}
    for key, value in params.items():
        if key in _CONVERSE_FIELDS:
            body[key] = value
        elif key not in _OPENAI_ONLY:
            extra[key] = value
    if extra:
        body["additionalModelRequestFields"] = {**extra, **body.get("additionalModelRequestFields", {})}
    return body


def _tool_config(request: ChatRequest) -> dict[str, Any]:
    tools = []
    for index, tool in enumerate(request.tools or ()):
        function = tool.get("function")
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
            raise InvalidRequestError(
                "a tool needs {'type': 'function', 'function': {'name': ...}}", path=f"request.tools[{index}]"
            )
        spec: dict[str, Any] = {
            "name": function["name"],
            "inputSchema": {"json": function.get("parameters") or {"type": "object"}},
        }
        if function.get("description"):
            spec["description"] = function["description"]
        tools.append({"toolSpec": spec})
    choice = _tool_choice(request.tool_choice) if tools and request.tool_choice is not None else None
    schema = response_schema(request.params)
    if schema is not None:
        name, json_schema = schema
        tools.append(
            {
                "toolSpec": {
                    "name": name,
                    "description": "Answer with JSON matching this schema.",
                    "inputSchema": {"json": json_schema},
                }
            }
        )
        choice = {"tool": {"name": name}}
    if not tools:
        return {}
    config: dict[str, Any] = {"tools": tools}
    if choice:
        config["toolChoice"] = choice
    return config


def _tool_choice(choice: str | Mapping[str, Any]) -> dict[str, Any] | None:
    if choice == "auto":
        return {"auto": {}}
    if choice == "required":
        return {"any": {}}
    if choice == "none":
        return None  # Converse has no "none"; the tools stay declared (history may use them)
    if isinstance(choice, Mapping):
        function = choice.get("function")
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            return {"tool": {"name": function["name"]}}
    raise InvalidRequestError(
        "expected 'auto', 'required', 'none' or {'type': 'function', 'function': {'name': ...}}",
        path="request.tool_choice",
    )


def _messages(messages: list[Message]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        path = f"request.messages[{index}]"
        role = message["role"]
        if role in ("system", "developer"):
            for part in parts_of(message["content"], f"{path}.content"):
                system.extend(_cached({"text": str(part.get("text", ""))}, part))
            continue
        if role == "assistant":
            blocks = _assistant_blocks(message, path)
        elif role == "tool":
            text = tool_result_text(message.get("content"), f"{path}.content")
            result: dict[str, Any] = {
                "toolUseId": message.get("tool_call_id"),
                "content": [{"text": text or " "}],
            }
            if text.startswith("Error"):
                result["status"] = "error"
            blocks = [{"toolResult": result}]
        elif role == "user":
            blocks = []
            for i, part in enumerate(parts_of(message["content"], f"{path}.content")):
                blocks.extend(_cached(_user_block(part, f"{path}.content[{i}]"), part))
        else:
            raise InvalidRequestError(f"unknown role {role!r}", path=f"{path}.role")
        if not blocks:
            continue
        turn_role = "assistant" if role == "assistant" else "user"
        if turns and turns[-1]["role"] == turn_role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": turn_role, "content": blocks})
    return system, turns


def _cached(block: dict[str, Any], part: Mapping[str, Any]) -> list[dict[str, Any]]:
    if "cache_control" in part:
        return [block, {"cachePoint": {"type": "default"}}]
    return [block]


def _user_block(part: Mapping[str, Any], path: str) -> dict[str, Any]:
    kind = part.get("type")
    if kind == "text":
        return {"text": str(part.get("text", ""))}
    if kind == "image_url":
        image = part.get("image_url") or {}
        data = parse_data_url(
            image.get("url") if isinstance(image, Mapping) else None, f"{path}.image_url.url"
        )
        if data is None or data.mime_type not in _IMAGE_FORMATS:
            raise InvalidRequestError(
                "Bedrock takes inline png, jpeg, gif or webp images (data URLs)", path=f"{path}.image_url.url"
            )
        return {"image": {"format": _IMAGE_FORMATS[data.mime_type], "source": {"bytes": data.data}}}
    if kind == "file":
        file = part.get("file") or {}
        data = parse_data_url(file.get("file_data"), f"{path}.file.file_data")
        if data is None or data.mime_type not in _DOCUMENT_FORMATS:
            raise InvalidRequestError(
                f"Bedrock takes inline documents of types {_DOCUMENT_KINDS}",
                path=f"{path}.file.file_data",
            )
        name = str(file.get("filename") or "document").rsplit(".", 1)[0]
        safe = " ".join(_UNSAFE_NAME.sub("-", name).split())[:200] or "document"
        return {
            "document": {
                "format": _DOCUMENT_FORMATS[data.mime_type],
                "name": safe,
                "source": {"bytes": data.data},
            }
        }
    raise InvalidRequestError(f"content part type {kind!r} cannot be sent to Bedrock", path=path)


def _assistant_blocks(message: Mapping[str, Any], path: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for block in thinking_blocks(message):
        if block["type"] == "thinking":
            blocks.append(
                {
                    "reasoningContent": {
                        "reasoningText": {"text": block.get("thinking", ""), "signature": block["signature"]}
                    }
                }
            )
        else:
            blocks.append({"reasoningContent": {"redactedContent": block["data"]}})
    for part in parts_of(message.get("content"), f"{path}.content"):
        if part.get("text"):
            blocks.extend(_cached({"text": str(part["text"])}, part))
    for index, call in enumerate(message.get("tool_calls") or ()):
        function = call.get("function") or {}
        arguments = tool_arguments(
            function.get("arguments"), f"{path}.tool_calls[{index}].function.arguments"
        )
        blocks.append(
            {"toolUse": {"toolUseId": call.get("id"), "name": function.get("name"), "input": arguments}}
        )
    return blocks
