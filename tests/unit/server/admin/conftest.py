"""Fixtures for admin API tests: a server app with gateway keys over a real SQLite control plane.

``admin``, ``member`` and ``outsider`` are gateway keys (the outsider a member of another
organization); ``call(app, method, path, key=..., json=...)`` drives the app over ASGI.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from strands_portkey.controlplane import ControlPlane
from strands_portkey.server.app import create_app
from strands_portkey.server.settings import ServerSettings
from tests.unit.server.conftest import public_resolver

MASTER = base64.urlsafe_b64encode(bytes(range(32))).decode()


@dataclass(frozen=True)
class Keys:
    """Gateway keys (the secrets) by role."""

    admin: str
    member: str
    outsider: str


@pytest.fixture
def plane(tmp_path: Path) -> Iterator[ControlPlane]:
    plane = ControlPlane(
        f"sqlite:///{tmp_path / 'admin.db'}",
        env={"STRANDS_PORTKEY_HOME": str(tmp_path), "STRANDS_PORTKEY_USER": "ana"},
        validate_credentials=False,
        refresh_interval=None,
        master_key=MASTER,
    )
    yield plane
    plane.close()


def _no_upstream(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"unexpected upstream call {request.url}")


@pytest.fixture
def app(plane: ControlPlane) -> Any:
    settings = ServerSettings(
        env={"STRANDS_PORTKEY_HOME": "/nonexistent/strands-portkey-unit-home"},
        open_store=False,
        upstream_transport=httpx.MockTransport(_no_upstream),
        resolver=public_resolver,
        control_plane=plane,
    )
    return create_app(settings, gateway_keys=True)


@pytest.fixture
def keys(app: Any) -> Keys:
    api_keys = app.state.server.authenticator.api_keys
    people = {"admin": ("root", "acme"), "member": ("ana", "acme"), "outsider": ("eve", "globex")}
    made = {}
    for name, (user, organization) in people.items():
        role = "admin" if name == "admin" else "member"
        body = {"name": name, "user": user, "organization_id": organization, "role": role}
        made[name] = api_keys.create(body).key
    return Keys(**made)


async def call(app: Any, method: str, path: str, *, key: str | None = None, **kwargs: Any) -> httpx.Response:
    """One request to ``app`` with ``key`` as the gateway key (none when None)."""
    headers = dict(kwargs.pop("headers", {}))
    if key is not None:
        headers["x-portkey-api-key"] = key
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as c:
        return await c.request(method, path, headers=headers, **kwargs)
