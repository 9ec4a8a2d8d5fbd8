"""The parsing half of the Gemini adapter: ``GenerateContentResponse`` objects -> canonical answers.

A streamed answer (``streamGenerateContent?alt=sse``) is a series of whole response objects, each
carrying the next parts, so one function reads both forms. Function calls arrive whole (never in
fragments) and without ids on older models: an id is generated. ``thought: true`` parts are
reasoning. The stream is complete once a candidate carries a ``finishReason``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..errors import GatewayError, MalformedResponseError, StreamInterruptedError
from ..types import ChatChunk, ChunkChoice, Delta, ToolCall, ToolCallDelta, Usage
from ..wire import decode_json
from ._convert import event_failure, generated_tool_id, snippet, token_count
from ._errors import classify_in_band_error
from ._sse import SSEDecoder

__all__ = ["GeminiStreamParser", "candidate_parts", "finish_reason", "gemini_usage"]

_FINISH = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "MALFORMED_FUNCTION_CALL": "error",
}


def finish_reason(reason: object, saw_calls: bool) -> str | None:
    """Gemini's ``finishReason`` as an OpenAI finish reason; STOP after function calls is tool_calls."""
    if reason is None or reason == "FINISH_REASON_UNSPECIFIED":
        return None
    mapped = _FINISH.get(str(reason), str(reason).lower())
    return "tool_calls" if mapped == "stop" and saw_calls else mapped


def gemini_usage(usage: Mapping[str, Any]) -> Usage:
    """Canonical usage; thinking tokens count as completion tokens, as they are billed."""
    prompt = token_count(usage.get("promptTokenCount"))
    completion = token_count(usage.get("candidatesTokenCount")) + token_count(usage.get("thoughtsTokenCount"))
    total = token_count(usage.get("totalTokenCount")) or prompt + completion
    return Usage(prompt, completion, total, token_count(usage.get("cachedContentTokenCount")), 0)


def candidate_parts(
    payload: Mapping[str, Any],
) -> tuple[str | None, str | None, list[ToolCall], object, bool]:
    """``(text, reasoning, calls, finishReason, has_candidate)`` of the first candidate."""
    candidates = payload.get("candidates")
    if not candidates:
        feedback = payload.get("promptFeedback") or {}
        blocked = "SAFETY" if feedback.get("blockReason") else None
        return None, None, [], blocked, False
    candidate = candidates[0]
    texts: list[str] = []
    thoughts: list[str] = []
    calls: list[ToolCall] = []
    for part in (candidate.get("content") or {}).get("parts") or ():
        if "functionCall" in part:
            call = part["functionCall"]
            arguments = json.dumps(call.get("args") or {}, ensure_ascii=False)
            calls.append(ToolCall(str(call.get("id") or generated_tool_id()), str(call["name"]), arguments))
        elif "text" in part:
            (thoughts if part.get("thought") else texts).append(part["text"])
    text = "".join(texts) if texts else None
    reasoning = "".join(thoughts) if thoughts else None
    return text, reasoning, calls, candidate.get("finishReason"), True


class GeminiStreamParser:
    """Incremental parser of one ``streamGenerateContent?alt=sse`` response."""

    __slots__ = ("_decoder", "_finished", "_model", "_provider", "_tools")

    def __init__(self, provider: str, model: str) -> None:
        self._provider = provider
        self._model = model
        self._decoder = SSEDecoder()
        self._tools = 0
        self._finished = False

    def feed(self, data: bytes) -> list[ChatChunk]:
        """Parse more bytes; return the chunks they complete."""
        return [self._chunk(event.data, at_end=False) for event in self._decoder.feed(data) if event.data]

    def close(self) -> list[ChatChunk]:
        """End of input: raise unless a finish reason arrived."""
        out = []
        for event in self._decoder.close():
            if event.data and not (self._finished and not _is_json(event.data)):
                out.append(self._chunk(event.data, at_end=True))
        if not self._finished:
            raise StreamInterruptedError(
                f"{self._provider} stream ended before it was complete (no finishReason); "
                "the answer may be truncated",
                provider=self._provider,
            )
        return out

    def _chunk(self, data: str, *, at_end: bool) -> ChatChunk:
        try:
            payload = decode_json(data)
        except ValueError as error:
            raise self._error(*event_failure(error, at_end=at_end), data) from None
        if not isinstance(payload, dict):
            raise self._error(MalformedResponseError, "sent a stream event that is not a JSON object", data)
        if payload.get("error"):
            raise classify_in_band_error(self._provider, payload)
        try:
            text, reasoning, calls, reason, _ = candidate_parts(payload)
            usage = payload.get("usageMetadata")
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise self._error(
                MalformedResponseError, f"sent a chunk of unexpected shape ({exc!r})", data
            ) from None
        deltas = tuple(
            ToolCallDelta(self._tools + i, call.id, call.name, call.arguments) for i, call in enumerate(calls)
        )
        self._tools += len(calls)
        finish = finish_reason(reason, self._tools > 0)
        self._finished = self._finished or finish is not None
        return ChatChunk(
            str(payload.get("responseId") or ""),
            str(payload.get("modelVersion") or self._model),
            (ChunkChoice(0, Delta(text, reasoning, None, deltas), finish),),
            gemini_usage(usage) if isinstance(usage, Mapping) else None,
        )

    def _error(self, kind: type[GatewayError], problem: str, data: str) -> GatewayError:
        return kind(f"{self._provider} {problem}: {snippet(data)}", provider=self._provider)


def _is_json(data: str) -> bool:
    try:
        decode_json(data)
    except ValueError:
        return False
    return True
