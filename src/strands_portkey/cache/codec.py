"""The stored form of a response, its replay as a stream, and a stream folded back into a response.

Entries are JSON (they may live in SQLite or a Redis shared by several processes), versioned, and
hold everything ``PortkeyModel`` needs to reproduce the answer: text, reasoning (and its
signature), tool calls, finish reason and usage. A streamed request served from the cache gets
the chunk shapes a provider would send (role and text, reasoning, one fragment per tool call, the
finish reason, then usage), so a caller cannot tell a replay from a live stream.
"""

from __future__ import annotations

import json
from typing import Any

from ..types import (
    ChatChunk,
    ChatResponse,
    Choice,
    ChunkChoice,
    Delta,
    ResponseMessage,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from ..wire import decode_json

__all__ = ["StreamFold", "decode_response", "encode_response", "replay_chunks"]

_FORMAT = 1


def encode_response(response: ChatResponse) -> bytes:
    """The bytes to store for ``response``."""
    return json.dumps(
        {
            "format": _FORMAT,
            "id": response.id,
            "model": response.model,
            "created": response.created,
            "choices": [_choice_json(choice) for choice in response.choices],
            "usage": [
                response.usage.prompt_tokens,
                response.usage.completion_tokens,
                response.usage.total_tokens,
                response.usage.cache_read_tokens,
                response.usage.cache_write_tokens,
            ],
        },
        separators=(",", ":"),
    ).encode()


def _choice_json(choice: Choice) -> dict[str, Any]:
    message = choice.message
    return {
        "index": choice.index,
        "finish_reason": choice.finish_reason,
        "content": message.content,
        "reasoning": message.reasoning,
        "reasoning_signature": message.reasoning_signature,
        "tool_calls": [[call.id, call.name, call.arguments] for call in message.tool_calls],
    }


def decode_response(data: bytes) -> ChatResponse:
    """A stored response; ``ValueError`` when the entry is corrupt or of another format.

    A shared store (Redis, a SQLite file) is outside this process: an entry is decoded as
    carefully as an upstream answer (:func:`~strands_portkey.wire.decode_json`), and a count too
    large for an ``int`` (``1e999``) is a corrupt entry, not an ``OverflowError``.
    """
    try:
        raw = decode_json(data)
        if raw.get("format") != _FORMAT:
            raise ValueError(f"cache entry format {raw.get('format')!r}, expected {_FORMAT}")
        choices = tuple(
            Choice(
                index=int(c["index"]),
                finish_reason=c["finish_reason"],
                message=ResponseMessage(
                    content=c["content"],
                    reasoning=c["reasoning"],
                    reasoning_signature=c["reasoning_signature"],
                    tool_calls=tuple(ToolCall(str(i), str(n), str(a)) for i, n, a in c["tool_calls"]),
                ),
            )
            for c in raw["choices"]
        )
        return ChatResponse(
            id=str(raw["id"]),
            model=str(raw["model"]),
            created=int(raw["created"]),
            choices=choices,
            usage=Usage(*(int(n) for n in raw["usage"])),
        )
    except (KeyError, TypeError, AttributeError, OverflowError, ValueError) as error:
        raise ValueError(f"corrupt cache entry: {type(error).__name__}: {error}") from error


def replay_chunks(response: ChatResponse) -> list[ChatChunk]:
    """``response`` as the chunks of a stream."""
    chunks: list[ChatChunk] = []

    def emit(index: int, delta: Delta, finish: str | None = None) -> None:
        chunks.append(
            ChatChunk(
                response.id, response.model, (ChunkChoice(index, delta, finish),), None, response.created
            )
        )

    for choice in response.choices:
        message = choice.message
        emit(choice.index, Delta(role="assistant", content=message.content or ""))
        if message.reasoning is not None or message.reasoning_signature is not None:
            emit(
                choice.index,
                Delta(reasoning=message.reasoning, reasoning_signature=message.reasoning_signature),
            )
        for position, call in enumerate(message.tool_calls):
            emit(
                choice.index, Delta(tool_calls=(ToolCallDelta(position, call.id, call.name, call.arguments),))
            )
        emit(choice.index, Delta(), choice.finish_reason or "stop")
    chunks.append(ChatChunk(response.id, response.model, (), response.usage, response.created))
    return chunks


class StreamFold:
    """Folds the chunks of a live stream into the response they add up to (for storing)."""

    def __init__(self) -> None:
        self._id = ""
        self._model = ""
        self._created = 0
        self._usage = Usage()
        self._choices: dict[int, _ChoiceFold] = {}

    def add(self, chunk: ChatChunk) -> None:
        """Take one chunk into account."""
        self._id = self._id or chunk.id
        self._model = self._model or chunk.model
        self._created = self._created or chunk.created
        if chunk.usage is not None:
            self._usage = chunk.usage
        for choice in chunk.choices:
            self._choices.setdefault(choice.index, _ChoiceFold()).add(choice)

    def response(self) -> ChatResponse | None:
        """The complete response, or None if some choice never finished (never store those)."""
        if not self._choices or any(fold.finish is None for fold in self._choices.values()):
            return None
        choices = tuple(fold.choice(index) for index, fold in sorted(self._choices.items()))
        return ChatResponse(self._id, self._model, choices, self._usage, self._created)


class _ChoiceFold:
    def __init__(self) -> None:
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.signature: str | None = None
        self.calls: dict[int, list[str]] = {}
        self.ids: dict[int, str] = {}
        self.names: dict[int, str] = {}
        self.finish: str | None = None

    def add(self, choice: ChunkChoice) -> None:
        delta = choice.delta
        if delta.content:
            self.text.append(delta.content)
        if delta.reasoning:
            self.reasoning.append(delta.reasoning)
        if delta.reasoning_signature:
            self.signature = delta.reasoning_signature
        for call in delta.tool_calls:
            self.calls.setdefault(call.index, []).append(call.arguments)
            if call.id:
                self.ids[call.index] = call.id
            if call.name:
                self.names[call.index] = call.name
        if choice.finish_reason is not None:
            self.finish = choice.finish_reason

    def choice(self, index: int) -> Choice:
        calls = tuple(
            ToolCall(self.ids.get(i, f"call_{i}"), self.names.get(i, ""), "".join(parts))
            for i, parts in sorted(self.calls.items())
        )
        message = ResponseMessage(
            content="".join(self.text) if self.text or not calls else None,
            tool_calls=calls,
            reasoning="".join(self.reasoning) if self.reasoning else None,
            reasoning_signature=self.signature,
        )
        return Choice(index, message, self.finish)
