"""OpenAI-shaped chat messages and tool definitions, as typed dicts.

Messages stay plain dicts at run time (``TypedDict`` only types them): adapters that speak
OpenAI pass them through untouched, which keeps the hot path cheap.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from typing_extensions import NotRequired

__all__ = [
    "AssistantMessage",
    "ContentPart",
    "FunctionCallJSON",
    "FunctionSpec",
    "Message",
    "SystemMessage",
    "ToolCallJSON",
    "ToolMessage",
    "ToolSpecJSON",
    "UserMessage",
]


class ContentPart(TypedDict, total=False):
    """One part of a multi-part message: ``{"type": "text", "text": ...}``, ``image_url``, ``file``."""

    type: str
    text: str
    image_url: dict[str, Any]
    file: dict[str, Any]
    cache_control: dict[str, Any]


class FunctionCallJSON(TypedDict):
    """The ``function`` member of an OpenAI tool call: arguments are a JSON *string*."""

    name: str
    arguments: str


class ToolCallJSON(TypedDict):
    """An OpenAI tool call as it appears in an assistant message."""

    id: str
    type: Literal["function"]
    function: FunctionCallJSON


class SystemMessage(TypedDict):
    """``{"role": "system", "content": ...}``."""

    role: Literal["system", "developer"]
    content: str | list[ContentPart]


class UserMessage(TypedDict):
    """``{"role": "user", "content": ...}``."""

    role: Literal["user"]
    content: str | list[ContentPart]


class AssistantMessage(TypedDict):
    """``{"role": "assistant", "content": ..., "tool_calls"?: [...]}``."""

    role: Literal["assistant"]
    content: str | list[ContentPart] | None
    tool_calls: NotRequired[list[ToolCallJSON]]
    reasoning_content: NotRequired[str]
    thinking_blocks: NotRequired[list[dict[str, Any]]]


class ToolMessage(TypedDict):
    """``{"role": "tool", "tool_call_id": ..., "content": ...}``."""

    role: Literal["tool"]
    tool_call_id: str
    content: str | list[ContentPart]


Message = SystemMessage | UserMessage | AssistantMessage | ToolMessage


class FunctionSpec(TypedDict):
    """The ``function`` member of an OpenAI tool definition."""

    name: str
    description: NotRequired[str]
    parameters: dict[str, Any]


class ToolSpecJSON(TypedDict):
    """``{"type": "function", "function": {...}}``."""

    type: Literal["function"]
    function: FunctionSpec
