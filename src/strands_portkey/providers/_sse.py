r"""An incremental Server-Sent-Events decoder, shared by every streaming adapter.

Bytes arrive in arbitrary pieces: a split may fall inside a multi-byte UTF-8 character or
between ``\r`` and ``\n``. The decoder keeps the unfinished last line as byte pieces (joined once,
when the line ends, so a long line in small pieces costs linear time, not quadratic) and works on
whole lines only, found with ``bytes.split`` (UTF-8 never uses the bytes of ``\r``/``\n`` inside
a character, so splitting raw bytes on them is safe). It follows the WHATWG event-stream rules
that matter to LLM APIs:

* lines end with ``\n``, ``\r\n`` or ``\r``; a leading UTF-8 byte-order mark is dropped;
* ``:`` starts a comment; ``field: value`` strips one optional space after the colon;
* ``data`` lines are joined with ``\n``; ``event`` names the event; ``id``/``retry`` are ignored;
* a blank line dispatches the event (only if it has data); :meth:`SSEDecoder.close` also
  dispatches a last event that was not followed by a blank line.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SSEDecoder", "SSEEvent"]

_BOM = b"\xef\xbb\xbf"
_CR = 0x0D
_LF = 0x0A
_COLON = 0x3A


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One dispatched event: its ``event:`` name (``None`` when absent) and its joined data."""

    event: str | None
    data: str


class SSEDecoder:
    """Turn a byte stream into :class:`SSEEvent` objects, one :meth:`feed` at a time."""

    __slots__ = ("_at_start", "_data", "_event", "_skip_lf", "_tail")

    def __init__(self) -> None:
        self._tail: list[bytes] = []  # the unfinished last line, in the pieces it arrived in
        self._data: list[bytes] = []
        self._event: bytes | None = None
        self._skip_lf = False  # the previous piece ended with "\r": a leading "\n" belongs to it
        self._at_start = True  # a byte-order mark may still come

    def feed(self, data: bytes) -> list[SSEEvent]:
        """Decode more bytes; return the events they complete (possibly none)."""
        if self._skip_lf and data:
            self._skip_lf = False
            if data[0] == _LF:
                data = data[1:]
        if not data:
            return []
        if self._tail and not self._at_start and b"\n" not in data and b"\r" not in data:
            self._tail.append(data)  # still inside one line: keep the piece, copy nothing
            return []
        buffer = b"".join([*self._tail, data]) if self._tail else data
        if self._at_start:
            if len(buffer) < len(_BOM) and _BOM.startswith(buffer):
                self._tail = [buffer]
                return []
            self._at_start = False
            if buffer.startswith(_BOM):
                buffer = buffer[len(_BOM) :]
        if b"\r" in buffer:
            self._skip_lf = buffer[-1] == _CR
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buffer.split(b"\n")
        last = lines.pop()
        self._tail = [last] if last else []
        events: list[SSEEvent] = []
        self._take_lines(lines, events)
        return events

    def close(self) -> list[SSEEvent]:
        """End of input: return the last event if it was not followed by a blank line."""
        events: list[SSEEvent] = []
        tail = b"".join(self._tail)
        if tail and not (self._at_start and _BOM.startswith(tail)):
            self._take_lines([tail], events)
        self._tail = []
        if self._data:
            events.append(self._dispatch())
        self._event = None
        return events

    def _take_lines(self, lines: list[bytes], events: list[SSEEvent]) -> None:
        data = self._data
        for line in lines:
            if line[:5] == b"data:":  # the common case first
                data.append(line[6:] if line[5:6] == b" " else line[5:])
            elif not line:
                if data:
                    events.append(self._dispatch())
                    data = self._data
                else:
                    self._event = None
            elif line[0] != _COLON:
                self._take_field(line)

    def _take_field(self, line: bytes) -> None:
        colon = line.find(b":")
        if colon < 0:
            name, value = line, b""
        else:
            name = line[:colon]
            value = line[colon + 2 :] if line.startswith(b" ", colon + 1) else line[colon + 1 :]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._event = value or None

    def _dispatch(self) -> SSEEvent:
        parts = self._data
        raw = parts[0] if len(parts) == 1 else b"\n".join(parts)
        event = self._event.decode("utf-8", "replace") if self._event is not None else None
        self._data = []
        self._event = None
        return SSEEvent(event, raw.decode("utf-8", "replace"))
