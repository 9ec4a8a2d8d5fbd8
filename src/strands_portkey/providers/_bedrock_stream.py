"""The streaming half of the Bedrock adapter: ConverseStream event-stream messages -> canonical chunks.

Events (``:event-type``): ``messageStart`` -> ``contentBlockStart`` (tool use only; text blocks
start implicitly) / ``contentBlockDelta`` / ``contentBlockStop`` -> ``messageStop`` (stop reason)
-> ``metadata`` (usage). An ``exception`` message (``throttlingException``, ``validationException``,
...) is raised as the classified error. An unknown event type, a tool delta for a block that never
started, or a corrupted frame is a :class:`~strands_portkey.errors.MalformedResponseError`; input
ending inside a frame or before ``messageStop`` is a
:class:`~strands_portkey.errors.StreamInterruptedError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import GatewayError, MalformedResponseError, StreamInterruptedError
from ..types import ChatChunk, ChunkChoice, Delta, ToolCallDelta, Usage
from ..wire import decode_json
from ._convert import not_json, snippet, token_count
from ._errors import classify_in_band_error
from ._eventstream import EventStreamDecoder, EventStreamError

__all__ = ["BedrockStreamParser", "bedrock_usage", "finish_reason"]

_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}
_TOOL, _JSON = 1, 3


def finish_reason(stop_reason: object) -> str | None:
    """Bedrock's ``stopReason`` as an OpenAI finish reason (unknown ones pass through)."""
    if stop_reason is None:
        return None
    return _FINISH.get(str(stop_reason), str(stop_reason))


def bedrock_usage(usage: Mapping[str, Any]) -> Usage:
    """Canonical usage: ``prompt_tokens`` counts uncached, cache-read and cache-write input tokens."""
    read = token_count(usage.get("cacheReadInputTokens"))
    write = token_count(usage.get("cacheWriteInputTokens"))
    prompt = token_count(usage.get("inputTokens")) + read + write
    completion = token_count(usage.get("outputTokens"))
    return Usage(prompt, completion, prompt + completion, read, write)


