"""``client.api_keys`` / ``client.configs`` only: a member's client, the async face, HTTP details."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from strands_portkey import AsyncClient
from strands_portkey.controlplane.api_key_fields import CreatedApiKey, GatewayApiKey
from strands_portkey.errors import InvalidRequestError, PermissionDeniedError, ResourceNotFoundError
from tests.unit.remote.conftest import BASE_URL, client_for, gateway_key


def test_a_members_client_manages_its_own_keys_only(server: Any) -> None:
    admin = client_for(server, gateway_key(server))
    member = client_for(server, gateway_key(server, user="bo", role="member"))
    try:
        theirs = admin.api_keys.create({"name": "ana's"}).api_key
        mine = member.api_keys.create({"name": "bo's"})
        assert (mine.api_key.user, mine.api_key.organization_id) == ("bo", "local")
        assert {key.name for key in member.api_keys.list()} == {"bo-member", "bo's"}
        assert member.api_keys.usage(mine.api_key.id).counted_in == "memory"
        with pytest.raises(ResourceNotFoundError):
            member.api_keys.retrieve(theirs.id)
        with pytest.raises(ResourceNotFoundError):
            member.api_keys.revoke(theirs.id)
        assert admin.api_keys.retrieve(theirs.id).status == "active"
        with pytest.raises(PermissionDeniedError) as admin_key:
            member.api_keys.create({"name": "escalate", "role": "admin"})
        assert "body.role" in str(admin_key.value)
        with pytest.raises(PermissionDeniedError):
            member.configs.create("mine", {"provider": "openai"})
        saved = admin.configs.create("shared", {"provider": "openai"})
        assert member.configs.retrieve("shared") == saved  # same organization: members read it
    finally:
        admin.close()
        member.close()


async def test_the_async_client_has_the_same_methods(server: Any) -> None:
    key = gateway_key(server)
    async with AsyncClient(BASE_URL, key, transport=httpx.ASGITransport(app=server)) as client:
        created = await client.api_keys.create({"name": "async"})
        assert isinstance(created, CreatedApiKey)
        listed = [k async for k in client.api_keys.list(limit=1)]
        assert [k.name for k in listed] == ["ana-admin", "async"]
        assert all(isinstance(k, GatewayApiKey) for k in listed)
        rotated = await client.api_keys.rotate(created.api_key.id)
        assert rotated.key != created.key
        saved = await client.configs.create("route", '{"provider": "openai"}')
        assert (await client.configs.versions(saved.id))[0].version == 1
        assert [c.id for c in await client.configs.list().to_list()] == [saved.id]
        with pytest.raises(InvalidRequestError) as too_big:
            client.api_keys.list(limit=5000)
        assert too_big.value.path == "limit"


async def test_creates_rotations_and_updates_are_never_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503, json={"error": {"message": "down", "type": "api_error"}})

    transport = httpx.MockTransport(respond)
    async with AsyncClient(BASE_URL, "spk-canary-0123456789", transport=transport, retries=3) as client:
        for call in (
            client.api_keys.create({"name": "x"}),
            client.api_keys.rotate("ak-1"),
            client.api_keys.update("ak-1", {"name": "y"}),
        ):
            with pytest.raises(Exception, match="down"):
                await call
    assert [r.method for r in seen] == ["POST", "POST", "PATCH"]  # one attempt each
    assert str(seen[1].url) == f"{BASE_URL}/api/keys/ak-1/rotate"
    assert "spk-canary-0123456789" not in caplog.text
