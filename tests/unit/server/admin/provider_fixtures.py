"""Fixtures of the AI providers tests: a server app whose control plane validates keys.

The plane checks every new or changed key against :func:`provider_models` (a MockTransport: a
provider's model listing that accepts keys starting ``sk-good``), so credential routes run the
same validation as in production, offline. Import the fixtures into a test module to use them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from strands_portkey.controlplane import ControlPlane
from strands_portkey.server.app import create_app
from strands_portkey.server.settings import ServerSettings
from tests.unit.server.admin.conftest import MASTER, Keys
from tests.unit.server.conftest import public_resolver

__all__ = ["GOOD_KEY", "provider_models", "validating_app", "validating_keys", "validating_plane"]

GOOD_KEY = "sk-good-0123456789abcdefghijklmnop"
"""A provider key :func:`provider_models` accepts (any key starting ``sk-good``); others get 401."""


def provider_models(request: httpx.Request) -> httpx.Response:
    """A provider's model listing: 200 for keys starting ``sk-good``, 401 (echoing the key) otherwise."""
    auth = request.headers.get("authorization", "")
    if request.url.path.endswith("/models") and auth.startswith("Bearer sk-good"):
        return httpx.Response(
            200, json={"object": "list", "data": [{"id": "gpt-4o"}, {"id": "claude-3-sonnet"}]}
        )
    return httpx.Response(401, json={"error": {"message": f"Incorrect API key provided: {auth[7:]}"}})


def _no_upstream(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"unexpected upstream call {request.url}")


@pytest.fixture
def validating_plane(tmp_path: Path) -> Iterator[ControlPlane]:
    plane = ControlPlane(
        f"sqlite:///{tmp_path / 'validating.db'}",
        env={"STRANDS_PORTKEY_HOME": str(tmp_path), "STRANDS_PORTKEY_USER": "ana"},
        validate_credentials=True,
        transport=httpx.MockTransport(provider_models),
        refresh_interval=None,
        master_key=MASTER,
    )
    yield plane
    plane.close()


@pytest.fixture
def validating_app(validating_plane: ControlPlane) -> Any:
    settings = ServerSettings(
        env={"STRANDS_PORTKEY_HOME": "/nonexistent/strands-portkey-unit-home"},
        open_store=False,
        upstream_transport=httpx.MockTransport(_no_upstream),
        resolver=public_resolver,
        control_plane=validating_plane,
    )
    return create_app(settings, gateway_keys=True)


@pytest.fixture
def validating_keys(validating_app: Any) -> Keys:
    api_keys = validating_app.state.server.authenticator.api_keys
    made = {}
    for name, user, role in (
        ("admin", "root", "admin"),
        ("member", "ana", "member"),
        ("outsider", "eve", "member"),
    ):
        body = {"name": name, "user": user, "organization_id": "acme", "role": role}
        made[name] = api_keys.create(body).key
    return Keys(**made)
