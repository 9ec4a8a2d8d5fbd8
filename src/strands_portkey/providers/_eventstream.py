"""An incremental decoder of the binary AWS event-stream framing (``application/vnd.amazon.eventstream``).

Bedrock's ``ConverseStream`` answers with this framing instead of SSE. Each message is::

    total length (4, big-endian) | headers length (4) | prelude CRC32 (4)
    headers (name length (1), name, value type (1), value) ... | payload | message CRC32 (4)

Bytes arrive in arbitrary pieces; the decoder keeps the unfinished tail and returns every complete
message. Both checksums are verified (``zlib.crc32``), so a corrupted frame is an error rather
than garbage JSON. :meth:`EventStreamDecoder.close` reports a frame cut short by the end of input.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

__all__ = ["EventStreamDecoder", "EventStreamError", "EventStreamMessage", "encode_message"]

_PRELUDE = struct.Struct(">III")
_PRELUDE_LEN = 12
_CRC_LEN = 4
_MAX_MESSAGE = 16 * 1024 * 1024  # the service's limit is far lower; a larger length means a broken frame
# Header value types: fixed sizes, or None for a 2-byte length prefix.
_FIXED = {0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}
_BYTES, _STRING = 6, 7


class EventStreamError(ValueError):
    """The bytes are not valid event-stream framing; ``truncated`` when the input ended mid-frame."""

    def __init__(self, message: str, *, truncated: bool = False) -> None:
        super().__init__(message)
        self.truncated = truncated


@dataclass(frozen=True, slots=True)
class EventStreamMessage:
    """One decoded message: string-valued headers (others are skipped) and the raw payload."""

    headers: dict[str, str]
    payload: bytes


class EventStreamDecoder:
    """Turn event-stream bytes into :class:`EventStreamMessage` objects, one :meth:`feed` at a time."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[EventStreamMessage]:
        """Decode more bytes; return the messages they complete (possibly none)."""
        buffer = self._buffer
        buffer += data
        messages: list[EventStreamMessage] = []
        start = 0
        size = len(buffer)
        while size - start >= _PRELUDE_LEN:
            total, headers_len, prelude_crc = _PRELUDE.unpack_from(buffer, start)
            if zlib.crc32(buffer[start : start + 8]) != prelude_crc:
                raise EventStreamError(
                    "event-stream prelude checksum mismatch (corrupted or misaligned frame)"
                )
            if total > _MAX_MESSAGE or total < _PRELUDE_LEN + headers_len + _CRC_LEN:
                raise EventStreamError(f"event-stream frame with an impossible length ({total} bytes)")
            if size - start < total:
                break
            end = start + total
            if zlib.crc32(buffer[start : end - _CRC_LEN]) != int.from_bytes(
                buffer[end - _CRC_LEN : end], "big"
            ):
                raise EventStreamError("event-stream message checksum mismatch (corrupted frame)")
            body = start + _PRELUDE_LEN
            headers = _headers(bytes(buffer[body : body + headers_len]))
            messages.append(EventStreamMessage(headers, bytes(buffer[body + headers_len : end - _CRC_LEN])))
            start = end
        if start:
            del buffer[:start]
        return messages

    def close(self) -> None:
        """End of input: raise if a frame was cut short."""
        if self._buffer:
            pending = len(self._buffer)
            expected = _PRELUDE.unpack_from(self._buffer)[0] if pending >= _PRELUDE_LEN else None
            self._buffer.clear()
            of = f" of {expected}" if expected is not None else ""
            raise EventStreamError(
                f"truncated event-stream frame ({pending}{of} bytes received)", truncated=True
            )


def _headers(raw: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    position, size = 0, len(raw)
    try:
        while position < size:
            name_len = raw[position]
            name = raw[position + 1 : position + 1 + name_len].decode("utf-8")
            position += 1 + name_len
            kind = raw[position]
            position += 1
            fixed = _FIXED.get(kind)
            if fixed is not None:
                position += fixed
                continue
            if kind not in (_BYTES, _STRING):
                raise EventStreamError(f"event-stream header {name!r} has an unknown value type {kind}")
            length = int.from_bytes(raw[position : position + 2], "big")
            value = raw[position + 2 : position + 2 + length]
            position += 2 + length
            if kind == _STRING:
                headers[name] = value.decode("utf-8")
    except (IndexError, UnicodeDecodeError) as exc:
        raise EventStreamError(f"malformed event-stream headers ({exc})") from None
    if position != size:
        raise EventStreamError("malformed event-stream headers (length mismatch)")
    return headers


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    """Encode one message with string headers (for tests, fixtures and benchmarks)."""
    raw = b"".join(
        bytes([len(name.encode())])
        + name.encode()
        + bytes([_STRING])
        + len(value.encode()).to_bytes(2, "big")
        + value.encode()
        for name, value in headers.items()
    )
    total = _PRELUDE_LEN + len(raw) + len(payload) + _CRC_LEN
    prelude = struct.pack(">II", total, len(raw))
    prelude += zlib.crc32(prelude).to_bytes(4, "big")
    message = prelude + raw + payload
    return message + zlib.crc32(message).to_bytes(4, "big")
