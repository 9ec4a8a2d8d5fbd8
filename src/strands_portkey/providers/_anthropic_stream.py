"""The streaming half of the Anthropic adapter: Messages API SSE events -> canonical chunks.

The event state machine: ``message_start`` (id, model, input usage) -> for each content block
``content_block_start`` / ``content_block_delta``... / ``content_block_stop`` -> ``message_delta``
(stop reason, output usage) -> ``message_stop``. ``ping`` is skipped; ``error`` is raised as the
classified error. Any other event type, an unknown delta type, or a delta for a block that was
never started is a :class:`~strands_portkey.errors.MalformedResponseError` naming the provider and
what was unexpected. A stream that ends before ``message_delta`` carried a stop reason raises
:class:`~strands_portkey.errors.StreamInterruptedError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import GatewayError, MalformedResponseError, StreamInterruptedError
from ..types import ChatChunk, ChunkChoice, Delta, ToolCallDelta, Usage
from ..wire import decode_json
from ._convert import event_failure, snippet, token_count
from ._errors import classify_error_event, classify_in_band_error
from ._sse import SSEDecoder

__all__ = ["AnthropicStreamParser", "finish_reason", "stop_reason", "usage_from"]

_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "refusal": "content_filter",
}
# The way back (the gateway's /v1/messages route): the first Anthropic reason of each finish reason.
_STOP = {finish: reason for reason, finish in reversed(_FINISH.items())}
_TEXT, _TOOL, _THINKING, _JSON, _OTHER = 0, 1, 2, 3, 4


def finish_reason(stop_reason: object) -> str | None:
    """Anthropic's ``stop_reason`` as an OpenAI finish reason (unknown ones pass through)."""
    if stop_reason is None:
        return None
    return _FINISH.get(str(stop_reason), str(stop_reason))


def stop_reason(finish: str | None) -> str:
    """An OpenAI finish reason as Anthropic's ``stop_reason`` (``stop`` -> ``end_turn``...).

    The inverse of :func:`finish_reason` where it is many-to-one: ``stop`` becomes ``end_turn``
    (which stop sequence matched is not carried by a canonical answer). A finish reason Anthropic
    has no word for (``error``, a provider's own) is ``end_turn`` too; none at all also.
    """
    return _STOP.get(finish or "stop", "end_turn")


def usage_from(usage: Mapping[str, Any], start: Mapping[str, Any] | None) -> Usage:
    """Canonical usage; ``start`` is ``message_start``'s usage, for fields a later event omits."""
    start = start or {}

    def count(name: str) -> int:
        value = usage.get(name)
        if value is None:
            value = start.get(name)
        return token_count(value)

    read, write = count("cache_read_input_tokens"), count("cache_creation_input_tokens")
    prompt = count("input_tokens") + read + write
    completion = count("output_tokens")
    return Usage(prompt, completion, prompt + completion, read, write)


