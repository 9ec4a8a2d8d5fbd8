"""A client that goes away mid-stream: the upstream response is closed and the request settled once."""

from __future__ import annotations

import asyncio
import json

import httpx

from tests.unit.conftest import chunk
from tests.unit.server.conftest import HI, RecordingLimiter, make_app


class Endless(httpx.AsyncByteStream):
    """One SSE chunk, then nothing until closed (a model still thinking)."""

    def __init__(self) -> None:
        self.closed = asyncio.Event()

    async def __aiter__(self):
        yield f"data: {json.dumps(chunk('first', role='assistant'))}\n\n".encode()
        await self.closed.wait()

    async def aclose(self) -> None:
        self.closed.set()


async def test_abandoned_stream_closes_upstream_and_settles_once() -> None:
    upstream = Endless()
    limiter = RecordingLimiter()
    app = make_app(
        lambda r: httpx.Response(200, stream=upstream, headers={"content-type": "text/event-stream"}),
        limiter=limiter,
    )
    body = json.dumps({"model": "gpt-4o", "messages": HI, "stream": True}).encode()
    sent: list[dict] = []
    first_chunk = asyncio.Event()
    requested = False

    async def receive() -> dict:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": body, "more_body": False}
        await first_chunk.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and message.get("body"):
            first_chunk.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/chat/completions",
        "raw_path": b"/v1/chat/completions",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"content-type", b"application/json"),
            (b"x-portkey-provider", b"openai"),
            (b"authorization", b"Bearer sk-test"),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8787),
    }
    await asyncio.wait_for(app(scope, receive, send), timeout=5)
    assert sent[0]["status"] == 200
    assert b"first" in sent[1]["body"]
    assert upstream.closed.is_set()
    assert [outcome.status for outcome in limiter.settled] == [499]
