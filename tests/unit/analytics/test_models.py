"""``gw.ai.models``: the registry's fields, filters, overview, permissions matrix and request resolution."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from strands_portkey import Gateway
from strands_portkey.controlplane import ControlPlane
from strands_portkey.errors import (
    ConflictError,
    InvalidRequestError,
    PermissionDeniedError,
    ResourceNotFoundError,
)

from ..conftest import completion
from .conftest import MASTER, rows

GPT = {
    "name": "GPT-4o Mini",
    "type": "third-party",
    "provider": "openai",
    "vendor_model_id": "gpt-4o-mini",
    "model_type": "chat",
    "description": "Fast and affordable chat model",
    "capabilities": ["chat", "function_calling"],
    "max_tokens": 16384,
    "context_window": 128000,
    "config": {"default_temperature": 0.7},
}
FIELDS = [
    "id", "name", "type", "provider", "vendor_model_id", "model_type", "status", "description",
    "capabilities", "max_tokens", "context_window", "owner", "organization_id", "is_shared",
    "shared_with", "config", "created_at", "updated_at",
]  # fmt: skip


def gateway(plane: ControlPlane, transport: httpx.MockTransport | None = None) -> Gateway:
    return Gateway({"provider": "openai", "api_key": "sk-x"}, control_plane=plane, transport=transport)


@pytest.fixture
def as_user(tmp_path: Path, plane: ControlPlane) -> Iterator[Any]:
    """Control planes on the same database acting as other users (as other processes would)."""
    opened: list[ControlPlane] = []

    def open_as(user: str, organization: str = "acme") -> Gateway:
        env = {"STRANDS_PORTKEY_USER": user, "STRANDS_PORTKEY_ORGANIZATION": organization}
        other = ControlPlane(str(plane.store.url), env=env, master_key=MASTER, validate_credentials=False)
        opened.append(other)
        return gateway(other, httpx.MockTransport(lambda r: httpx.Response(200, json=completion())))

    yield open_as
    for other in opened:
        other.close()


def test_the_spec_listing_flow_runs_unchanged(plane: ControlPlane) -> None:
    client = gateway(plane)
    model = client.ai.models.create(GPT)
    assert list(model.to_dict()) == FIELDS
    assert (model.status, model.owner, model.is_shared, model.shared_with) == ("active", "local", False, [])
    assert model.id.startswith("model-")
    client.ai.models.create({"name": "Llama local", "type": "self-hosted", "provider": "local",
                             "vendor_model_id": "smollm2", "model_type": "completion"})  # fmt: skip
    assert [m.name for m in client.ai.models.list()] == ["GPT-4o Mini", "Llama local"]
    assert [m.vendor_model_id for m in client.ai.models.list(provider="openai")] == ["gpt-4o-mini"]
    assert [m.name for m in client.ai.models.list(status="active")] == ["GPT-4o Mini"]
    assert [m.name for m in client.ai.models.list(type="self-hosted")] == ["Llama local"]
    assert [m.name for m in client.ai.models.list(search="gpt")] == ["GPT-4o Mini"]
    assert [m.name for m in client.ai.models.list(model_type="completion")] == ["Llama local"]
    assert len(client.ai.models.list(limit=1).to_list()) == 2  # two pages of one
    overview = client.ai.models.overview()
    assert (overview.total, overview.active, overview.stopped, overview.deploying, overview.failed) == (
        2,
        1,
        1,
        0,
        0,
    )
    assert (overview.third_party, overview.self_hosted) == (1, 1)


def test_retrieve_update_delete(plane: ControlPlane) -> None:
    models = gateway(plane).ai.models
    model = models.create(GPT)
    assert models.retrieve(model.id).context_window == 128000
    assert models.retrieve("GPT-4o Mini").id == model.id
    updated = models.update(model.id, {"description": "Updated description", "max_tokens": 32768})
    assert (updated.description, updated.max_tokens, updated.name) == (
        "Updated description",
        32768,
        "GPT-4o Mini",
    )
    assert updated.updated_at >= model.updated_at
    assert models.delete(model.id) == {"id": model.id, "deleted": True}
    with pytest.raises(ResourceNotFoundError, match=model.id):
        models.retrieve(model.id)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({**GPT, "type": "hosted"}, "body.type"),
        ({**GPT, "max_tokens": -1}, "body.max_tokens"),
        ({**GPT, "capabilities": "chat"}, "body.capabilities"),
        ({**GPT, "status": "active"}, "body.status"),
        ({**GPT, "owner": "mallory"}, "body.owner"),
        ({k: v for k, v in GPT.items() if k != "vendor_model_id"}, "body.vendor_model_id"),
        ({**GPT, "model_type": "vision"}, "body.model_type"),
    ],
)
def test_bad_bodies_name_the_field(plane: ControlPlane, body: dict[str, Any], path: str) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        gateway(plane).ai.models.create(body)
    assert raised.value.path == path


def test_names_are_unique(plane: ControlPlane) -> None:
    models = gateway(plane).ai.models
    models.create(GPT)
    with pytest.raises(ConflictError, match="GPT-4o Mini"):
        models.create({**GPT, "name": "gpt-4o mini"})


def test_permissions_matrix(plane: ControlPlane, as_user: Any) -> None:
    alice = as_user("alice")
    model = alice.ai.models.create(GPT)
    bob, carol, dave = as_user("bob"), as_user("carol"), as_user("dave", "globex")
    perms = alice.ai.models.get_permissions(model.id)
    assert (perms.owner, perms.is_shared, perms.shared_with, perms.organization_id) == (
        "alice",
        False,
        [],
        "acme",
    )
    # private: only the owner sees it
    assert [len(u.ai.models.list().to_list()) for u in (alice, bob, carol, dave)] == [1, 0, 0, 0]
    # one they may not see is "not found", exactly as a missing one (no existence leak)
    with pytest.raises(ResourceNotFoundError) as hidden:
        bob.ai.models.retrieve(model.id)
    with pytest.raises(ResourceNotFoundError) as missing:
        bob.ai.models.retrieve("model-missing")
    assert "alice" not in str(hidden.value)
    assert str(hidden.value).replace(model.id, "X") == str(missing.value).replace("model-missing", "X")
    # shared with bob by name
    alice.ai.models.update_permissions(model.id, shared_with=["bob"])
    assert [len(u.ai.models.list().to_list()) for u in (alice, bob, carol, dave)] == [1, 1, 0, 0]
    # shared with the organization: carol too, not dave of another organization
    assert alice.ai.models.update_permissions(model.id, is_shared=True)["is_shared"] is True
    assert [len(u.ai.models.list().to_list()) for u in (alice, bob, carol, dave)] == [1, 1, 1, 0]
    assert carol.ai.models.overview().total == 1
    assert dave.ai.models.overview().total == 0
    # only the owner changes it
    with pytest.raises(PermissionDeniedError, match="owner"):
        carol.ai.models.update(model.id, {"description": "mine now"})
    with pytest.raises(PermissionDeniedError):
        bob.ai.models.update_permissions(model.id, shared_with=["bob", "mallory"])
    with pytest.raises(PermissionDeniedError):
        carol.ai.models.delete(model.id)


async def test_requests_naming_a_model_resolve_and_are_enforced(plane: ControlPlane, as_user: Any) -> None:
    alice = as_user("alice")
    model = alice.ai.models.create(GPT)
    bodies: list[dict[str, Any]] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json=completion())

    env = {"STRANDS_PORTKEY_USER": "alice", "STRANDS_PORTKEY_ORGANIZATION": "acme"}
    mine = ControlPlane(str(plane.store.url), env=env, master_key=MASTER, validate_credentials=False)
    gw = gateway(mine, httpx.MockTransport(upstream))
    for ref in (model.id, model.name):
        await gw.chat({"model": ref, "messages": [{"role": "user", "content": "hi"}]})
    await gw.chat({"model": model.id, "messages": [{"role": "user", "content": "hi"}], "temperature": 0.1})
    assert [b["model"] for b in bodies] == ["gpt-4o-mini"] * 3
    assert [b.get("temperature") for b in bodies] == [
        0.7,
        0.7,
        0.1,
    ]  # the default, unless the request sets it
    assert bodies[0]["max_tokens"] == 16384
    recorded = rows(mine)
    assert [(r["model_id"], r["requested_model"]) for r in recorded] == [
        (model.id, model.id),
        (model.id, model.name),
        (model.id, model.id),
    ]
    assert gw.ai.analytics.usage(model_id=model.id).total_requests == 3
    assert gw.ai.models.metrics(model.id)["requests"] == 3
    # bob may not use it: a clear error, and the refusal is recorded
    bob_env = {"STRANDS_PORTKEY_USER": "bob", "STRANDS_PORTKEY_ORGANIZATION": "acme"}
    theirs = ControlPlane(str(plane.store.url), env=bob_env, master_key=MASTER, validate_credentials=False)
    bob = gateway(theirs, httpx.MockTransport(upstream))
    with pytest.raises(PermissionDeniedError, match="bob"):
        await bob.chat({"model": model.name, "messages": [{"role": "user", "content": "hi"}]})
    assert len(bodies) == 3
    assert rows(theirs)[-1]["error_type"] == "PermissionDeniedError"
    mine.close()
    theirs.close()


def test_lifecycle_of_a_third_party_model(plane: ControlPlane) -> None:
    models = gateway(plane).ai.models
    model = models.create(GPT)
    status = models.status(model.id)
    assert (status.status, status.replicas, status.ready_replicas) == ("active", 0, 0)
    assert status.conditions[0]["reason"] == "ThirdParty"
    with pytest.raises(InvalidRequestError, match="only self-hosted"):
        models.deploy(model.id)
    local = models.create(
        {"name": "local", "type": "self-hosted", "provider": "local", "vendor_model_id": "x"}
    )
    assert models.status(local.id).status == "stopped"
    with pytest.raises(InvalidRequestError) as raised:
        models.deploy(local.id)
    assert raised.value.path == "config.command"
    assert str(raised.value).count("config.command") == 1
