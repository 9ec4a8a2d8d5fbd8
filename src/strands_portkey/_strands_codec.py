"""Pure translation between Strands' Bedrock-shaped types and the gateway's canonical types.

Nothing here does I/O: :func:`to_chat_request` turns a Strands conversation into a
:class:`~strands_portkey.types.ChatRequest`, :class:`StreamConverter` turns canonical chunks into
Strands ``StreamEvent`` dicts, :func:`to_strands_exception` maps the errors Strands acts on.

Documented policies (the Strands model contract asks each provider to pick and state them):

* **cachePoint**: a cache point marks the content part written just before it in the same
  message or system prompt with ``cache_control: {"type": "ephemeral"}`` (plus ``"ttl"`` when
  given), which is what Anthropic-backed targets need. A marked system text becomes a one-part
  list; an assistant message with a marked part keeps its parts list. A cache point with no such
  part right before it (first block, after a tool use/result or a dropped block) is dropped
  silently: cache points are routine in Strands, so there is no warning.
* **Reasoning in history**: chat completions has no slot for it, so reasoning text of an
  assistant message is joined with newlines into ``reasoning_content`` (the common extension
  field). Signed reasoning and ``redactedContent`` are also kept, block by block, in
  ``thinking_blocks`` (``{"type": "thinking", "thinking", "signature"}`` /
  ``{"type": "redacted_thinking", "data": <base64>}``) for native adapters (Anthropic, Bedrock)
  that must send them back; OpenAI-format adapters strip that field.
* **Tool results**: each becomes a ``tool`` message placed before the rest of its message. Text
  and JSON items are joined with newlines into a plain string (several backends reject arrays).
  Images and documents cannot travel in a tool message, so they move into the user message that
  follows the tool messages, ahead of that message's own content. A ``status: "error"`` result is
  prefixed with ``"Error: "`` unless its text already starts with "error" (Strands' own error
  results do), so the model always sees the failure; an empty one reads ``"Error"``.
* **Plain strings**: a user or assistant message whose parts are all text (no cache mark) is sent
  as one string, parts joined with newlines. Many OpenAI-compatible servers (llama.cpp, vLLM,
  Ollama chat templates) fail on content-part arrays; every server accepts a string.
* **Unsupported blocks** (location sources, video, audio, unknown kinds) are dropped with a
  ``UserWarning`` naming the block and its path, never a crash deep in formatting.
* **Documents** are sent as ``file`` parts; ``.<format>`` is appended to a name that lacks it,
  since Bedrock-style names carry no extension and OpenAI infers the type from the file name.
* **Cut tool calls**: ``finish_reason == "length"`` reports ``max_tokens`` even when tool calls
  were pending (#4135). The truncated tool blocks are still emitted: Strands' max-tokens recovery
  turns each into a text saying the tool use was cut, instead of silently losing it.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

from strands.types.content import Messages, SystemContentBlock
from strands.types.exceptions import ContextWindowOverflowException, ModelThrottledException
from strands.types.tools import ToolChoice, ToolSpec

from ._strands_content import (
    cache_control,
    content_parts,
    drop_block,
    dumps_field,
    mark_cache_point,
    plain_if_text,
    text_field,
)
from ._strands_events import StreamConverter, response_to_events, usage_to_strands
from .errors import (
    ContextWindowExceededError,
    GatewayError,
    InvalidRequestError,
    OverloadedError,
    RateLimitError,
)
from .messages import AssistantMessage, ContentPart, Message, ToolCallJSON, ToolMessage, ToolSpecJSON
from .types import ChatRequest

__all__ = [
    "StreamConverter",
    "response_to_events",
    "to_chat_request",
    "to_strands_exception",
    "usage_to_strands",
]

_TOOL_CHOICE = {"auto": "auto", "any": "required"}


# --------------------------------------------------------------------------- request


def to_chat_request(
    messages: Messages,
    *,
    model_id: str,
    tool_specs: list[ToolSpec] | None = None,
    system_prompt: str | None = None,
    system_prompt_content: list[SystemContentBlock] | None = None,
    tool_choice: ToolChoice | None = None,
    params: Mapping[str, Any] | None = None,
    stream: bool = True,
) -> ChatRequest:
    """Build the canonical request for one ``Model.stream()`` call.

    ``tools`` and ``tool_choice`` are omitted entirely without tool specs (Anthropic-compatible
    endpoints reject an empty list). ``params`` are spread last so the user's settings win over
    everything the codec derived; ``stream`` always follows the argument.

    Raises:
        InvalidRequestError: A message, block or tool spec is malformed; ``path`` names it
            (``messages[2].content[0]``).
    """
    converted = _system_messages(system_prompt, system_prompt_content)
    if not isinstance(messages, list):
        raise InvalidRequestError("must be a list of Strands messages", path="messages")
    for index, message in enumerate(messages):
        converted.extend(_message(message, f"messages[{index}]"))
    body: dict[str, Any] = {"model": model_id, "messages": converted}
    tools = _tools(tool_specs)
    if tools:
        body["tools"] = tools
        if tool_choice is not None:
            body["tool_choice"] = _tool_choice(tool_choice)
    body.update(params or {})
    body["stream"] = stream
    return ChatRequest.from_body(body)


def _system_messages(prompt: str | None, blocks: list[SystemContentBlock] | None) -> list[Message]:
    """One system message per text block, preferring the block form (it carries cache points)."""
    if not blocks:
        return [{"role": "system", "content": prompt}] if prompt else []
    out: list[Message] = []
    last: Message | None = None
    for index, raw in enumerate(blocks):
        block: Any = raw
        path = f"system_prompt_content[{index}]"
        if not isinstance(block, Mapping):
            raise InvalidRequestError("a system block must be a mapping like {'text': ...}", path=path)
        if "cachePoint" in block:
            if last is not None and isinstance(last["content"], str):
                part: ContentPart = {"type": "text", "text": last["content"]}
                part["cache_control"] = cache_control(block["cachePoint"])
                last["content"] = [part]
            last = None
        elif "text" in block:
            last = {"role": "system", "content": text_field(block["text"], path)} if block["text"] else None
            if last is not None:
                out.append(last)
        else:
            drop_block(path, next(iter(block), "empty"), "system prompts carry only text")
            last = None
    return out


def _message(raw: Any, path: str) -> list[Message]:
    """Convert one Strands message; a user message may yield several chat messages."""
    if not isinstance(raw, Mapping):
        raise InvalidRequestError(f"a message must be a mapping, got {type(raw).__name__}", path=path)
    content = raw.get("content")
    if not isinstance(content, list):
        raise InvalidRequestError("'content' must be a list of content blocks", path=f"{path}.content")
    role = raw.get("role")
    if role not in ("user", "assistant"):
        raise InvalidRequestError(
            f"unknown role {role!r}; expected 'user' or 'assistant'", path=f"{path}.role"
        )
    try:
        return _user_message(content, path) if role == "user" else _assistant_message(content, path)
    except (AttributeError, KeyError, TypeError) as error:  # a block's payload has the wrong shape
        raise InvalidRequestError(f"malformed content block ({error!r})", path=f"{path}.content") from error


def _user_message(content: list[Any], path: str) -> list[Message]:
    """Tool messages first, then one user message with moved media and the remaining parts."""
    out: list[Message] = []
    moved: list[ContentPart] = []
    parts: list[ContentPart] = []
    last: ContentPart | None = None
    for index, block in enumerate(_blocks(content, path)):
        block_path = f"{path}.content[{index}]"
        previous, last = last, None  # a cache point marks only the part made just before it
        if "cachePoint" in block:
            mark_cache_point(previous, block["cachePoint"])
        if "cachePoint" in block or "reasoningContent" in block:
            continue
        if "toolResult" in block:
            out.append(_tool_message(block["toolResult"], moved, f"{block_path}.toolResult"))
        elif "toolUse" in block:
            raise InvalidRequestError("toolUse is only valid in an assistant message", path=block_path)
        else:
            new = content_parts(block, block_path)
            parts.extend(new)
            last = new[-1] if new else None
    if moved or parts:
        out.append({"role": "user", "content": plain_if_text(moved + parts)})
    return out


def _assistant_message(content: list[Any], path: str) -> list[Message]:
    """Text as a plain string (most compatible), ``tool_calls``, and ``reasoning_content``."""
    parts: list[ContentPart] = []
    calls: list[ToolCallJSON] = []
    reasoning: list[str] = []
    thinking: list[dict[str, Any]] = []
    last: ContentPart | None = None
    for index, block in enumerate(_blocks(content, path)):
        block_path = f"{path}.content[{index}]"
        previous, last = last, None
        if "cachePoint" in block:
            mark_cache_point(previous, block["cachePoint"])
            continue
        if "reasoningContent" in block:
            thinking.extend(_thinking_block(block["reasoningContent"]))
        if "toolUse" in block:
            calls.append(_tool_call(block["toolUse"], f"{block_path}.toolUse"))
        elif "reasoningContent" in block:
            text = (block["reasoningContent"].get("reasoningText") or {}).get("text")
            if text:
                reasoning.append(text)
        elif "toolResult" in block:
            raise InvalidRequestError("toolResult is only valid in a user message", path=block_path)
        else:
            new = content_parts(block, block_path)
            parts.extend(new)
            last = new[-1] if new else None
    message: AssistantMessage = {"role": "assistant", "content": plain_if_text(parts) if parts else None}
    if calls:
        message["tool_calls"] = calls
    if reasoning:
        message["reasoning_content"] = "\n".join(reasoning)
    if thinking:
        message["thinking_blocks"] = thinking
    return [message] if parts or calls else []


def _thinking_block(content: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A signed or redacted reasoning block, kept whole for native providers (module doc)."""
    text = content.get("reasoningText") or {}
    if text.get("signature"):
        return [{"type": "thinking", "thinking": text.get("text") or "", "signature": text["signature"]}]
    redacted = content.get("redactedContent")
    if isinstance(redacted, (bytes, bytearray)) and redacted:
        return [{"type": "redacted_thinking", "data": base64.b64encode(redacted).decode("ascii")}]
    return []


