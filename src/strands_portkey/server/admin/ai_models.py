"""``/api/ai/models``: seed 000's ``client.ai.models``, one route per method, over ``gw.ai.models``.

==========================================  =====================================  ==========
route                                       method                                 returns
==========================================  =====================================  ==========
``GET /api/ai/models``                      ``list(search, type, status, ...)``    ``Page[AIModel]``
``GET /api/ai/models/overview``             ``overview()``                         ``AIModelOverview``
``POST /api/ai/models``                     ``create(body)``                       ``AIModel`` (201)
``GET|PUT|DELETE /api/ai/models/{id}``      ``retrieve`` / ``update`` / ``delete``  ``AIModel`` / dict
``POST .../{id}/deploy|start|stop``         ``deploy(**kwargs)`` / ``start`` / ``stop``  dict
``GET .../{id}/status|metrics|logs``        ``status`` / ``metrics`` / ``logs``    ``AIModelStatus`` / dict
``GET|PUT .../{id}/permissions``            ``get_permissions`` / ``update_permissions``
==========================================  =====================================  ==========

Every route is for members: the service layer narrows (a member sees the models it may use and
changes its own; another user's private model is 404, and the probe is logged).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from ...controlplane.models_api import AIModel, AIModelOverview, AIModelPermissions, AIModelStatus
from .ai_common import AIDep, Page, located, page_of
from .bodies import Body, Limit, Offset, fields_set

__all__ = ["router"]

ModelType = Literal["third-party", "self-hosted"]
Capability = Literal["chat", "completion", "embedding"]
Status = Literal["active", "deploying", "stopped", "failed"]
Text = Annotated[str, Field(min_length=1, max_length=200)]


class AIModelFields(Body):
    """A model's editable fields (seed 000's ``AIModel``); all optional in an update."""

    name: Text | None = None
    type: ModelType | None = None
    provider: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    vendor_model_id: Text | None = None
    model_type: Capability | None = None
    description: Annotated[str, Field(max_length=10_000)] | None = None
    capabilities: list[str] | None = None
    max_tokens: Annotated[int, Field(gt=0)] | None = None
    context_window: Annotated[int, Field(gt=0)] | None = None
    config: dict[str, Any] | None = None


class NewAIModel(AIModelFields):
    """``create(body)``: ``name``, ``provider`` and ``vendor_model_id`` are required."""

    name: Text
    provider: Annotated[str, Field(min_length=1, max_length=100)]
    vendor_model_id: Text
    is_shared: bool | None = None
    shared_with: list[Annotated[str, Field(min_length=1)]] | None = None


class AIModelDeploy(Body):
    """``deploy(model_id, **kwargs)``: ``replicas`` overrides the count in the model's ``config``."""

    replicas: Annotated[int, Field(ge=1, le=16)] | None = None


class AIModelSharing(Body):
    """``update_permissions(model_id, *, is_shared=None, shared_with=None)``."""

    is_shared: bool | None = None
    shared_with: list[Annotated[str, Field(min_length=1)]] | None = None


def _set(body: Body) -> dict[str, Any]:
    """The fields sent, without explicit nulls (``None`` means "not given" in seed 000)."""
    return {key: value for key, value in fields_set(body).items() if value is not None}


def router() -> APIRouter:
    """The routes of ``/api/ai/models``."""
    r = APIRouter(tags=["ai models"])

    @r.get("/api/ai/models", response_model=Page[AIModel], summary="List models with optional filters")
    def list_models(
        *,
        ai: AIDep,
        search: Annotated[str | None, Query(max_length=200)] = None,
        type: ModelType | None = None,
        status: Status | None = None,
        provider: Annotated[str | None, Query(max_length=100)] = None,
        model_type: Capability | None = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        with located("query"):
            models = ai.models.list(
                search=search, type=type, status=status, provider=provider, model_type=model_type, limit=limit
            )
            return page_of(models, offset)

    @r.get("/api/ai/models/overview", summary="Model counts by status and type")
    def overview(ai: AIDep) -> AIModelOverview:
        return ai.models.overview()

    @r.post("/api/ai/models", status_code=201, summary="Register a new model")
    def create(ai: AIDep, body: NewAIModel) -> AIModel:
        with located("body"):
            return ai.models.create(_set(body))

    @r.get("/api/ai/models/{model_id}", summary="Get a model by id (or name)")
    def retrieve(ai: AIDep, model_id: str) -> AIModel:
        with located("query"):
            return ai.models.retrieve(model_id)

    @r.put("/api/ai/models/{model_id}", summary="Update model fields (owner or admin)")
    def update(ai: AIDep, model_id: str, body: AIModelFields) -> AIModel:
        with located("body"):
            return ai.models.update(model_id, _set(body))

    @r.delete("/api/ai/models/{model_id}", summary="Delete a model (owner or admin)")
    def delete(ai: AIDep, model_id: str) -> dict[str, Any]:
        with located("query"):
            return ai.models.delete(model_id)

    @r.post("/api/ai/models/{model_id}/deploy", summary="Deploy a self-hosted model")
    def deploy(ai: AIDep, model_id: str, body: AIModelDeploy | None = None) -> dict[str, Any]:
        with located("body"):
            return ai.models.deploy(model_id, **(_set(body) if body is not None else {}))

    @r.post("/api/ai/models/{model_id}/start", summary="Start a stopped model")
    def start(ai: AIDep, model_id: str) -> dict[str, Any]:
        with located("body"):
            return ai.models.start(model_id)

    @r.post("/api/ai/models/{model_id}/stop", summary="Stop a running model")
    def stop(ai: AIDep, model_id: str) -> dict[str, Any]:
        with located("body"):
            return ai.models.stop(model_id)

    @r.get("/api/ai/models/{model_id}/status", summary="Deployment status")
    def status_of(ai: AIDep, model_id: str) -> AIModelStatus:
        with located("query"):
            return ai.models.status(model_id)

    @r.get("/api/ai/models/{model_id}/metrics", summary="Model metrics (from analytics)")
    def metrics(ai: AIDep, model_id: str) -> dict[str, Any]:
        with located("query"):
            return ai.models.metrics(model_id)

    @r.get("/api/ai/models/{model_id}/logs", summary="Replica logs")
    def logs(
        *,
        ai: AIDep,
        model_id: str,
        lines: Annotated[int | None, Query(ge=1, le=10_000)] = None,
        since: Annotated[str | None, Query(max_length=64)] = None,
        container: Annotated[str | None, Query(max_length=100)] = None,
    ) -> dict[str, Any]:
        with located("query"):
            return ai.models.logs(model_id, lines=lines, since=since, container=container)

    @r.get("/api/ai/models/{model_id}/permissions", summary="Who owns the model, who may use it")
    def get_permissions(ai: AIDep, model_id: str) -> AIModelPermissions:
        with located("query"):
            return ai.models.get_permissions(model_id)

    @r.put("/api/ai/models/{model_id}/permissions", summary="Share the model (owner or admin)")
    def update_permissions(ai: AIDep, model_id: str, body: AIModelSharing) -> dict[str, Any]:
        with located("body"):
            return ai.models.update_permissions(model_id, **_set(body))

    return r
