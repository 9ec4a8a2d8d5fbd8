"""A tiny scripted HTTP/1.1 server on 127.0.0.1 that answers with exact bytes, for transport faults.

The first path segment names a *case*; each case is a coroutine that gets the parsed request and
the connection and may do anything HTTP forbids: cut a body, send a header block over the limit,
reset the socket, stall. Connections are counted (open now, most at once) so tests can prove a
client frees what it took. Everything is bounded: each case stalls at most ``STALL_S`` seconds.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

STALL_S = 5.0  # the longest any case keeps a client waiting

COMPLETION = json.dumps(
    {
        "id": "raw-1",
        "object": "chat.completion",
        "created": 1,
        "model": "raw",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "fine"}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
).encode()


def sse_event(text: str | None, finish: str | None = None) -> bytes:
    delta = {"content": text} if text is not None else {}
    payload = {
        "id": "raw-s",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "raw",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def head(status: str = "200 OK", content_type: str = "application/json", **headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"content-type: {content_type}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def case(self) -> str:
        return self.origin_path.split("/")[1]

    @property
    def origin_path(self) -> str:
        """The path, also when a proxied request names the whole URL (``http://host/path``)."""
        if "://" in self.path:
            return "/" + self.path.split("://", 1)[1].split("/", 1)[1]
        return self.path

    @property
    def wants_stream(self) -> bool:
        try:
            return bool(json.loads(self.body).get("stream"))
        except ValueError:
            return False


Case = Callable[[Request, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bool]]
"""Answers one request; returns True to keep the connection for the next one."""


@dataclass
class RawServer:
    cases: dict[str, Case]
    port: int = 0
    open_connections: int = 0
    peak_connections: int = 0
    requests: int = 0
    targets: list[str] = field(default_factory=list)  # each request's target as sent (a proxy sees URLs)
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def base_url(self, case: str) -> str:
        return f"{self.url}/{case}/v1"

    async def start(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=2048)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.open_connections += 1
        self.peak_connections = max(self.peak_connections, self.open_connections)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                self.requests += 1
                self.targets.append(request.path)
                case = self.cases.get(request.case, not_found)
                keep = await case(request, reader, writer)
                await writer.drain()
                if not keep:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            self.open_connections -= 1
            self._tasks.discard(task)
            if not writer.is_closing():
                writer.close()


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = raw.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return Request(method, path, headers, body)


async def stall(reader: asyncio.StreamReader) -> bool:
    """Wait STALL_S, or less if the client hangs up first (True then)."""
    try:
        return await asyncio.wait_for(reader.read(1), STALL_S) == b""
    except asyncio.TimeoutError:
        return False


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with an RST (SO_LINGER 0) instead of a FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


# --------------------------------------------------------------------------- cases


async def not_found(request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    body = b'{"error":{"message":"no such case"}}'
    writer.write(head("404 Not Found", content_length=str(len(body))) + body)
    return True


async def healthy(request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    """A chat completion, or a 3-chunk SSE stream when the request streams."""
    if request.wants_stream:
        events = [sse_event(f"part{i} ") for i in range(3)] + [sse_event(None, "stop"), b"data: [DONE]\n\n"]
        writer.write(head(content_type="text/event-stream", transfer_encoding="chunked"))
        for event in events:
            writer.write(chunk(event))
        writer.write(b"0\r\n\r\n")
        return True
    writer.write(head(content_length=str(len(COMPLETION))) + COMPLETION)
    return True


async def reset_before_answer(
    request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> bool:
    reset(writer)
    return False


async def close_before_answer(
    request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> bool:
    writer.close()
    return False


async def slow_head(request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    if await stall(reader):
        return False
    return await healthy(request, reader, writer)


async def cut_stream(request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    """Two SSE events, then the connection ends with no terminating chunk and no [DONE]."""
    writer.write(head(content_type="text/event-stream", transfer_encoding="chunked"))
    writer.write(chunk(sse_event("one ")) + chunk(sse_event("two ")))
    await writer.drain()
    await asyncio.sleep(0.05)
    writer.close()
    return False


async def stall_stream(request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    """One SSE event, then silence (bounded)."""
    writer.write(head(content_type="text/event-stream", transfer_encoding="chunked"))
    writer.write(chunk(sse_event("one ")))
    await writer.drain()
    await stall(reader)
    return False


async def late_first_chunk(
    request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> bool:
    """Headers at once, the first event only after a long wait."""
    writer.write(head(content_type="text/event-stream", transfer_encoding="chunked"))
    await writer.drain()
    await stall(reader)
    return False


async def trickle(request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    """An event every 50 ms for (at most) STALL_S: never idle, never done."""
    writer.write(head(content_type="text/event-stream", transfer_encoding="chunked"))
    for _ in range(int(STALL_S / 0.05)):
        writer.write(chunk(sse_event("drip ")))
        await writer.drain()
        await asyncio.sleep(0.05)
    return False


async def short_length(request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    """Content-Length says 500, 20 bytes come, the connection closes."""
    writer.write(head(content_length="500") + COMPLETION[:20])
    await writer.drain()
    writer.close()
    return False


async def cut_chunked(request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    """A chunk announced as 256 bytes, 10 sent, the connection closes."""
    writer.write(head(transfer_encoding="chunked") + b"100\r\n" + COMPLETION[:10])
    await writer.drain()
    writer.close()
    return False


async def huge_header(request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    writer.write(head(content_length=str(len(COMPLETION)), x_big="a" * 200_000) + COMPLETION)
    return False


async def garbage(request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    writer.write(b"THIS IS NOT HTTP\r\n\r\n")
    await writer.drain()
    writer.close()
    return False


async def bad_utf8(request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    body = b'{"id": "\xff\xfe\xfd", "choices": []}'
    writer.write(head(content_length=str(len(body))) + body)
    return True


async def redirect(request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    writer.write(
        head("301 Moved Permanently", location="http://127.0.0.1:1/elsewhere?key=secret", content_length="0")
    )
    return True


CASES: dict[str, Case] = {
    "ok": healthy,
    "reset": reset_before_answer,
    "close": close_before_answer,
    "slow_head": slow_head,
    "cut_stream": cut_stream,
    "stall_stream": stall_stream,
    "late_first_chunk": late_first_chunk,
    "trickle": trickle,
    "short_length": short_length,
    "cut_chunked": cut_chunked,
    "huge_header": huge_header,
    "garbage": garbage,
    "bad_utf8": bad_utf8,
    "redirect": redirect,
}