class BedrockStreamParser:
    """Incremental parser of one ConverseStream response (see the module doc)."""

    __slots__ = (
        "_blocks",
        "_decoder",
        "_done",
        "_finished",
        "_id",
        "_json_tool",
        "_model",
        "_provider",
        "_tools",
    )

    def __init__(
        self, provider: str, model: str, json_tool: str | None = None, response_id: str = ""
    ) -> None:
        self._provider = provider
        self._model = model
        self._json_tool = json_tool
        self._id = response_id
        self._decoder = EventStreamDecoder()
        self._blocks: dict[int, tuple[int, int]] = {}  # tool block index -> (kind, tool ordinal)
        self._tools = 0
        self._finished = False
        self._done = False

    def feed(self, data: bytes) -> list[ChatChunk]:
        """Parse more bytes; return the chunks they complete."""
        try:
            messages = self._decoder.feed(data)
        except EventStreamError as exc:
            raise MalformedResponseError(
                f"{self._provider} sent a broken event stream: {exc}", provider=self._provider
            ) from None
        out: list[ChatChunk] = []
        for message in messages:
            if not self._done:
                self._message(message.headers, message.payload, out)
        return out

    def close(self) -> list[ChatChunk]:
        """End of input: raise if a frame was cut or the answer never finished."""
        try:
            self._decoder.close()
        except EventStreamError as exc:
            if not self._finished:
                raise StreamInterruptedError(
                    f"{self._provider} stream broke off: {exc}", provider=self._provider
                ) from None
        if not self._finished:
            raise StreamInterruptedError(
                f"{self._provider} stream ended before it was complete (no messageStop); "
                "the answer may be truncated",
                provider=self._provider,
            )
        return []

    def _message(self, headers: Mapping[str, str], payload: bytes, out: list[ChatChunk]) -> None:
        kind = headers.get(":message-type", "event")
        if kind == "exception":
            raise self._exception(headers.get(":exception-type", "exception"), payload)
        if kind == "error":
            message = headers.get(":error-message") or payload.decode("utf-8", "replace")
            error = {"error": {"message": message, "type": headers.get(":error-code")}}
            raise classify_in_band_error(self._provider, error)
        if kind != "event":
            raise self._error(f"an unknown message type {kind!r}", payload)
        event = headers.get(":event-type")
        try:
            body = decode_json(payload) if payload else {}
        except ValueError as error:
            raise self._error(f"a {event} event that is {not_json(error)}", payload) from None
        if not isinstance(body, dict):
            raise self._error(f"a {event} event that is not a JSON object", payload)
        try:
            self._event(event, body, out, payload)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise self._error(f"a {event} event of unexpected shape ({exc!r})", payload) from None

    def _event(self, event: str | None, body: dict[str, Any], out: list[ChatChunk], payload: bytes) -> None:
        if event == "contentBlockDelta":
            self._delta(body["contentBlockIndex"], body["delta"], out, payload)
        elif event == "contentBlockStart":
            self._start(body["contentBlockIndex"], body["start"], out)
        elif event == "contentBlockStop":
            return
        elif event == "messageStart":
            out.append(
                ChatChunk(self._id, self._model, (ChunkChoice(0, Delta(role=body.get("role", "assistant"))),))
            )
        elif event == "messageStop":
            finish = finish_reason(body.get("stopReason"))
            if finish == "tool_calls" and self._json_tool is not None and not self._tools:
                finish = "stop"
            self._finished = True
            out.append(ChatChunk(self._id, self._model, (ChunkChoice(0, Delta(), finish or "stop"),)))
        elif event == "metadata":
            self._done = True
            usage = body.get("usage")
            if isinstance(usage, Mapping):
                out.append(ChatChunk(self._id, self._model, (), bedrock_usage(usage)))
        else:
            raise self._error(f"an unknown event type {event!r}", payload)

    def _start(self, index: int, start: Mapping[str, Any], out: list[ChatChunk]) -> None:
        tool = start.get("toolUse")
        if not isinstance(tool, Mapping):
            return  # other block kinds (e.g. images from image models) carry nothing an agent replays
        if tool["name"] == self._json_tool:
            self._blocks[index] = (_JSON, 0)
            return
        ordinal = self._tools
        self._tools += 1
        self._blocks[index] = (_TOOL, ordinal)
        out.append(
            self._chunk(Delta(tool_calls=(ToolCallDelta(ordinal, tool["toolUseId"], tool["name"], ""),)))
        )

    def _delta(self, index: int, delta: Mapping[str, Any], out: list[ChatChunk], payload: bytes) -> None:
        text = delta.get("text")
        if text is not None:
            out.append(self._chunk(Delta(text)))
            return
        tool = delta.get("toolUse")
        if tool is not None:
            block = self._blocks.get(index)
            if block is None:
                raise self._error(
                    f"a tool input delta for content block {index}, which never started", payload
                )
            fragment = tool["input"]
            if block[0] == _JSON:
                out.append(self._chunk(Delta(fragment)))
            elif fragment:
                out.append(self._chunk(Delta(tool_calls=(ToolCallDelta(block[1], None, None, fragment),))))
            return
        reasoning = delta.get("reasoningContent")
        if isinstance(reasoning, Mapping):
            if reasoning.get("text"):
                out.append(self._chunk(Delta(reasoning=reasoning["text"])))
            if reasoning.get("signature"):
                out.append(self._chunk(Delta(reasoning_signature=reasoning["signature"])))
            return  # redactedContent: opaque, not replayable through the canonical stream
        if not delta.get("citation"):
            raise self._error(f"an unknown delta {sorted(delta)!r}", payload)

    def _exception(self, name: str, payload: bytes) -> GatewayError:
        try:
            body = decode_json(payload)
        except ValueError:
            body = {}
        message = body.get("message") if isinstance(body, dict) else None
        text = message if isinstance(message, str) else payload.decode("utf-8", "replace")
        return classify_in_band_error(self._provider, {"error": {"message": f"{name}: {text}", "type": name}})

    def _chunk(self, delta: Delta) -> ChatChunk:
        return ChatChunk(self._id, self._model, (ChunkChoice(0, delta),))

    def _error(self, what: str, payload: bytes) -> GatewayError:
        return MalformedResponseError(
            f"{self._provider} sent {what}: {snippet(payload)}", provider=self._provider
        )
