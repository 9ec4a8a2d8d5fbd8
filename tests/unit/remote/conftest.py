"""Fixtures for the remote client: the real server app over a real SQLite control plane, reached
through httpx's ASGI transport (no sockets), and the behaviour suite's two faces.

``face`` is parametrized: the same test runs once against ``Gateway(control_plane=plane)`` (the
in-process face) and once against ``Client(...)`` talking to a server over that same plane (the
REST face), both acting as user ``ana`` of organization ``local`` (the client with an admin key of
that user). A test that uses ``face`` therefore proves both faces behave alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from strands_portkey import Client, Gateway
from strands_portkey.controlplane import ControlPlane
from tests.unit.server.admin import conftest as admin_fixtures

MASTER = admin_fixtures.MASTER
plane = admin_fixtures.plane  # the admin API tests' fixtures: one store and one app for both
app = admin_fixtures.app

BASE_URL = "http://gateway.test"


@pytest.fixture
def server(app: Any) -> Any:
    """The server app (gateway keys on) over ``plane``: the admin API tests' own ``app``."""
    return app


def gateway_key(server: Any, *, user: str = "ana", organization: str = "local", role: str = "admin") -> str:
    """A new gateway key of ``user`` (the secret)."""
    api_keys = server.state.server.authenticator.api_keys
    body = {"name": f"{user}-{role}", "user": user, "organization_id": organization, "role": role}
    return str(api_keys.create(body).key)


def client_for(server: Any, key: str | None, **kwargs: Any) -> Client:
    """A blocking client of ``server`` over ASGI, holding ``key``."""
    return Client(BASE_URL, key, transport=httpx.ASGITransport(app=server), **kwargs)


@pytest.fixture(params=["gateway", "client"])
def face(request: pytest.FixtureRequest, plane: ControlPlane, server: Any) -> Iterator[Any]:
    """``Gateway(control_plane=plane)`` or a ``Client`` of a server over ``plane``: same surface."""
    if request.param == "gateway":
        yield Gateway(control_plane=plane)
        return
    client = client_for(server, gateway_key(server))
    yield client
    client.close()
