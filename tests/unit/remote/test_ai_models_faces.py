"""``gw.ai.models`` and ``client.ai.models`` behave alike: every test runs against both faces.

The ``face`` fixture (tests/unit/remote/conftest.py) is ``Gateway(control_plane=plane)`` or a
``Client`` of the server over the same plane, both acting as user ``ana``.
"""

from __future__ import annotations

from typing import Any

import pytest

from strands_portkey.controlplane.models_api import (
    AIModel,
    AIModelOverview,
    AIModelPermissions,
    AIModelStatus,
)
from strands_portkey.controlplane.views import SyncPaginator
from strands_portkey.errors import (
    ConflictError,
    InvalidRequestError,
    ResourceNotFoundError,
)
from tests.unit.remote.ai_fixtures import CLAUDE, GPT, LOCAL, plane

__all__ = ["plane"]  # the suite's plane (keys validated, scripted replicas) replaces conftest's


def test_register_retrieve_update_delete(face: Any) -> None:
    model = face.ai.models.create(GPT)
    assert isinstance(model, AIModel)
    assert (model.name, model.provider, model.vendor_model_id, model.status) == (
        "GPT-4o Mini",
        "openai",
        "gpt-4o-mini",
        "active",
    )
    assert (model.owner, model.organization_id, model.is_shared, model.shared_with) == (
        "ana",
        "local",
        False,
        [],
    )
    assert model.capabilities == ["chat", "function_calling"]
    assert model.config == {"default_temperature": 0.7}
    assert face.ai.models.retrieve(model.id) == model
    assert face.ai.models.retrieve("GPT-4o Mini") == model  # by name too
    updated = face.ai.models.update(model.id, {"description": "Updated description", "max_tokens": 32768})
    assert (updated.description, updated.max_tokens, updated.name) == (
        "Updated description",
        32768,
        model.name,
    )
    assert updated.updated_at >= model.updated_at
    assert face.ai.models.delete(model.id) == {"id": model.id, "deleted": True}
    with pytest.raises(ResourceNotFoundError):
        face.ai.models.retrieve(model.id)


def test_listing_filters_pages_and_overview(face: Any) -> None:
    for body in (GPT, CLAUDE, LOCAL):
        face.ai.models.create(body)
    listing = face.ai.models.list()
    assert isinstance(listing, SyncPaginator)
    assert [m.name for m in listing] == ["Claude 3.5 Sonnet", "GPT-4o Mini", "Local Llama"]
    assert [m.name for m in face.ai.models.list(provider="openai")] == ["GPT-4o Mini"]
    assert [m.name for m in face.ai.models.list(status="stopped")] == ["Local Llama"]
    assert [m.name for m in face.ai.models.list(type="third-party")] == ["Claude 3.5 Sonnet", "GPT-4o Mini"]
    assert [m.name for m in face.ai.models.list(model_type="completion")] == ["Local Llama"]
    assert [m.name for m in face.ai.models.list(search="gpt")] == ["GPT-4o Mini"]
    assert [m.name for m in face.ai.models.list(search="sonnet", status="active")] == ["Claude 3.5 Sonnet"]
    # pages of one: the same models, fetched lazily page after page
    paged = face.ai.models.list(limit=1)
    assert [m.name for m in paged.first_page()] == ["Claude 3.5 Sonnet"]
    assert [m.name for m in paged.to_list()] == ["Claude 3.5 Sonnet", "GPT-4o Mini", "Local Llama"]
    overview = face.ai.models.overview()
    assert overview == AIModelOverview(
        total=3, active=2, deploying=0, stopped=1, failed=0, third_party=2, self_hosted=1
    )


def test_bad_listing_arguments_are_refused_naming_them(face: Any) -> None:
    with pytest.raises(InvalidRequestError, match="limit"):
        face.ai.models.list(limit=0)
    with pytest.raises(InvalidRequestError, match="status"):
        face.ai.models.list(status="sleeping").to_list()
    with pytest.raises(InvalidRequestError, match="type"):
        face.ai.models.list(type="homemade").to_list()


