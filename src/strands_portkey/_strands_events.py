"""Canonical chunks -> Strands ``StreamEvent`` dicts (the response half of the Strands codec).

Split from :mod:`strands_portkey._strands_codec` (which re-exports everything here) to keep both
modules small. Like the codec it is pure: no I/O, and strands is imported for types only.

The event loop that consumes these events (``strands.event_loop.streaming.process_stream``)
ignores ``contentBlockIndex`` and flushes *all* pending text/reasoning at every
``contentBlockStop``, so the converter keeps exactly one block open at a time, never opens a text
block before text arrives, closes reasoning before text (and both before tool blocks), sends tool
input as strings, and always ends with ``messageStop`` then ``metadata``.

It runs once per streamed chunk, so it avoids copies and helper objects: a text chunk costs one
list and one ``contentBlockDelta`` event.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from .types import ChatChunk, ChatResponse, ChunkChoice, Delta, ToolCallDelta, Usage

if TYPE_CHECKING:
    from strands.types.event_loop import StopReason
    from strands.types.event_loop import Usage as StrandsUsage
    from strands.types.streaming import StreamEvent

__all__ = ["StreamConverter", "response_to_events", "usage_to_strands"]

_NONE, _TEXT, _REASONING = 0, 1, 2

# OpenAI finish reasons, plus Strands' own names that Anthropic-format upstreams already use.
_STOP_REASONS: dict[str, StopReason] = {
    "stop": "end_turn",
    "end_turn": "end_turn",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "tool_use": "tool_use",
    "length": "max_tokens",
    "max_tokens": "max_tokens",
    "content_filter": "content_filtered",
    "content_filtered": "content_filtered",
    "stop_sequence": "stop_sequence",
}
# With tool calls buffered, these still win: a cut (#4135) or filtered call must not run.
_KEEP_WITH_TOOLS = frozenset({"max_tokens", "content_filtered"})


def usage_to_strands(usage: Usage) -> StrandsUsage:
    """Strands ``Usage``; cache counts appear only when positive, as Strands treats them optional.

    ``totalTokens`` falls back to input + output for providers that do not report a total.
    """
    out: StrandsUsage = {
        "inputTokens": usage.prompt_tokens,
        "outputTokens": usage.completion_tokens,
        "totalTokens": usage.total_tokens or usage.prompt_tokens + usage.completion_tokens,
    }
    if usage.cache_read_tokens > 0:
        out["cacheReadInputTokens"] = usage.cache_read_tokens
    if usage.cache_write_tokens > 0:
        out["cacheWriteInputTokens"] = usage.cache_write_tokens
    return out


class _PendingTool:
    """One tool call being assembled from fragments that share an ``index``."""

    __slots__ = ("fragments", "id", "name")

    def __init__(self) -> None:
        self.id: str | None = None
        self.name: str | None = None
        self.fragments: list[str] = []


class StreamConverter:
    """Turns the canonical chunks of one answer into Strands stream events.

    Call :meth:`feed` for every chunk, then :meth:`finish` once. Only the first choice is read
    (agents ask for one). Tool-call fragments are buffered by ``index`` and emitted, after the
    open text/reasoning block is closed, when a finish reason arrives (or in :meth:`finish`).
    Content arriving after the finish reason is ignored; a later usage chunk is kept.
    """

    __slots__ = ("_by_index", "_done", "_finish_reason", "_open", "_started", "_stopped", "_tools", "_usage")

    def __init__(self) -> None:
        self._started = False
        self._stopped = False
        self._done = False
        self._open = _NONE
        self._finish_reason: str | None = None
        self._tools: list[_PendingTool] = []
        self._by_index: dict[int, _PendingTool] = {}
        self._usage: Usage | None = None

    def feed(self, chunk: ChatChunk) -> list[StreamEvent]:
        """Return the events one chunk produces (often exactly one ``contentBlockDelta``)."""
        out: list[StreamEvent] = []
        if not self._started:
            self._started = True
            out.append({"messageStart": {"role": "assistant"}})
        if chunk.usage is not None:
            self._usage = chunk.usage
        for choice in chunk.choices:
            if choice.index == 0 and not self._stopped:
                self._feed_choice(choice, out)
        return out

    def finish(self, latency_ms: int) -> list[StreamEvent]:
        """Close what is still open, then ``messageStop`` (always) and ``metadata``.

        ``latency_ms`` is the caller's measure from request start to the last chunk. A second
        call returns nothing.
        """
        out: list[StreamEvent] = []
        if self._done:
            return out
        self._done = True
        if not self._started:
            self._started = True
            out.append({"messageStart": {"role": "assistant"}})
        if not self._stopped:
            self._stop(out)
        usage = usage_to_strands(self._usage if self._usage is not None else Usage())
        out.append({"metadata": {"usage": usage, "metrics": {"latencyMs": latency_ms}}})
        return out

    def intervene(self, notice: str, *, redact_user: str | None, latency_ms: int) -> list[StreamEvent]:
        """End the answer as a guardrail intervention (Strands' ``guardrail_intervened``).

        Text already streamed is replaced by ``notice`` (``redactAssistantContentMessage``);
        otherwise ``notice`` is the answer's only text. Buffered tool calls are dropped: a blocked
        answer never runs a tool. ``redact_user`` replaces the user's last message in the agent's
        history (``redactUserContentMessage``) when given.
        """
        out: list[StreamEvent] = []
        if self._done:
            return out
        started = self._started
        if not started:
            self._started = True
            out.append({"messageStart": {"role": "assistant"}})
        if self._open != _NONE:
            out.append({"contentBlockStop": {}})
            self._open = _NONE
        self._tools, self._by_index = [], {}
        if started:
            out.append({"redactContent": {"redactAssistantContentMessage": notice}})
        else:
            out.append({"contentBlockStart": {"start": {}}})
            out.append({"contentBlockDelta": {"delta": {"text": notice}}})
            out.append({"contentBlockStop": {}})
        if redact_user is not None:
            out.append({"redactContent": {"redactUserContentMessage": redact_user}})
        out.append({"messageStop": {"stopReason": "guardrail_intervened"}})
        self._stopped = self._done = True
        usage = usage_to_strands(self._usage if self._usage is not None else Usage())
        out.append({"metadata": {"usage": usage, "metrics": {"latencyMs": latency_ms}}})
        return out

    def _feed_choice(self, choice: ChunkChoice, out: list[StreamEvent]) -> None:
        delta = choice.delta
        if delta.reasoning or delta.reasoning_signature:
            self._reasoning(delta, out)
        text = delta.content
        if text:
            if self._open != _TEXT:
                self._open_block(_TEXT, out)
            out.append({"contentBlockDelta": {"delta": {"text": text}}})
        if delta.tool_calls:
            self._buffer(delta.tool_calls)
        if choice.finish_reason:
            self._finish_reason = choice.finish_reason
            self._stop(out)

    def _reasoning(self, delta: Delta, out: list[StreamEvent]) -> None:
        """Reasoning text and signature go to their own block, never mixed with text."""
        if self._open != _REASONING:
            self._open_block(_REASONING, out)
        if delta.reasoning:
            out.append({"contentBlockDelta": {"delta": {"reasoningContent": {"text": delta.reasoning}}}})
        if delta.reasoning_signature:
            signature = delta.reasoning_signature
            out.append({"contentBlockDelta": {"delta": {"reasoningContent": {"signature": signature}}}})

    def _open_block(self, kind: int, out: list[StreamEvent]) -> None:
        if self._open != _NONE:
            out.append({"contentBlockStop": {}})
        out.append({"contentBlockStart": {"start": {}}})
        self._open = kind

    def _buffer(self, deltas: tuple[ToolCallDelta, ...]) -> None:
        """Group fragments by ``index``; a new id at a used index starts a new call.

        The id check covers upstreams that number every parallel call ``0``.
        """
        for fragment in deltas:
            tool = self._by_index.get(fragment.index)
            if tool is None or (fragment.id and tool.id and fragment.id != tool.id):
                tool = self._by_index[fragment.index] = _PendingTool()
                self._tools.append(tool)
            if fragment.id and not tool.id:
                tool.id = fragment.id
            if fragment.name and not tool.name:
                tool.name = fragment.name
            tool.fragments.append(fragment.arguments)

    def _stop(self, out: list[StreamEvent]) -> None:
        """Close the open block, emit buffered tools, then ``messageStop``."""
        if self._open != _NONE:
            out.append({"contentBlockStop": {}})
            self._open = _NONE
        for tool in self._tools:
            tool_id = tool.id or f"call_{uuid.uuid4().hex}"
            out.append(
                {"contentBlockStart": {"start": {"toolUse": {"toolUseId": tool_id, "name": tool.name or ""}}}}
            )
            for piece in [f for f in tool.fragments if f] or [""]:
                out.append({"contentBlockDelta": {"delta": {"toolUse": {"input": piece}}}})
            out.append({"contentBlockStop": {}})
        out.append({"messageStop": {"stopReason": self._stop_reason()}})
        self._stopped = True

    def _stop_reason(self) -> StopReason:
        """Map the finish reason; buffered tool calls turn an ordinary end into ``tool_use``.

        ``tool_calls`` with nothing buffered becomes ``end_turn``, since Strands would otherwise
        loop back to the model with no tool to run.
        """
        reason = _STOP_REASONS.get(self._finish_reason or "stop", "end_turn")
        if self._tools:
            return reason if reason in _KEEP_WITH_TOOLS else "tool_use"
        return "end_turn" if reason == "tool_use" else reason


def response_to_events(response: ChatResponse, latency_ms: int) -> list[StreamEvent]:
    """Return the events of a complete (non-streamed) response, shaped like a stream's.

    The response is replayed as one synthetic chunk through :class:`StreamConverter`, so both
    paths share one implementation.
    """
    converter = StreamConverter()
    events = converter.feed(_as_chunk(response))
    events.extend(converter.finish(latency_ms))
    return events


def _as_chunk(response: ChatResponse) -> ChatChunk:
    if not response.choices:
        return ChatChunk(id=response.id, model=response.model, usage=response.usage)
    message = response.message
    calls = tuple(
        ToolCallDelta(index=i, id=call.id, name=call.name, arguments=call.arguments)
        for i, call in enumerate(message.tool_calls)
    )
    delta = Delta(
        content=message.content,
        reasoning=message.reasoning,
        reasoning_signature=message.reasoning_signature,
        tool_calls=calls,
    )
    choice = ChunkChoice(index=0, delta=delta, finish_reason=response.finish_reason)
    return ChatChunk(id=response.id, model=response.model, choices=(choice,), usage=response.usage)
