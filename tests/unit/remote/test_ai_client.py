"""What only the remote face of ``gw.ai`` has: the requests it sends, and a member's key.

The behaviour both faces share is in ``test_*_faces.py``; here, the HTTP side: one request per
page with ``limit`` / ``offset``, ids kept in their path segment, dates sent as ISO 8601, a
member's view and its 404s, and the arguments the server decides.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from strands_portkey import AsyncClient
from strands_portkey.errors import InvalidRequestError, PermissionDeniedError, ResourceNotFoundError
from strands_portkey.remote import provider_keys as remote_keys
from strands_portkey.vault import keys as vault_keys
from tests.unit.remote.ai_fixtures import CLAUDE, GOOD_KEY, GPT, plane
from tests.unit.remote.conftest import BASE_URL, client_for, gateway_key

__all__ = ["plane"]


def recording(server: Any, key: str) -> tuple[AsyncClient, list[httpx.Request]]:
    """An async client of ``server`` that records each request it sends."""
    seen: list[httpx.Request] = []
    inner = httpx.ASGITransport(app=server)

    class Recording(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return await inner.handle_async_request(request)

    return AsyncClient(BASE_URL, key, transport=Recording()), seen


async def test_a_listing_asks_page_after_page_and_stops_after_a_short_one(server: Any) -> None:
    client, seen = recording(server, gateway_key(server))
    for index in range(5):
        await client.ai.models.create({**GPT, "name": f"model {index}"})
    seen.clear()
    names = [m.name async for m in client.ai.models.list(provider="openai", limit=2)]
    assert names == [f"model {index}" for index in range(5)]
    asked = [(r.url.path, dict(r.url.params)) for r in seen]
    assert asked == [
        ("/api/ai/models", {"provider": "openai", "limit": "2", "offset": str(offset)})
        for offset in (0, 2, 4)
    ]
    await client.aclose()


async def test_ids_stay_in_their_segment_and_dates_go_as_iso(server: Any) -> None:
    client, seen = recording(server, gateway_key(server))
    with pytest.raises(ResourceNotFoundError):
        await client.ai.models.retrieve("../provider-keys")
    assert seen[-1].url.raw_path == b"/api/ai/models/..%2Fprovider-keys"
    await client.ai.analytics.usage(start_date=dt.date(2025, 1, 1), end_date=dt.datetime(2025, 1, 31, 12))
    assert dict(seen[-1].url.params) == {"start_date": "2025-01-01", "end_date": "2025-01-31T12:00:00"}
    await client.aclose()


def test_a_members_key_sees_its_own_and_shared_models_and_keys_only(server: Any) -> None:
    ana = client_for(server, gateway_key(server, user="ana", role="member"))
    bob = client_for(server, gateway_key(server, user="bob", role="member"))
    private = bob.ai.models.create(CLAUDE)
    shared = bob.ai.models.create({**GPT, "shared_with": ["ana"]})
    key = bob.ai.provider_keys.create({"name": "bob's key", "provider": "openai", "api_key": GOOD_KEY})
    try:
        assert [m.id for m in ana.ai.models.list()] == [shared.id]
        assert ana.ai.models.overview().total == 1
        with pytest.raises(ResourceNotFoundError):
            ana.ai.models.retrieve(private.id)
        with pytest.raises(PermissionDeniedError):
            ana.ai.models.update(shared.id, {"description": "mine"})
        assert ana.ai.provider_keys.list().to_list() == []
        with pytest.raises(ResourceNotFoundError):
            ana.ai.provider_keys.test(key.id)
        assert (
            ana.ai.provider_keys.create({"name": "ana's", "provider": "openai", "api_key": GOOD_KEY}).owner
            == "ana"
        )
    finally:
        ana.close()
        bob.close()


def test_the_server_decides_whether_keys_are_validated(server: Any) -> None:
    client = client_for(server, gateway_key(server))
    try:
        with pytest.raises(InvalidRequestError) as refused:
            client.ai.provider_keys.create(
                {"name": "k", "provider": "openai", "api_key": GOOD_KEY}, validate=False
            )
        assert refused.value.path == "validate"
        assert client.ai.provider_keys.list().to_list() == []
    finally:
        client.close()
    assert remote_keys.STATUSES == vault_keys.STATUSES