def _blocks(content: list[Any], path: str) -> list[Mapping[str, Any]]:
    """Check that every content block is a mapping, so later lookups cannot crash."""
    for index, block in enumerate(content):
        if not isinstance(block, Mapping):
            raise InvalidRequestError(
                f"a content block must be a mapping, got {type(block).__name__}",
                path=f"{path}.content[{index}]",
            )
    return content


def _tool_message(result: Any, moved: list[ContentPart], path: str) -> ToolMessage:
    """Build a ``tool`` message with plain-string content; media go to ``moved`` (module doc)."""
    if not isinstance(result, Mapping) or not isinstance(result.get("toolUseId"), str):
        raise InvalidRequestError("a toolResult needs a string 'toolUseId'", path=path)
    texts: list[str] = []
    for index, item in enumerate(result.get("content") or []):
        item_path = f"{path}.content[{index}]"
        if not isinstance(item, Mapping):
            raise InvalidRequestError("a tool result item must be a mapping", path=item_path)
        if "text" in item:
            texts.append(text_field(item["text"], item_path))
        elif "json" in item:
            texts.append(dumps_field(item["json"], item_path))
        else:
            moved.extend(content_parts(item, item_path))
    text = "\n".join(texts)
    if result.get("status") == "error" and not text.lower().startswith("error"):
        text = f"Error: {text}" if text else "Error"
    return {"role": "tool", "tool_call_id": result["toolUseId"], "content": text}