def test_bad_bodies_duplicates_and_unknown_ids(face: Any) -> None:
    face.ai.models.create(GPT)
    with pytest.raises(ConflictError):
        face.ai.models.create({**GPT, "name": "gpt-4o MINI"})  # names are unique ignoring case
    with pytest.raises(InvalidRequestError, match="colour"):
        face.ai.models.create({**CLAUDE, "colour": "blue"})
    with pytest.raises(InvalidRequestError, match="max_tokens"):
        face.ai.models.create({**CLAUDE, "max_tokens": "lots"})
    with pytest.raises(InvalidRequestError, match="name"):
        face.ai.models.create({"provider": "openai", "vendor_model_id": "x"})
    with pytest.raises(InvalidRequestError, match="status"):
        face.ai.models.update("GPT-4o Mini", {"status": "active"})
    with pytest.raises(ResourceNotFoundError):
        face.ai.models.retrieve("model-missing")
    with pytest.raises(ResourceNotFoundError):
        face.ai.models.update("model-missing", {"description": "x"})
    with pytest.raises(ResourceNotFoundError):
        face.ai.models.delete("model-missing")
    assert [m.name for m in face.ai.models.list()] == ["GPT-4o Mini"]  # nothing else was written


def test_permissions(face: Any) -> None:
    model = face.ai.models.create(GPT)
    perms = face.ai.models.get_permissions(model.id)
    assert perms == AIModelPermissions(owner="ana", shared_with=[], is_shared=False, organization_id="local")
    assert face.ai.models.update_permissions(model.id, is_shared=True) == {
        "id": model.id,
        "is_shared": True,
        "shared_with": [],
    }
    shared = face.ai.models.update_permissions(model.id, shared_with=["user-1", "user-2", "user-1"])
    assert shared == {"id": model.id, "is_shared": True, "shared_with": ["user-1", "user-2"]}
    assert face.ai.models.get_permissions(model.id).shared_with == ["user-1", "user-2"]
    with pytest.raises(InvalidRequestError, match="shared_with"):
        face.ai.models.update_permissions(model.id, shared_with="user-3")


def test_third_party_lifecycle_and_metrics(face: Any) -> None:
    model = face.ai.models.create(GPT)
    status = face.ai.models.status(model.id)
    assert isinstance(status, AIModelStatus)
    assert (status.status, status.replicas, status.ready_replicas) == ("active", 0, 0)
    assert status.conditions[0]["reason"] == "ThirdParty"
    with pytest.raises(InvalidRequestError, match="third-party"):
        face.ai.models.deploy(model.id)
    with pytest.raises(InvalidRequestError, match="third-party"):
        face.ai.models.logs(model.id)
    metrics = face.ai.models.metrics(model.id)
    assert metrics["model_id"] == model.id
    assert (metrics["requests"], metrics["total_tokens"], metrics["error_rate"]) == (0, 0, 0.0)


def test_self_hosted_lifecycle(face: Any) -> None:
    model = face.ai.models.create(LOCAL)
    assert model.status == "stopped"
    assert face.ai.models.deploy(model.id, replicas=1) == {
        "id": model.id,
        "status": "deploying",
        "replicas": 1,
    }
    status = face.ai.models.status(model.id)
    assert (status.status, status.replicas, status.ready_replicas) == ("active", 1, 1)
    assert face.ai.models.retrieve(model.id).status == "active"
    logs = face.ai.models.logs(model.id, lines=1, since="1h")
    assert logs == {
        "model_id": model.id,
        "since": "2026-01-01T00:00:00.000000Z",
        "logs": {"replica-0": "2026-01-01T00:00:01.000000Z ready"},
    }
    assert face.ai.models.logs(model.id, container="replica-9")["logs"] == {}
    with pytest.raises(InvalidRequestError, match="since"):
        face.ai.models.logs(model.id, since="yesterday-ish")
    assert face.ai.models.stop(model.id) == {"id": model.id, "status": "stopped"}
    assert face.ai.models.retrieve(model.id).status == "stopped"
    assert face.ai.models.start(model.id)["replicas"] == 2  # the count of its config
    with pytest.raises(InvalidRequestError, match="replicas"):
        face.ai.models.deploy(model.id, replicas=99)
