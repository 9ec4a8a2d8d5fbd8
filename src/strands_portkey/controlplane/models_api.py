"""``gw.ai.models``: the AI model registry of the spec (list, overview, CRUD, lifecycle, permissions).

Objects carry the spec's fields exactly (``AIModel``, ``AIModelOverview``, ``AIModelStatus``,
``AIModelPermissions``). Every call acts as the user of ``STRANDS_PORTKEY_USER`` (see
:mod:`strands_portkey.catalog.models`): listings show only the models that user may use, and
changing a model is for its owner. Requests naming a registered model (id or name) are resolved
from an in-memory snapshot (:class:`RegisteredModels`), refreshed on every change made here and,
within the plane's ``refresh_interval``, on changes made by other processes.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from ..catalog.deploy import deploy_spec
from ..catalog.models import (
    Actor,
    actor_from_env,
    check_filters,
    count_models,
    create_model,
    find_model,
    parse_model_body,
    query_models,
    update_model,
    visible_to,
)
from ..catalog.replica_logs import parse_since, stamp
from ..errors import InvalidRequestError
from ..store.tables import AIModelRow
from .plane import ControlPlane
from .registered import RegisteredModels
from .views import SyncPaginator, iso

if TYPE_CHECKING:
    from .analytics_api import Analytics

__all__ = [
    "AIModel",
    "AIModelOverview",
    "AIModelPermissions",
    "AIModelStatus",
    "AIModels",
    "RegisteredModels",
]


@dataclass(frozen=True, slots=True)
class AIModel:
    """A registered model (the spec's fields)."""

    id: str
    name: str
    type: str
    provider: str
    vendor_model_id: str
    model_type: str
    status: str
    description: str | None
    capabilities: list[str]
    max_tokens: int | None
    context_window: int | None
    owner: str
    organization_id: str
    is_shared: bool
    shared_with: list[str]
    config: dict[str, Any]
    created_at: str
    updated_at: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class AIModelOverview:
    """Model counts by status and type."""

    total: int
    active: int
    deploying: int
    stopped: int
    failed: int
    third_party: int
    self_hosted: int


@dataclass(frozen=True, slots=True)
class AIModelStatus:
    """Deployment status: desired and ready replicas, and the conditions behind them."""

    status: str
    replicas: int
    ready_replicas: int
    conditions: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AIModelPermissions:
    """Who owns a model and who else may use it."""

    owner: str
    shared_with: list[str]
    is_shared: bool
    organization_id: str


def ai_model(row: AIModelRow) -> AIModel:
    """The API view of a row."""
    return AIModel(
        id=row.id,
        name=row.name,
        type=row.type,
        provider=row.provider,
        vendor_model_id=row.vendor_model_id,
        model_type=row.model_type,
        status=row.status,
        description=row.description,
        capabilities=list(row.capabilities or []),
        max_tokens=row.max_tokens,
        context_window=row.context_window,
        owner=row.owner,
        organization_id=row.organization_id,
        is_shared=row.is_shared,
        shared_with=list(row.shared_with or []),
        config=dict(row.config or {}),
        created_at=iso(row.created_at) or "",
        updated_at=iso(row.updated_at) or "",
    )


class AIModels:
    """``gw.ai.models``: registered models, acting as ``actor`` (default: ``STRANDS_PORTKEY_USER``).

    ``analytics`` answers :meth:`metrics` (the same caller's view); ``on_hidden`` is told the id
    of a model the actor asked for but may not see (which answers "not found").
    """

    def __init__(
        self,
        plane: ControlPlane,
        registered: RegisteredModels,
        *,
        actor: Actor | None = None,
        analytics: Analytics | None = None,
        on_hidden: Callable[[str], None] | None = None,
    ) -> None:
        self._plane = plane
        self._registered = registered
        self.actor: Actor = actor_from_env(plane.env) if actor is None else actor
        self._analytics = analytics
        self._on_hidden = on_hidden

    def _find(self, session: Any, ref: str, *, owner_only: bool = False) -> AIModelRow:
        if not isinstance(ref, str) or not ref:
            raise InvalidRequestError(f"expected a model id or name, got {ref!r}", path="model_id")
        return find_model(session, ref, self.actor, owner_only=owner_only, on_hidden=self._on_hidden)

    def __repr__(self) -> str:
        return f"AIModels(user={self.actor.user!r})"

    def list(
        self,
        *,
        search: str | None = None,
        type: str | None = None,
        status: str | None = None,
        provider: str | None = None,
        model_type: str | None = None,
        limit: int = 50,
    ) -> SyncPaginator[AIModel]:
        """Models this user may use, by name, ``limit`` per page (filters combine)."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
            raise InvalidRequestError(f"expected a positive integer, got {limit!r}", path="limit")
        check_filters(search=search, type=type, status=status, provider=provider, model_type=model_type)
        filters = {
            "search": search,
            "type": type,
            "status": status,
            "provider": provider,
            "model_type": model_type,
        }

        def fetch(offset: int, size: int) -> builtins.list[AIModel]:
            with self._plane.store.reading() as session:
                rows = query_models(session, self.actor, offset=offset, limit=size, **filters)
                return [ai_model(row) for row in rows]

        def count() -> int:
            with self._plane.store.reading() as session:
                return count_models(session, self.actor, **filters)

        return SyncPaginator(fetch, limit, count=count)

    def overview(self) -> AIModelOverview:
        """Counts of the models this user may use, by status and by type."""
        with self._plane.store.reading() as session:
            statement = select(AIModelRow.status, AIModelRow.type, func.count()).where(visible_to(self.actor))
            counts = session.execute(statement.group_by(AIModelRow.status, AIModelRow.type)).all()
        by_status: dict[str, int] = {}
        by_type: dict[str, int] = {}
        for status, kind, count in counts:
            by_status[status] = by_status.get(status, 0) + count
            by_type[kind] = by_type.get(kind, 0) + count
        return AIModelOverview(
            total=sum(by_status.values()),
            active=by_status.get("active", 0),
            deploying=by_status.get("deploying", 0),
            stopped=by_status.get("stopped", 0),
            failed=by_status.get("failed", 0),
            third_party=by_type.get("third-party", 0),
            self_hosted=by_type.get("self-hosted", 0),
        )

    def _write(self, ref: str | None, change: Any) -> AIModel:
        with self._plane.store.changing() as session:
            row = change(session, None if ref is None else self._find(session, ref, owner_only=True))
            model = ai_model(row)
        self._registered.refresh()
        return model

    def create(self, body: Mapping[str, Any]) -> AIModel:
        """Register a model owned by this user (third-party: ``active``; self-hosted: ``stopped``)."""
        fields = parse_model_body(body, partial=False)
        return self._write(None, lambda session, _: create_model(session, fields, self.actor))

    def retrieve(self, model_id: str) -> AIModel:
        """A model by id (or name) that this user may use."""
        with self._plane.store.reading() as session:
            return ai_model(self._find(session, model_id))

    def update(self, model_id: str, body: Mapping[str, Any]) -> AIModel:
        """Change a model's fields (owner only)."""
        fields = parse_model_body(body, partial=True)
        return self._write(model_id, lambda session, row: update_model(session, row, fields))

    def delete(self, model_id: str) -> dict[str, Any]:
        """Remove a model from the registry (owner only); a deployed one's replicas are stopped."""
        with self._plane.store.changing() as session:
            row = self._find(session, model_id, owner_only=True)
            found = row.id
            session.delete(row)
        self._registered.refresh()
        self._plane.deployer.stop(found)  # nothing could stop them once the model is gone
        return {"id": found, "deleted": True}

    def get_permissions(self, model_id: str) -> AIModelPermissions:
        """Owner, organization, and who it is shared with."""
        model = self.retrieve(model_id)
        return AIModelPermissions(model.owner, model.shared_with, model.is_shared, model.organization_id)

    def update_permissions(
        self, model_id: str, *, is_shared: bool | None = None, shared_with: builtins.list[str] | None = None
    ) -> dict[str, Any]:
        """Share with the organization (``is_shared``) and/or list users (``shared_with``); owner only."""
        if is_shared is not None and not isinstance(is_shared, bool):
            raise InvalidRequestError(f"expected True or False, got {is_shared!r}", path="is_shared")
        if shared_with is not None and (
            not isinstance(shared_with, builtins.list)
            or not all(isinstance(u, str) and u for u in shared_with)
        ):
            raise InvalidRequestError(f"expected a list of user ids, got {shared_with!r}", path="shared_with")

        def change(session: Any, row: AIModelRow) -> AIModelRow:
            fields: dict[str, Any] = {}
            if is_shared is not None:
                fields["is_shared"] = is_shared
            if shared_with is not None:
                fields["shared_with"] = list(dict.fromkeys(shared_with))
            return update_model(session, row, fields)

        model = self._write(model_id, change)
        return {"id": model.id, "is_shared": model.is_shared, "shared_with": model.shared_with}

    # ------------------------------------------------------------------ lifecycle

    def status(self, model_id: str) -> AIModelStatus:
        """Deployment status. A third-party model is served by its provider: ``active``, no replicas."""
        model = self.retrieve(model_id)
        if model.type == "third-party":
            condition = {
                "type": "Ready",
                "status": "True",
                "reason": "ThirdParty",
                "message": f"served by {model.provider}",
            }
            return AIModelStatus(model.status, 0, 0, [condition])
        state = self._plane.deployer.status(model.id)
        if state.status != model.status:
            self._set_status(model.id, state.status)
        return AIModelStatus(state.status, state.replicas, state.ready_replicas, state.conditions)

    def _set_status(self, model_id: str, status: str) -> None:
        with self._plane.store.changing() as session:
            row = session.get(AIModelRow, model_id)
            if row is not None:
                update_model(session, row, {"status": status})
        self._registered.refresh()

    def metrics(self, model_id: str) -> dict[str, Any]:
        """Requests, tokens, cost, latency percentiles and error rate of the model (from analytics)."""
        from .analytics_api import Analytics

        model = self.retrieve(model_id)
        analytics = self._analytics or Analytics(self._plane)
        usage = analytics.usage(model_id=model.id)
        perf = analytics.performance(model_id=model.id)
        return {
            "model_id": model.id,
            "requests": usage.total_requests,
            "total_tokens": usage.total_tokens,
            "cost": analytics.costs(model_id=model.id).total_cost,
            "avg_latency_ms": perf.avg_latency_ms,
            "p50_latency_ms": perf.p50_latency_ms,
            "p95_latency_ms": perf.p95_latency_ms,
            "p99_latency_ms": perf.p99_latency_ms,
            "error_rate": perf.error_rate,
        }

    def deploy(self, model_id: str, **kwargs: Any) -> dict[str, Any]:
        """Start a self-hosted model's replicas from its ``config`` (``replicas=`` overrides the count)."""
        row = self._self_hosted(model_id, "deploy")
        unknown = set(kwargs) - {"replicas"}
        if unknown:
            raise InvalidRequestError(
                f"unknown argument(s) {sorted(unknown)}; known: replicas", path="deploy"
            )
        spec = deploy_spec(row.id, row.config or {}, kwargs.get("replicas"))
        self._plane.deployer.deploy(spec)
        self._set_status(row.id, "deploying")
        return {"id": row.id, "status": "deploying", "replicas": spec.replicas}

    def start(self, model_id: str) -> dict[str, Any]:
        """Start a stopped self-hosted model (its replicas, from its ``config``)."""
        return self.deploy(model_id)

    def stop(self, model_id: str) -> dict[str, Any]:
        """Stop a running self-hosted model's replicas."""
        row = self._self_hosted(model_id, "stop")
        self._plane.deployer.stop(row.id)
        self._set_status(row.id, "stopped")
        return {"id": row.id, "status": "stopped"}

    def logs(
        self,
        model_id: str,
        *,
        lines: int | None = None,
        since: str | datetime | None = None,
        container: str | None = None,
    ) -> dict[str, Any]:
        """Each replica's (``container``: ``replica-N``) last ``lines`` (100) at or after ``since``.

        Lines start with the UTC time they arrived. ``since``: ``"1h"`` / ``"1h30m"`` back from now,
        an ISO 8601 time (naive is UTC) or a datetime; the answer gives it as a UTC ISO time.
        """
        if lines is not None and (isinstance(lines, bool) or not isinstance(lines, int) or lines <= 0):
            raise InvalidRequestError(f"expected a positive integer, got {lines!r}", path="lines")
        row = self._self_hosted(model_id, "logs", owner_only=False)
        deployer = self._plane.deployer
        moment = parse_since(since, now=deployer.now)
        found = deployer.logs(row.id, lines=lines, since=moment, container=container)
        return {"model_id": row.id, "since": None if moment is None else stamp(moment), "logs": found}

    def _self_hosted(self, model_id: str, action: str, *, owner_only: bool = True) -> AIModelRow:
        with self._plane.store.reading() as session:
            row = self._find(session, model_id, owner_only=owner_only)
        if row.type == "third-party":
            raise InvalidRequestError(
                f"model {row.id} is third-party (served by {row.provider}); "
                f"only self-hosted models can {action}",
                path="model_id",
            )
        return row
