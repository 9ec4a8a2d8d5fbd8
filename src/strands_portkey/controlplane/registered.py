"""The registered models in memory: what a request naming one resolves to, without the database.

The snapshot holds plain frozen entries (not ORM rows), built once per reload: resolving a name
on the request path is a dict lookup, a permission check and a new request with the model's
vendor id and defaults. Reloads follow every change made through ``gw.ai.models``, and other
processes' changes through the store revision (:meth:`ControlPlane.maybe_refresh`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select

from ..catalog.models import DEFAULT_KEYS, Actor, actor_from_env, can_use, route_config
from ..errors import PermissionDeniedError
from ..store.db import Store
from ..store.tables import AIModelRow
from ..types import ChatRequest

if TYPE_CHECKING:
    from ..catalog.deploy import LocalProcessDeployer

__all__ = ["RegisteredModel", "RegisteredModels", "RegistryHost"]


class RegistryHost(Protocol):
    """What the registry needs of its control plane (a protocol: the plane imports the registry)."""

    env: Mapping[str, str]
    store: Store
    reload_lock: threading.RLock

    @property
    def deployer(self) -> LocalProcessDeployer:
        """Where self-hosted models' replicas run."""
        ...

    def maybe_refresh(self) -> None:
        """Reload the snapshots when another process changed the store (cheap; the request path)."""
        ...

    def has_credentials(self, provider: str) -> bool:
        """Whether the vault holds usable keys for ``provider``."""
        ...


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    """One registered model as requests need it: who may use it, where it goes, its defaults."""

    id: str
    name: str
    self_hosted: bool
    provider: str
    vendor_model_id: str
    defaults: Mapping[str, Any]
    route: tuple[str, str, dict[str, Any]]
    owner: str
    organization_id: str
    is_shared: bool
    shared_with: frozenset[str]

    @classmethod
    def of(cls, row: AIModelRow) -> RegisteredModel:
        """The entry of ``row``: defaults from its config (and ``max_tokens`` for a chat model)."""
        config = row.config or {}
        defaults = {param: config[key] for key, param in DEFAULT_KEYS.items() if key in config}
        if "max_tokens" not in defaults and row.max_tokens is not None and row.model_type == "chat":
            defaults["max_tokens"] = row.max_tokens
        return cls(
            id=row.id,
            name=row.name,
            self_hosted=row.type == "self-hosted",
            provider=row.provider,
            vendor_model_id=row.vendor_model_id,
            defaults=MappingProxyType(defaults),
            route=(row.name, row.provider, route_config(row.provider, config)),
            owner=row.owner,
            organization_id=row.organization_id,
            is_shared=bool(row.is_shared),
            shared_with=frozenset(row.shared_with or ()),
        )


class RegisteredModels:
    """Every registered model in memory, by id and by name: requests resolve here, not in the database."""

    def __init__(self, plane: RegistryHost) -> None:
        self._plane = plane
        self._actor = actor_from_env(plane.env)
        self._models: dict[str, RegisteredModel] = {}
        self.refresh()

    def __repr__(self) -> str:
        return f"RegisteredModels(models={len({m.id for m in self._models.values()})})"

    def refresh(self) -> None:
        """Reload the snapshot (after a change made here; other processes' via the store revision).

        Under the plane's reload lock, so a background reload never swaps in older rows last.
        """
        with self._plane.reload_lock:
            with self._plane.store.reading() as session:
                entries = [RegisteredModel.of(row) for row in session.scalars(select(AIModelRow))]
            self._models = {m.id: m for m in entries} | {m.name: m for m in entries}

    def find(self, name: str) -> RegisteredModel | None:
        """The registered model with this id or name (``None``: not registered)."""
        self._plane.maybe_refresh()
        return self._models.get(name)

    def resolve(self, request: ChatRequest, actor: Actor | None = None) -> tuple[ChatRequest, str | None]:
        """The request with a registered model's vendor id and defaults, and the model's id.

        A model name that is not registered passes through unchanged (``None``). A registered
        model the acting user (``actor``, default ``STRANDS_PORTKEY_USER``'s; the server passes
        the gateway key's) may not use raises :class:`PermissionDeniedError`.
        """
        self._plane.maybe_refresh()
        model = self._models.get(request.model)
        if model is None:
            return request, None
        actor = actor or self._actor
        if not can_use(model, actor):
            raise PermissionDeniedError(
                f"user {actor.user!r} may not use model {model.name!r} ({model.id}): not shared with them"
            )
        params = request.params
        missing = [param for param in model.defaults if param not in params]
        if missing:
            params = {**params, **{param: model.defaults[param] for param in missing}}
        resolved = ChatRequest(
            model.vendor_model_id,
            request.messages,
            request.tools,
            request.tool_choice,
            request.stream,
            params,
        )
        return resolved, model.id

    def endpoints(self, model_id: str) -> list[str] | None:
        """Ready replicas of a self-hosted model (``None`` for a third-party one)."""
        self._plane.maybe_refresh()
        model = self._models.get(model_id)
        if model is None or not model.self_hosted:
            return None
        return self._plane.deployer.endpoints(model.id)

    def own_route(self, model_id: str) -> tuple[str, str, dict[str, Any]] | None:
        """A registered model's name, provider and own route config (``None`` if not registered).

        The same objects until the model changes: routes built from them are keyed on identity.
        """
        model = self._models.get(model_id)
        return model.route if model is not None else None

    def has_credentials(self, provider: str) -> bool:
        """Whether the vault holds usable keys for ``provider`` (a model's own route can use them)."""
        return self._plane.has_credentials(provider)
