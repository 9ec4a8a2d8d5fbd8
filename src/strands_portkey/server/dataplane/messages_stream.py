"""Canonical chunks re-emitted as Anthropic's Messages SSE events (``POST /v1/messages`` streamed).

The sequence a client receives::

    message_start                          id, model, role, empty content, usage so far (zeros)
    content_block_start   index 0          text / thinking / tool_use (id, name, input {})
    content_block_delta   index 0 ...      text_delta / thinking_delta / signature_delta /
                                           input_json_delta (tool arguments, as they arrive)
    content_block_stop    index 0
    ... one block after the other, indexes in order ...
    message_delta                          stop_reason, stop_sequence, usage (cumulative)
    message_stop

A new kind of content (text after reasoning, a tool call after text, the next tool call) closes
the open block and opens the next index. Parallel tool calls get one block each, by their
canonical index; arguments for a call whose block was already closed (an upstream interleaving
calls, which Anthropic's own API never does) are still sent on that call's index, so nothing is
lost. Only the first choice is translated (Anthropic answers have one).

A failure while streaming (:class:`~strands_portkey.errors.GatewayError`, after the first chunk:
the stream is already committed) ends the body with Anthropic's ``error`` event, never with a
clean ``message_stop``. Open the gateway stream *before* calling :func:`message_events` (``async
with gw.stream(request) as stream``), so a failure before the first chunk is an HTTP error status
instead (see :func:`.messages_codec.anthropic_error_body`).

Per chunk the work is a few comparisons and one JSON string encoding: the event frames are
formatted from constant pieces.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from ...errors import GatewayError
from ...providers._anthropic_stream import stop_reason
from ...types import ChatChunk, ToolCallDelta, Usage
from .messages_codec import anthropic_error_body, anthropic_usage, message_id

__all__ = ["encode_event", "message_events"]

_TEXT, _THINKING, _TOOL = "text", "thinking", "tool_use"


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def encode_event(event: dict[str, Any]) -> bytes:
    """One SSE frame: ``event: <type>`` then the JSON ``data`` line."""
    return f"event: {event['type']}\ndata: {_dumps(event)}\n\n".encode()


def _delta(index: int, kind: str, field: str, value: str) -> bytes:
    return (
        f'event: content_block_delta\ndata: {{"type":"content_block_delta","index":{index},'
        f'"delta":{{"type":"{kind}","{field}":{_dumps(value)}}}}}\n\n'
    ).encode()


def _stop(index: int) -> bytes:
    return f'event: content_block_stop\ndata: {{"type":"content_block_stop","index":{index}}}\n\n'.encode()


class _Encoder:
    """The state of one stream: which block is open, which index each tool call got."""

    __slots__ = ("_next", "_open", "_open_kind", "_tools", "finish", "model", "started", "usage")

    def __init__(self, model: str) -> None:
        self.model = model
        self.started = False
        self._next = 0  # the index the next block gets
        self._open: int | None = None  # the open block's index
        self._open_kind = ""
        self._tools: dict[int, int] = {}  # canonical tool-call index -> block index
        self.finish: str | None = None
        self.usage: Usage | None = None

    def start(self, chunk: ChatChunk | None) -> bytes:
        self.started = True
        model = (chunk.model if chunk is not None else "") or self.model
        message: dict[str, Any] = {
            "id": message_id(chunk.id if chunk is not None else None),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }
        return encode_event({"type": "message_start", "message": message})

    def _begin(self, kind: str, block: dict[str, Any], out: list[bytes]) -> int:
        self.close_block(out)
        index = self._next
        self._next += 1
        self._open, self._open_kind = index, kind
        out.append(encode_event({"type": "content_block_start", "index": index, "content_block": block}))
        return index

    def close_block(self, out: list[bytes]) -> None:
        if self._open is not None:
            out.append(_stop(self._open))
            self._open = None
            self._open_kind = ""

    def _block(self, kind: str, block: dict[str, Any], out: list[bytes]) -> int:
        if self._open is not None and self._open_kind == kind:
            return self._open
        return self._begin(kind, block, out)

    def chunk(self, chunk: ChatChunk, out: list[bytes]) -> None:
        if chunk.usage is not None:
            self.usage = chunk.usage
        for choice in chunk.choices:
            if choice.index != 0:
                continue
            delta = choice.delta
            if delta.reasoning:
                index = self._block(_THINKING, {"type": "thinking", "thinking": ""}, out)
                out.append(_delta(index, "thinking_delta", "thinking", delta.reasoning))
            if delta.reasoning_signature:
                index = self._block(_THINKING, {"type": "thinking", "thinking": ""}, out)
                out.append(_delta(index, "signature_delta", "signature", delta.reasoning_signature))
            if delta.content:
                index = self._block(_TEXT, {"type": "text", "text": ""}, out)
                out.append(_delta(index, "text_delta", "text", delta.content))
            for call in delta.tool_calls:
                self._tool(call, out)
            if choice.finish_reason is not None:
                self.finish = choice.finish_reason

    def _tool(self, call: ToolCallDelta, out: list[bytes]) -> None:
        index = self._tools.get(call.index)
        if index is None:
            block = {
                "type": "tool_use",
                "id": call.id or f"toolu_{uuid.uuid4().hex[:24]}",
                "name": call.name or "",
                "input": {},
            }
            index = self._begin(_TOOL, block, out)
            self._tools[call.index] = index
        if call.arguments:
            out.append(_delta(index, "input_json_delta", "partial_json", call.arguments))

    def end(self, out: list[bytes]) -> None:
        self.close_block(out)
        usage = anthropic_usage(self.usage) if self.usage is not None else {"output_tokens": 0}
        delta = {"stop_reason": stop_reason(self.finish), "stop_sequence": None}
        out.append(encode_event({"type": "message_delta", "delta": delta, "usage": usage}))
        out.append(b'event: message_stop\ndata: {"type":"message_stop"}\n\n')


async def message_events(chunks: AsyncIterable[ChatChunk], *, model: str) -> AsyncIterator[bytes]:
    """Anthropic SSE frames (bytes) for a committed canonical stream; ``model`` until a chunk names one.

    One stream's state lives in this generator; a ``GatewayError`` from ``chunks`` becomes an
    ``error`` event and ends the body (the error is not raised further: the response has started,
    and the gateway has recorded it). Any other exception is a bug: an ``api_error`` event is
    sent, then it is raised.
    """
    encoder = _Encoder(model)
    out: list[bytes] = []
    try:
        async for chunk in chunks:
            if not encoder.started:
                out.append(encoder.start(chunk))
            encoder.chunk(chunk, out)
            if out:
                yield b"".join(out)
                out.clear()
    except GatewayError as error:
        yield encode_event(anthropic_error_body(error)[1])
        return
    except Exception as error:
        yield encode_event(anthropic_error_body(error)[1])
        raise
    if not encoder.started:
        out.append(encoder.start(None))
    encoder.end(out)
    yield b"".join(out)
