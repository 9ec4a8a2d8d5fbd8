"""The request half of the Messages codec: an Anthropic Messages body -> the canonical request.

The policies are listed in :mod:`.messages_codec` (the module the server route imports); errors
name the field in Anthropic's terms (``messages[2].content[0].type``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from ...errors import InvalidRequestError
from ...types import ChatRequest

__all__ = ["chat_body_from_messages", "chat_request_from_messages"]

_TOOL_CHOICES = {"auto": "auto", "any": "required", "none": "none"}
_ERROR_PREFIX = "Error"


def _fail(message: str, path: str) -> InvalidRequestError:
    return InvalidRequestError(message, path=path)


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _mapping(value: object, path: str, what: str = "an object") -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(f"expected {what}, got {_kind(value)}", path)
    return value


def _string(value: object, path: str, *, empty: bool = True) -> str:
    if not isinstance(value, str) or (not empty and not value):
        raise _fail(f"expected a {'' if empty else 'non-empty '}string, got {_kind(value)}", path)
    return value


def _number(value: object, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(f"expected a number, got {_kind(value)}", path)
    return value


def chat_request_from_messages(body: object) -> ChatRequest:
    """The canonical request for an Anthropic Messages body (``stream`` kept as asked)."""
    return ChatRequest.from_body(chat_body_from_messages(body))


def chat_body_from_messages(body: object) -> dict[str, Any]:
    """The OpenAI-shaped chat body for an Anthropic Messages body (see the module's policies)."""
    body = _mapping(body, "body", "a JSON object like {'model': ..., 'max_tokens': ..., 'messages': [...]}")
    out: dict[str, Any] = {"model": _string(body.get("model"), "model", empty=False)}
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise _fail(f"required, a positive integer; got {max_tokens!r}", "max_tokens")
    messages: list[dict[str, Any]] = []
    if body.get("system") is not None:
        messages.append({"role": "system", "content": _system(body["system"])})
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise _fail(f"expected a non-empty list of messages, got {_kind(raw)}", "messages")
    for index, message in enumerate(raw):
        messages.extend(_turn(message, f"messages[{index}]"))
    out["messages"] = messages
    out["max_tokens"] = max_tokens
    _tools_into(out, body)
    stops = body.get("stop_sequences")
    if stops is not None:
        if not isinstance(stops, list):
            raise _fail(f"expected a list of strings, got {_kind(stops)}", "stop_sequences")
        out["stop"] = [_string(stop, f"stop_sequences[{i}]") for i, stop in enumerate(stops)]
    for name in ("temperature", "top_p"):
        if body.get(name) is not None:
            out[name] = _number(body[name], name)
    top_k = body.get("top_k")
    if top_k is not None:
        if isinstance(top_k, bool) or not isinstance(top_k, int):
            raise _fail(f"expected an integer, got {_kind(top_k)}", "top_k")
        out["top_k"] = top_k
    if body.get("thinking") is not None:
        out["thinking"] = dict(_mapping(body["thinking"], "thinking"))
    if body.get("metadata") is not None:
        user = _mapping(body["metadata"], "metadata").get("user_id")
        if user is not None:
            out["user"] = _string(user, "metadata.user_id")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise _fail(f"expected true or false, got {_kind(stream)}", "stream")
    out["stream"] = stream
    return out


def _system(system: object) -> str | list[dict[str, Any]]:
    if isinstance(system, str):
        return system
    if not isinstance(system, list):
        raise _fail(f"expected a string or a list of text blocks, got {_kind(system)}", "system")
    parts = []
    for index, raw in enumerate(system):
        path = f"system[{index}]"
        block = _mapping(raw, path)
        if block.get("type") != "text":
            raise _fail(f"expected a 'text' block, got type {block.get('type')!r}", f"{path}.type")
        parts.append(_text_part(block, path))
    return parts


def _text_part(block: Mapping[str, Any], path: str) -> dict[str, Any]:
    part: dict[str, Any] = {"type": "text", "text": _string(block.get("text"), f"{path}.text")}
    if block.get("cache_control") is not None:
        part["cache_control"] = block["cache_control"]
    return part


def _blocks(content: object, path: str) -> list[Mapping[str, Any]]:
    """A turn's content as blocks: a string is one text block."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list):
        raise _fail(f"expected a string or a list of content blocks, got {_kind(content)}", path)
    return [_mapping(block, f"{path}[{i}]") for i, block in enumerate(content)]


def _turn(message: object, path: str) -> list[dict[str, Any]]:
    message = _mapping(message, path)
    role = message.get("role")
    if role not in ("user", "assistant"):
        raise _fail(f"expected 'user' or 'assistant', got {role!r}", f"{path}.role")
    if "content" not in message:
        raise _fail("required", f"{path}.content")
    if role == "user" and isinstance(message["content"], str):
        return [{"role": "user", "content": message["content"]}]  # kept a string: the most compatible
    blocks = _blocks(message["content"], f"{path}.content")
    if role == "assistant":
        return [_assistant(blocks, f"{path}.content")]
    return _user(blocks, f"{path}.content")


def _user(blocks: list[Mapping[str, Any]], path: str) -> list[dict[str, Any]]:
    """Tool results first (one ``tool`` message each), then their images, then the other parts."""
    results: list[dict[str, Any]] = []
    images: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for index, block in enumerate(blocks):
        where = f"{path}[{index}]"
        kind = block.get("type")
        if kind == "tool_result":
            result, result_images = _tool_result(block, where)
            results.append(result)
            images.extend(result_images)
        elif kind == "text":
            parts.append(_text_part(block, where))
        elif kind == "image":
            parts.append(_image(block, where))
        elif kind == "document":
            parts.append(_document(block, where))
        else:
            raise _fail(
                f"a user turn takes 'text', 'image', 'document' or 'tool_result' blocks, got {kind!r}",
                f"{where}.type",
            )
    out = results
    if images:
        out.append({"role": "user", "content": images})
    if parts or not results:
        out.append({"role": "user", "content": parts})
    return out


def _image(block: Mapping[str, Any], path: str) -> dict[str, Any]:
    source = _mapping(block.get("source"), f"{path}.source")
    kind = source.get("type")
    if kind == "base64":
        media = _string(source.get("media_type"), f"{path}.source.media_type", empty=False)
        data = _string(source.get("data"), f"{path}.source.data", empty=False)
        url = f"data:{media};base64,{data}"
    elif kind == "url":
        url = _string(source.get("url"), f"{path}.source.url", empty=False)
    else:
        raise _fail(f"expected 'base64' or 'url', got {kind!r}", f"{path}.source.type")
    part: dict[str, Any] = {"type": "image_url", "image_url": {"url": url}}
    if block.get("cache_control") is not None:
        part["cache_control"] = block["cache_control"]
    return part


def _document(block: Mapping[str, Any], path: str) -> dict[str, Any]:
    source = _mapping(block.get("source"), f"{path}.source")
    kind = source.get("type")
    if kind == "base64":
        media = _string(source.get("media_type"), f"{path}.source.media_type", empty=False)
        data = _string(source.get("data"), f"{path}.source.data", empty=False)
    elif kind == "text":
        media = "text/plain"
        text = _string(source.get("data"), f"{path}.source.data")
        data = base64.b64encode(text.encode()).decode("ascii")
    else:
        raise _fail(f"expected 'base64' or 'text' (inline documents), got {kind!r}", f"{path}.source.type")
    file: dict[str, Any] = {"file_data": f"data:{media};base64,{data}"}
    if isinstance(block.get("title"), str):
        file["filename"] = block["title"]
    return {"type": "file", "file": file}


def _tool_result(block: Mapping[str, Any], path: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    call_id = _string(block.get("tool_use_id"), f"{path}.tool_use_id", empty=False)
    content = block.get("content", "")
    texts: list[str] = []
    images: list[dict[str, Any]] = []
    if isinstance(content, str):
        texts.append(content)
    elif isinstance(content, list):
        for index, raw in enumerate(content):
            where = f"{path}.content[{index}]"
            part = _mapping(raw, where)
            if part.get("type") == "text":
                texts.append(_string(part.get("text"), f"{where}.text"))
            elif part.get("type") == "image":
                images.append(_image(part, where))
            else:
                raise _fail(f"expected a 'text' or 'image' block, got {part.get('type')!r}", f"{where}.type")
    elif content is not None:
        raise _fail(f"expected a string or a list of blocks, got {_kind(content)}", f"{path}.content")
    text = "\n".join(texts)
    is_error = block.get("is_error", False)
    if not isinstance(is_error, bool):
        raise _fail(f"expected true or false, got {_kind(is_error)}", f"{path}.is_error")
    if is_error and not text.startswith(_ERROR_PREFIX):
        text = f"{_ERROR_PREFIX}: {text}" if text else _ERROR_PREFIX
    return {"role": "tool", "tool_call_id": call_id, "content": text}, images


def _assistant(blocks: list[Mapping[str, Any]], path: str) -> dict[str, Any]:
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    thinking: list[dict[str, Any]] = []
    for index, block in enumerate(blocks):
        where = f"{path}[{index}]"
        kind = block.get("type")
        if kind == "text":
            texts.append(_string(block.get("text"), f"{where}.text"))
        elif kind == "tool_use":
            arguments = _mapping(block.get("input", {}), f"{where}.input")
            calls.append(
                {
                    "id": _string(block.get("id"), f"{where}.id", empty=False),
                    "type": "function",
                    "function": {
                        "name": _string(block.get("name"), f"{where}.name", empty=False),
                        "arguments": json.dumps(arguments, ensure_ascii=False),
                    },
                }
            )
        elif kind == "thinking":
            signature = block.get("signature")
            if isinstance(signature, str) and signature:
                thinking.append(
                    {
                        "type": "thinking",
                        "thinking": _string(block.get("thinking"), f"{where}.thinking"),
                        "signature": signature,
                    }
                )
        elif kind == "redacted_thinking":
            data = _string(block.get("data"), f"{where}.data")
            thinking.append({"type": "redacted_thinking", "data": base64.b64encode(data.encode()).decode()})
        else:
            raise _fail(
                f"an assistant turn takes 'text', 'tool_use', 'thinking' or 'redacted_thinking' blocks, "
                f"got {kind!r}",
                f"{where}.type",
            )
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts or not calls else None}
    if calls:
        message["tool_calls"] = calls
    if thinking:
        message["thinking_blocks"] = thinking
    return message


def _tools_into(out: dict[str, Any], body: Mapping[str, Any]) -> None:
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise _fail(f"expected a list of tools, got {_kind(tools)}", "tools")
        if tools:
            out["tools"] = [_tool(tool, f"tools[{i}]") for i, tool in enumerate(tools)]
    choice = body.get("tool_choice")
    if choice is None:
        return
    choice = _mapping(choice, "tool_choice")
    kind = choice.get("type")
    if kind == "tool":
        name = _string(choice.get("name"), "tool_choice.name", empty=False)
        out["tool_choice"] = {"type": "function", "function": {"name": name}}
    elif kind in _TOOL_CHOICES:
        out["tool_choice"] = _TOOL_CHOICES[kind]
    else:
        raise _fail(f"expected 'auto', 'any', 'tool' or 'none', got {kind!r}", "tool_choice.type")
    disable = choice.get("disable_parallel_tool_use")
    if disable is not None and not isinstance(disable, bool):
        raise _fail(f"expected true or false, got {_kind(disable)}", "tool_choice.disable_parallel_tool_use")
    if disable and out.get("tools"):  # OpenAI refuses parallel_tool_calls without tools
        out["parallel_tool_calls"] = False


def _tool(tool: object, path: str) -> dict[str, Any]:
    tool = _mapping(tool, path)
    kind = tool.get("type")
    if kind not in (None, "custom"):
        raise _fail(
            f"Anthropic server tool {kind!r} is not available through the gateway (only custom tools "
            "with name, description and input_schema, which any provider can call)",
            f"{path}.type",
        )
    function: dict[str, Any] = {"name": _string(tool.get("name"), f"{path}.name", empty=False)}
    if tool.get("description") is not None:
        function["description"] = _string(tool["description"], f"{path}.description")
    function["parameters"] = dict(_mapping(tool.get("input_schema"), f"{path}.input_schema"))
    return {"type": "function", "function": function}