def _tool_call(use: Any, path: str) -> ToolCallJSON:
    """Build an OpenAI tool call; arguments are the JSON text of the parsed input."""
    if not isinstance(use, Mapping) or not isinstance(use.get("toolUseId"), str):
        raise InvalidRequestError("a toolUse needs a string 'toolUseId'", path=path)
    name = text_field(use.get("name"), f"{path}.name")
    arguments = dumps_field(use.get("input", {}), f"{path}.input")
    return {"id": use["toolUseId"], "type": "function", "function": {"name": name, "arguments": arguments}}


def _tools(specs: Sequence[ToolSpec] | None) -> list[ToolSpecJSON]:
    """OpenAI tool definitions; only name, description and ``inputSchema["json"]`` are sent."""
    out: list[ToolSpecJSON] = []
    for index, raw in enumerate(specs or ()):
        spec: Any = raw
        path = f"tool_specs[{index}]"
        if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str):
            raise InvalidRequestError("a tool spec must be a mapping with a string 'name'", path=path)
        schema = spec.get("inputSchema")
        if not isinstance(schema, Mapping) or not isinstance(schema.get("json"), Mapping):
            raise InvalidRequestError("must be {'json': <JSON Schema>}", path=f"{path}.inputSchema")
        function: Any = {"name": spec["name"], "parameters": schema["json"]}
        if "description" in spec:
            function["description"] = spec["description"]
        out.append({"type": "function", "function": function})
    return out


def _tool_choice(choice: ToolChoice) -> str | dict[str, Any]:
    """``auto`` -> ``"auto"``, ``any`` -> ``"required"``, ``tool`` -> a named function."""
    raw: Any = choice
    if isinstance(raw, Mapping):
        for key, value in _TOOL_CHOICE.items():
            if key in raw:
                return value
        tool = raw.get("tool")
        if isinstance(tool, Mapping) and isinstance(tool.get("name"), str):
            return {"type": "function", "function": {"name": tool["name"]}}
    raise InvalidRequestError(
        "expected {'auto': {}}, {'any': {}} or {'tool': {'name': ...}}", path="tool_choice"
    )


# --------------------------------------------------------------------------- errors


def to_strands_exception(error: GatewayError) -> Exception:
    """Return the exception Strands acts on for ``error``, or ``error`` itself.

    Throttling becomes ``ModelThrottledException`` (the agent retries with backoff); a context
    overflow becomes ``ContextWindowOverflowException`` (the conversation manager trims history).
    When several targets failed (``error.failures``), it is throttling only if every target was
    throttled, and a context overflow if some target overflowed and the others were throttled
    or overflowed too; any other mix is raised as the gateway error itself.
    ``__cause__`` is set so the original error survives even without ``raise ... from``.
    """
    failures = error.failures or (error,)
    throttled = [isinstance(f, (RateLimitError, OverloadedError)) for f in failures]
    overflowed = [isinstance(f, ContextWindowExceededError) for f in failures]
    mapped: Exception
    if all(throttled):
        mapped = ModelThrottledException(str(error))
    elif any(overflowed) and all(t or o for t, o in zip(throttled, overflowed, strict=True)):
        mapped = ContextWindowOverflowException(str(error))
    else:
        return error
    mapped.__cause__ = error
    return mapped
