"""Canonical, provider-neutral types used inside the gateway.

Everything between the Strands codec and the provider adapters speaks these types. They are
shaped like OpenAI chat completions (the lingua franca of LLM gateways), but typed and small:

* :class:`ChatRequest` -- what is asked: model, messages, tools, tool choice, other parameters.
* :class:`ChatResponse` -- a complete answer, with :class:`Usage` and :class:`RouteInfo`.
* :class:`ChatChunk` -- one streamed delta (text, reasoning, tool-call fragments, finish, usage).

Messages are kept as plain OpenAI-shaped dicts (typed with ``TypedDict``) rather than objects:
adapters that speak OpenAI pass them through untouched, which keeps the hot path cheap.
Dataclasses use ``slots``; the per-chunk ones are not ``frozen`` because a frozen dataclass's
``__init__`` costs about a microsecond more, and one is built per streamed chunk. Treat them as
read-only all the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .messages import (
    AssistantMessage,
    ContentPart,
    FunctionSpec,
    Message,
    SystemMessage,
    ToolCallJSON,
    ToolMessage,
    ToolSpecJSON,
    UserMessage,
)
from .request_checks import check_request_body, check_request_fields
from .route_info import Attempt, CacheStatus, RouteInfo

__all__ = [
    "AssistantMessage",
    "Attempt",
    "CacheStatus",
    "ChatChunk",
    "ChatRequest",
    "ChatResponse",
    "Choice",
    "ChunkChoice",
    "ContentPart",
    "Delta",
    "FinishReason",
    "FunctionSpec",
    "Message",
    "ResponseMessage",
    "RouteInfo",
    "SystemMessage",
    "ToolCall",
    "ToolCallDelta",
    "ToolMessage",
    "ToolSpecJSON",
    "Usage",
    "UserMessage",
]

FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "error"]

_FIRST_CLASS_KEYS = frozenset({"model", "messages", "tools", "tool_choice", "stream"})

# --------------------------------------------------------------------------- request


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """A chat-completions request, validated once at the gateway's edge.

    ``params`` carries every other body field (``temperature``, ``max_tokens``,
    ``response_format``, ``stream_options``, ...) unchanged, so nothing a caller sends is lost.
    """

    model: str
    messages: list[Message]
    tools: list[ToolSpecJSON] | None = None
    tool_choice: str | dict[str, Any] | None = None
    stream: bool = False
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> ChatRequest:
        """Build a request from an OpenAI-shaped body, naming the offending field on bad input."""
        body = check_request_body(body)
        return cls._from_checked(body)

    @classmethod
    def _from_checked(cls, body: Mapping[str, Any]) -> ChatRequest:
        """A request from a body that passed :func:`~strands_portkey.request_checks.check_request_body`."""
        params = {key: value for key, value in body.items() if key not in _FIRST_CLASS_KEYS}
        return cls(
            model=body["model"],
            messages=body["messages"],
            tools=body.get("tools") or None,
            tool_choice=body.get("tool_choice"),
            stream=body.get("stream", False),
            params=params,
        )

    def to_body(self) -> dict[str, Any]:
        """The OpenAI-shaped JSON body; ``tools`` and ``tool_choice`` are omitted when empty."""
        body: dict[str, Any] = {"model": self.model, "messages": self.messages}
        if self.tools:
            body["tools"] = self.tools
            if self.tool_choice is not None:
                body["tool_choice"] = self.tool_choice
        body.update(self.params)
        if self.stream:
            body["stream"] = True
        return body

    def with_overrides(self, overrides: Mapping[str, Any]) -> ChatRequest:
        """Apply Portkey ``override_params``: a shallow merge over the body, the override wins.

        Only the overrides are checked here (the request was, when it was built; a config's
        ``override_params`` were too, at construction, so this never fails for them).
        """
        if not overrides:
            return self
        check_request_fields(overrides)
        body = self.to_body()
        body.update(overrides)
        body["stream"] = self.stream
        return ChatRequest._from_checked(body)

    def with_stream(self, stream: bool) -> ChatRequest:
        """The same request, streamed or not."""
        if stream == self.stream:
            return self
        return ChatRequest(self.model, self.messages, self.tools, self.tool_choice, stream, self.params)


# --------------------------------------------------------------------------- usage and responses


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts. Cache counts are those the provider reports (prompt caching), else 0."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    def to_dict(self) -> dict[str, Any]:
        """OpenAI ``usage`` object, with cache counts under ``prompt_tokens_details``."""
        out: dict[str, Any] = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }
        if self.cache_read_tokens or self.cache_write_tokens:
            out["prompt_tokens_details"] = {
                "cached_tokens": self.cache_read_tokens,
                "cache_write_tokens": self.cache_write_tokens,
            }
        return out


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A complete tool call: ``arguments`` is the JSON string the model produced."""

    id: str
    name: str
    arguments: str

    def to_dict(self) -> ToolCallJSON:
        """OpenAI tool-call JSON."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(frozen=True, slots=True)
class ResponseMessage:
    """The assistant message of one choice."""

    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    reasoning: str | None = None
    reasoning_signature: str | None = None
    role: Literal["assistant"] = "assistant"

    def to_dict(self) -> dict[str, Any]:
        """OpenAI message JSON (reasoning as ``reasoning_content``, the common extension)."""
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            out["tool_calls"] = [call.to_dict() for call in self.tool_calls]
        if self.reasoning is not None:
            out["reasoning_content"] = self.reasoning
        return out


@dataclass(frozen=True, slots=True)
class Choice:
    """One choice of a complete response."""

    index: int
    message: ResponseMessage
    finish_reason: str | None


@dataclass(slots=True)
class ChatResponse:
    """A complete chat completion."""

    id: str
    model: str
    choices: tuple[Choice, ...]
    usage: Usage = field(default_factory=Usage)
    created: int = 0
    route: RouteInfo | None = None

    @property
    def message(self) -> ResponseMessage:
        """The first choice's message (agents ask for one choice)."""
        return self.choices[0].message if self.choices else ResponseMessage()

    @property
    def text(self) -> str:
        """The first choice's text, or ``""``."""
        return self.message.content or ""

    @property
    def finish_reason(self) -> str | None:
        """The first choice's finish reason."""
        return self.choices[0].finish_reason if self.choices else None

    def to_dict(self) -> dict[str, Any]:
        """OpenAI ``chat.completion`` JSON."""
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {"index": c.index, "message": c.message.to_dict(), "finish_reason": c.finish_reason}
                for c in self.choices
            ],
            "usage": self.usage.to_dict(),
        }


