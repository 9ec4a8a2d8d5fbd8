"""``client.providers`` on the wire: the requests it sends for gw.providers' calls, and its refusals."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from strands_portkey.controlplane import ControlPlane
from strands_portkey.errors import MalformedResponseError
from strands_portkey.remote.http import RemoteHTTP
from strands_portkey.remote.providers import AsyncProviders
from tests.unit.remote.conftest import client_for, gateway_key

KEY = "sk-canary-wire-0123456789abcdefghij"


class Recorder:
    """Answers every request with ``answer`` and keeps the requests."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json=self.answer)


def _providers(recorder: Recorder) -> AsyncProviders:
    return AsyncProviders(RemoteHTTP("http://server.test", "spk-x", transport=httpx.MockTransport(recorder)))


async def test_a_credential_goes_in_the_body_with_the_apis_names_and_validate_in_the_query() -> None:
    recorder = Recorder({"error": "not a credential"})
    providers = _providers(recorder)
    with pytest.raises(MalformedResponseError):
        await providers.create_credential(
            "my vllm", {"name": "k", "value": KEY, "is_active": False}, validate=False
        )
    sent = recorder.requests[0]
    assert sent.method == "POST"
    assert sent.url.raw_path == b"/api/ai-providers/my%20vllm/credentials?validate=false"
    assert json.loads(sent.content) == {"name": "k", "value": KEY, "active": False}
    assert KEY not in str(sent.url)


async def test_listings_that_are_not_listings_are_malformed_answers() -> None:
    with pytest.raises(MalformedResponseError):
        await _providers(Recorder({"data": "nope"})).models()
    with pytest.raises(MalformedResponseError):
        await _providers(Recorder({"data": []})).rates.page()  # no total
    with pytest.raises(MalformedResponseError):
        await _providers(Recorder({"data": [{"id": "rate-1"}], "total": 1})).rates.page()


def test_the_client_never_shows_a_key_it_stored(plane: ControlPlane, server: Any) -> None:
    client = client_for(server, gateway_key(server))
    try:
        client.providers.create({"name": "openai"})
        made = client.providers.create_credential("openai", {"name": "k", "value": KEY})
        assert KEY not in repr(made)
        assert KEY not in repr(client.providers.list())
        assert made.masked_key.endswith(KEY[-4:])
    finally:
        client.close()
