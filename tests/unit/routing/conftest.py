"""Scripted upstream hosts for routing tests: each host answers from its own status script."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from strands_portkey import Gateway
from tests.unit.conftest import chunk, completion, sse

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


@dataclass
class Step:
    """One scripted answer: a status (200 = success), optional headers, or a special behaviour."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # never answers (for timeouts)
    refuse: bool = False  # connection refused
    stream_chunks: int = 2  # chunks in a streamed 200
    cut_after: int | None = None  # streamed 200 that breaks after this many chunks
    error: dict[str, Any] | None = None  # the error body of a non-200 (default: a server_error)


def step(spec: int | str | Step) -> Step:
    """``200``, ``500``, ``"refuse"``, ``"hang"`` or a Step."""
    if isinstance(spec, Step):
        return spec
    if spec == "refuse":
        return Step(refuse=True)
    if spec == "hang":
        return Step(hang=True)
    return Step(status=int(spec))


class CutStream(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        for part in self._chunks:
            yield part
        raise httpx.ReadError("connection reset by peer")


@dataclass
class Hosts:
    """Upstream hosts ``http://<name>/v1``, each answering from its script (the last step repeats)."""

    scripts: dict[str, list[Step]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)

    def script(self, host: str, *steps: int | str | Step) -> str:
        self.scripts[host] = [step(s) for s in steps] or [Step()]
        return f"http://{host}/v1"

    async def handle(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        index = self.calls.count(host)
        self.calls.append(host)
        self.bodies.append(json.loads(request.content))
        self.auth.append(request.headers.get("authorization", ""))
        script = self.scripts[host]
        current = script[min(index, len(script) - 1)]
        if current.refuse:
            raise httpx.ConnectError("connection refused")
        if current.hang:
            await asyncio.Event().wait()
        if current.status != 200:
            body = current.error or {
                "error": {"message": f"{host} failed with {current.status}", "type": "server_error"}
            }
            return httpx.Response(current.status, json=body, headers=current.headers)
        if json.loads(request.content).get("stream"):
            parts = [sse(chunk(f"{host}-{i}"), done=False) for i in range(current.stream_chunks)]
            if current.cut_after is not None:
                return httpx.Response(200, stream=CutStream(parts[: current.cut_after]))
            parts.append(sse(chunk(finish="stop")))
            return httpx.Response(200, content=b"".join(parts), headers={"content-type": "text/event-stream"})
        return httpx.Response(200, json=completion(f"from {host}"))

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


@dataclass
class Sleeps:
    """An injected sleep that records instead of waiting."""

    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def hosts() -> Hosts:
    return Hosts()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def gateway(hosts: Hosts, sleeps: Sleeps) -> Callable[..., Gateway]:
    def make(config: dict[str, Any], **kwargs: Any) -> Gateway:
        kwargs.setdefault("rng", random.Random(7))
        return Gateway(config, transport=hosts.transport, sleep=sleeps, env={}, **kwargs)

    return make


def target(url: str, **extra: Any) -> dict[str, Any]:
    """A leaf at ``url`` (an OpenAI-compatible host)."""
    return {"provider": "openai", "api_key": "sk-test", "custom_host": url, **extra}