# --------------------------------------------------------------------------- streaming


@dataclass(slots=True)
class ToolCallDelta:
    """A fragment of a streamed tool call; ``index`` groups fragments of one call."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(slots=True)
class Delta:
    """What one chunk adds to one choice."""

    content: str | None = None
    reasoning: str | None = None
    reasoning_signature: str | None = None
    tool_calls: tuple[ToolCallDelta, ...] = ()
    role: str | None = None


@dataclass(slots=True)
class ChunkChoice:
    """One choice's delta within a chunk."""

    index: int
    delta: Delta
    finish_reason: str | None = None


@dataclass(slots=True)
class ChatChunk:
    """One streamed chunk. A usage-only chunk has no choices and a ``usage``."""

    id: str
    model: str
    choices: tuple[ChunkChoice, ...] = ()
    usage: Usage | None = None
    created: int = 0

    def to_dict(self) -> dict[str, Any]:
        """OpenAI ``chat.completion.chunk`` JSON (for re-emitting as SSE)."""
        choices = []
        for choice in self.choices:
            delta: dict[str, Any] = {}
            if choice.delta.role is not None:
                delta["role"] = choice.delta.role
            if choice.delta.content is not None:
                delta["content"] = choice.delta.content
            if choice.delta.reasoning is not None:
                delta["reasoning_content"] = choice.delta.reasoning
            if choice.delta.tool_calls:
                delta["tool_calls"] = [_tool_call_delta_json(t) for t in choice.delta.tool_calls]
            choices.append({"index": choice.index, "delta": delta, "finish_reason": choice.finish_reason})
        out: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }
        if self.usage is not None:
            out["usage"] = self.usage.to_dict()
        return out


def _tool_call_delta_json(delta: ToolCallDelta) -> dict[str, Any]:
    function: dict[str, Any] = {"arguments": delta.arguments}
    if delta.name is not None:
        function["name"] = delta.name
    out: dict[str, Any] = {"index": delta.index, "function": function}
    if delta.id is not None:
        out["id"] = delta.id
        out["type"] = "function"
    return out
