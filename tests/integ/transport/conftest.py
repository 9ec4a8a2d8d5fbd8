"""Fixtures of the transport behaviour suite: one scripted raw server, both HTTP clients."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator

import pytest

from strands_portkey.transport import TransportSettings, fast_client_installed

from .rawserver import CASES, RawServer

CLIENTS = ["aiohttp", "httpx"]


@pytest.fixture(autouse=True)
def _own_data_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Gateways here open no default store: not the developer's, not another test's."""
    monkeypatch.setenv("STRANDS_PORTKEY_HOME", str(tmp_path_factory.mktemp("home")))


@pytest.fixture(params=CLIENTS)
def client(request: pytest.FixtureRequest) -> str:
    """Every test of the suite runs once per transport backend."""
    if request.param == "aiohttp" and not fast_client_installed():
        pytest.skip("aiohttp (the [fast] extra) is not installed")
    return str(request.param)


@pytest.fixture
async def server() -> AsyncIterator[RawServer]:
    raw = await RawServer(dict(CASES)).start()
    try:
        yield raw
    finally:
        await raw.stop()


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A port bound but never listening: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


@pytest.fixture
def unanswered_url() -> Iterator[str]:
    """A listening socket whose accept queue is full: a new connection's SYN is never answered."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):  # fill the queue (backlog 0 still queues one or two)
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def settings(client: str, **overrides: object) -> TransportSettings:
    return TransportSettings(client=client, **overrides)  # type: ignore[arg-type]