class AnthropicStreamParser:
    """Incremental parser of one Messages API event stream (see the module doc)."""

    __slots__ = (
        "_blocks",
        "_decoder",
        "_done",
        "_finished",
        "_id",
        "_json_tool",
        "_model",
        "_provider",
        "_start_usage",
        "_tools",
    )

    def __init__(self, provider: str, model: str, json_tool: str | None = None) -> None:
        self._provider = provider
        self._model = model
        self._json_tool = json_tool
        self._decoder = SSEDecoder()
        self._id = ""
        self._blocks: dict[int, tuple[int, int]] = {}  # block index -> (kind, tool ordinal)
        self._tools = 0
        self._start_usage: Mapping[str, Any] | None = None
        self._finished = False
        self._done = False

    def feed(self, data: bytes) -> list[ChatChunk]:
        """Parse more bytes; return the chunks they complete."""
        if self._done:
            return []
        out: list[ChatChunk] = []
        for event in self._decoder.feed(data):
            self._event(event.event, event.data, out, at_end=False)
        return out

    def close(self) -> list[ChatChunk]:
        """End of input: raise unless the answer was complete."""
        out: list[ChatChunk] = []
        if not self._done:
            for event in self._decoder.close():
                self._event(event.event, event.data, out, at_end=True)
        if not (self._done or self._finished):
            raise StreamInterruptedError(
                f"{self._provider} stream ended before it was complete (no message_stop and no stop_reason); "
                "the answer may be truncated",
                provider=self._provider,
            )
        return out

    def _event(self, name: str | None, data: str, out: list[ChatChunk], *, at_end: bool) -> None:
        if self._done:
            return
        if name == "error":
            raise classify_error_event(self._provider, data)
        try:
            payload = decode_json(data)
        except ValueError as error:
            if at_end and self._finished:
                return
            raise self._error(*event_failure(error, at_end=at_end), data) from None
        if not isinstance(payload, dict):
            raise self._error(MalformedResponseError, "sent a stream event that is not a JSON object", data)
        kind = payload.get("type") or name
        try:
            self._dispatch(kind, payload, out, data)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise self._error(
                MalformedResponseError, f"sent a {kind} event of unexpected shape ({exc!r})", data
            ) from None

    def _dispatch(self, kind: object, payload: dict[str, Any], out: list[ChatChunk], data: str) -> None:
        if kind == "content_block_delta":
            self._delta(payload["index"], payload["delta"], out, data)
        elif kind == "content_block_start":
            self._block_start(payload["index"], payload["content_block"], out, data)
        elif kind in ("content_block_stop", "ping"):
            return
        elif kind == "message_start":
            message = payload["message"]
            self._id = str(message.get("id") or "")
            self._model = str(message.get("model") or self._model)
            self._start_usage = message.get("usage") or {}
            out.append(ChatChunk(self._id, self._model, (ChunkChoice(0, Delta(role="assistant")),)))
        elif kind == "message_delta":
            self._message_delta(payload, out)
        elif kind == "message_stop":
            self._done = True
        elif kind == "error":
            raise classify_in_band_error(self._provider, payload)
        else:
            raise self._error(MalformedResponseError, f"sent an unknown event type {kind!r}", data)

    def _block_start(self, index: int, block: Mapping[str, Any], out: list[ChatChunk], data: str) -> None:
        kind = block["type"]
        if kind == "text":
            self._blocks[index] = (_TEXT, 0)
            if block.get("text"):
                out.append(self._chunk(Delta(block["text"])))
        elif kind == "tool_use" and block["name"] == self._json_tool:
            self._blocks[index] = (_JSON, 0)
        elif kind == "tool_use":
            ordinal = self._tools
            self._tools += 1
            self._blocks[index] = (_TOOL, ordinal)
            out.append(
                self._chunk(Delta(tool_calls=(ToolCallDelta(ordinal, block["id"], block["name"], ""),)))
            )
        elif kind == "thinking":
            self._blocks[index] = (_THINKING, 0)
            if block.get("thinking"):
                out.append(self._chunk(Delta(reasoning=block["thinking"])))
        else:  # redacted_thinking, server tool blocks: framed, but nothing an agent can replay
            self._blocks[index] = (_OTHER, 0)

    def _delta(self, index: int, delta: Mapping[str, Any], out: list[ChatChunk], data: str) -> None:
        block = self._blocks.get(index)
        if block is None:
            raise self._error(
                MalformedResponseError, f"sent a delta for content block {index}, which never started", data
            )
        kind = delta["type"]
        if kind == "text_delta":
            out.append(self._chunk(Delta(delta["text"])))
        elif kind == "input_json_delta":
            fragment = delta["partial_json"]
            if block[0] == _JSON:
                out.append(self._chunk(Delta(fragment)))
            elif fragment:
                out.append(self._chunk(Delta(tool_calls=(ToolCallDelta(block[1], None, None, fragment),))))
        elif kind == "thinking_delta":
            out.append(self._chunk(Delta(reasoning=delta["thinking"])))
        elif kind == "signature_delta":
            out.append(self._chunk(Delta(reasoning_signature=delta["signature"])))
        elif kind != "citations_delta":
            raise self._error(MalformedResponseError, f"sent an unknown delta type {kind!r}", data)

    def _message_delta(self, payload: Mapping[str, Any], out: list[ChatChunk]) -> None:
        delta = payload.get("delta") or {}
        finish = finish_reason(delta.get("stop_reason"))
        if finish == "tool_calls" and self._json_tool is not None and not self._tools:
            finish = "stop"
        self._finished = self._finished or finish is not None
        choices = (ChunkChoice(0, Delta(), finish),) if finish else ()
        usage = payload.get("usage") or {}
        counts = usage_from(usage, self._start_usage) if usage or self._start_usage else None
        out.append(ChatChunk(self._id, self._model, choices, counts))

    def _chunk(self, delta: Delta) -> ChatChunk:
        return ChatChunk(self._id, self._model, (ChunkChoice(0, delta),))

    def _error(self, kind: type[GatewayError], problem: str, data: str) -> GatewayError:
        return kind(f"{self._provider} {problem}: {snippet(data)}", provider=self._provider)
