"""A control plane on a temporary SQLite file, with a scripted provider behind a MockTransport."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from strands_portkey.controlplane import ControlPlane

GOOD = "sk-good-0123456789abcdefghijklmnop"
GOOD2 = "sk-good-zyxwvutsrqponmlkjihgfedcba"
BAD = "sk-bad-0123456789abcdefghijklmnopq"
MASTER = base64.urlsafe_b64encode(bytes(range(32))).decode()


@dataclass
class FakeProvider:
    """Lists models for keys starting 'sk-good', 401 otherwise; records every request."""

    models: list[str] = field(default_factory=lambda: ["gpt-4o", "gpt-4o-mini"])
    requests: list[httpx.Request] = field(default_factory=list)
    down: bool = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            return httpx.Response(503, text="maintenance")
        auth = request.headers.get("authorization", "")
        if request.url.path.endswith("/models") and auth.startswith("Bearer sk-good"):
            return httpx.Response(200, json={"object": "list", "data": [{"id": m} for m in self.models]})
        if request.url.path.endswith("/chat/completions") and auth.startswith("Bearer sk-good"):
            return httpx.Response(
                200,
                json={
                    "id": "r1",
                    "model": "gpt-4o",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "hi"},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                },
            )
        return httpx.Response(401, json={"error": {"message": f"Incorrect API key provided: {auth[7:]}"}})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake_provider() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cp.db'}"


@pytest.fixture
def plane(db_url: str, tmp_path: Path, fake_provider: FakeProvider, clock: Clock) -> Iterator[ControlPlane]:
    cp = ControlPlane(
        db_url,
        env={"STRANDS_PORTKEY_HOME": str(tmp_path)},
        master_key=MASTER,
        transport=httpx.MockTransport(fake_provider.handler),
        clock=clock,
    )
    yield cp
    cp.close()
