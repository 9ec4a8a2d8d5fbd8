"""Shared helpers for offline unit tests: a recording httpx MockTransport and SSE bodies."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest


def sse(*payloads: dict[str, Any] | str, done: bool = True) -> bytes:
    """An SSE body: one ``data:`` event per payload, then ``[DONE]`` unless ``done`` is False."""
    parts = [f"data: {p if isinstance(p, str) else json.dumps(p)}\n\n" for p in payloads]
    if done:
        parts.append("data: [DONE]\n\n")
    return "".join(parts).encode()


def chunk(content: str | None = None, *, finish: str | None = None, **delta: Any) -> dict[str, Any]:
    """An OpenAI chat.completion.chunk with one choice."""
    body: dict[str, Any] = dict(delta)
    if content is not None:
        body["content"] = content
    return {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": body, "finish_reason": finish}]}


def completion(content: str = "hello", *, finish: str = "stop", **message: Any) -> dict[str, Any]:
    """An OpenAI chat.completion with one choice and usage."""
    return {
        "id": "r1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, **message},
                "finish_reason": finish,
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }


@dataclass
class Upstream:
    """A scripted upstream: each request is recorded and answered by ``respond``."""

    respond: Callable[[httpx.Request], httpx.Response]
    requests: list[httpx.Request] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    def body(self, index: int = -1) -> dict[str, Any]:
        return json.loads(self.requests[index].content)


@pytest.fixture
def upstream() -> Callable[..., Upstream]:
    def make(respond: Callable[[httpx.Request], httpx.Response]) -> Upstream:
        return Upstream(respond)

    return make


@pytest.fixture(autouse=True)
def _no_default_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests never open the developer's default store (``~/.local/share/strands-portkey``).

    A gateway looks for that database on its first request, also with ``env={}`` (the default
    path then comes from the home directory); one left there by another checkout, at a newer
    schema, made every such test fail. Tests that want a store set their own home.
    """
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("STRANDS_PORTKEY_HOME", str(home / "strands-portkey"))
    monkeypatch.delenv("STRANDS_PORTKEY_DB_URL", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
