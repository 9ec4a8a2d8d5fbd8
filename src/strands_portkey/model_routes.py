"""Requests naming a registered model (``gw.ai.models``), and where every request is recorded.

Where a request naming a registered model goes:

- **Self-hosted, deployed:** a load balancer over its ready replicas (the gateway's ``balance``),
  with the ``retry`` / ``request_timeout`` of the model's config at each replica.
- **Third-party:** in this order,

  1. the gateway's own config, when one of its targets calls the model's provider: the user
     configured that provider's keys, retries, fallbacks, caching and guardrails there;
  2. else the model's own route: its provider, called with the vault's keys for it (weighted,
     rotating) or its environment key, with the route keys of the model's ``config``
     (``custom_host``, ``retry``, ``request_timeout``, ``cache``);
  3. else, when the config goes through Portkey's gateway (which resolves providers itself),
     the config;
  4. else an :class:`InvalidRequestError` saying how to give the provider a key.

Whose permissions apply: the user of ``STRANDS_PORTKEY_USER``, unless the request's metadata
carries a gateway key's identity (``_api_key_id``, ``_user``, ``_organization_id``), which the
server sets from the caller's key (overwriting whatever the caller sent): then that key's user and
organization.

A config target may name a registered model too (``override_params.model``): the model's
vendor id and defaults apply there, and a target without ``provider`` takes the model's.

Routes are built once and reused until the model's route, its replicas or the presence of vault
keys for its provider change; building one is the gateway's own ``_build`` (the same pipeline
as a config target), so nothing here talks to the network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from .analytics.record import RecordSink, refused_record
from .config.plan import LeafPlan
from .embeddings import EmbeddingRequest, EmbeddingResponse
from .errors import ConfigurationError, GatewayError, InvalidRequestError
from .pipeline.base import ChunkStream, Handler, RequestContext
from .providers import host_spec
from .types import ChatRequest, ChatResponse

if TYPE_CHECKING:  # catalog.models loads SQLAlchemy: only when a gateway key's identity is present
    from .catalog.models import Actor

__all__ = [
    "ANALYTICS_ENV",
    "KEY_ID_METADATA",
    "ORGANIZATION_METADATA",
    "USER_METADATA",
    "ModelRegistry",
    "ModelRouting",
    "RegisteredModelsOnly",
    "actor_of",
    "canonical_provider",
    "served_providers",
]

ANALYTICS_ENV = "STRANDS_PORTKEY_ANALYTICS"
_OFF = {"0", "off", "false", "no"}
KEY_ID_METADATA = "_api_key_id"
USER_METADATA = "_user"
ORGANIZATION_METADATA = "_organization_id"


def actor_of(metadata: Mapping[str, str]) -> Actor | None:
    """The gateway key's user and organization the server put in a request's metadata, or None."""
    if KEY_ID_METADATA not in metadata:
        return None
    from .catalog.models import Actor

    return Actor(metadata.get(USER_METADATA, ""), metadata.get(ORGANIZATION_METADATA, ""))


_PORTKEY = "portkey"
_REPLICA_KEYS = ("retry", "request_timeout")


class ModelRegistry(Protocol):
    """What routing needs of the registered models (``controlplane.models_api.RegisteredModels``)."""

    def resolve(self, request: ChatRequest, actor: Actor | None = None) -> tuple[ChatRequest, str | None]:
        """The request with a registered model's vendor id and defaults, and the model's id."""
        ...

    def endpoints(self, model_id: str) -> list[str] | None:
        """Ready replica URLs of a self-hosted model; ``None`` for a third-party one."""
        ...

    def own_route(self, model_id: str) -> tuple[str, str, dict[str, Any]] | None:
        """A registered model's name, provider and own route config; ``None`` if not registered."""
        ...

    def has_credentials(self, provider: str) -> bool:
        """Whether the vault holds usable keys for ``provider``."""
        ...


class Plane(Protocol):
    """What routing needs of the control plane: the registry and the analytics sink."""

    @property
    def registered_models(self) -> ModelRegistry: ...

    @property
    def records(self) -> RecordSink: ...


def canonical_provider(provider: str) -> str:
    """The provider's canonical id (aliases resolved: ``google`` and ``gemini`` are one)."""
    spec = host_spec(provider)
    return spec.name if spec is not None else provider.strip().lower()


def served_providers(providers: Iterable[str]) -> frozenset[str]:
    """The canonical ids of the providers a config's targets call."""
    return frozenset(canonical_provider(provider) for provider in providers)


class RegisteredModelsOnly:
    """The router of a gateway built without a config: a name that is not registered goes nowhere."""

    def __repr__(self) -> str:
        return "RegisteredModelsOnly()"

    async def chat(self, request: ChatRequest, context: RequestContext) -> ChatResponse:
        """Refuse: see :meth:`_refusal`."""
        raise self._refusal(request)

    async def open_stream(self, request: ChatRequest, context: RequestContext) -> ChunkStream:
        """Refuse: see :meth:`_refusal`."""
        raise self._refusal(request)

    async def embed(self, request: EmbeddingRequest, context: RequestContext) -> EmbeddingResponse:
        """Refuse: see :meth:`_refusal`."""
        raise self._refusal(request)

    @staticmethod
    def _refusal(request: ChatRequest | EmbeddingRequest) -> InvalidRequestError:
        return InvalidRequestError(
            f"model {request.model!r} is not a registered model this user may use, and this gateway "
            "has no config to route other names: register it (gw.ai.models.create) or build the "
            "gateway with a config, e.g. Gateway({'provider': 'openai'})",
            path="model",
        )


class ModelRouting:
    """One gateway's registry and analytics hooks, and the routes of registered models it built.

    Both hooks need a store the user asked for (``open_plane`` returns ``None`` otherwise), and
    are looked up on the first request, then again after :meth:`reset` (the store was created).
    """

    def __init__(
        self,
        open_plane: Callable[[], Plane | None],
        build: Callable[[Mapping[str, Any]], Handler],
        env: Mapping[str, str],
    ) -> None:
        self._open_plane = open_plane
        self._build = build
        self._recording = env.get(ANALYTICS_ENV, "").strip().lower() not in _OFF
        self._looked_up = False
        self.sink: RecordSink | None = None
        self.registry: ModelRegistry | None = None
        self._routes: dict[str, tuple[tuple[Any, ...], Handler]] = {}

    def __repr__(self) -> str:
        return f"ModelRouting(routes={sorted(self._routes)!r}, recording={self.sink is not None})"

    def reset(self) -> None:
        """Look the hooks up again on the next request (a store was created since)."""
        self._looked_up = False

    def hooks(self) -> tuple[RecordSink | None, ModelRegistry | None]:
        """Where requests are recorded, and the registered models they may name; or neither."""
        if not self._looked_up:
            self._looked_up = True
            plane = self._open_plane()
            if plane is not None:
                self.registry = plane.registered_models
                self.sink = plane.records if self._recording else None
        return self.sink, self.registry

    def resolve(
        self, named: ChatRequest, context: RequestContext, config: Handler, served: frozenset[str]
    ) -> tuple[ChatRequest, Handler, str | None, RecordSink | None]:
        """The request (vendor id and defaults), its route, the registered model's id, the sink.

        ``config`` is the router of the gateway's config, whose targets call ``served``. A
        request refused here (permissions, no way to reach the model's provider) is recorded.
        """
        sink, registry = self.hooks()
        if registry is None:
            return named, config, None, sink
        try:
            resolved, model_id = registry.resolve(named, actor_of(context.metadata))
            if model_id is None:
                return resolved, config, None, sink
            route = self._route(registry, model_id, config, served)
        except GatewayError as error:
            if sink is not None:
                sink.submit(refused_record(named, context, error))
            raise
        return resolved, route, model_id, sink

    def leaf_of_model(self, leaf: LeafPlan) -> LeafPlan:
        """A target naming no provider but a registered model (``override_params.model``): its provider."""
        registry = self.hooks()[1]
        own = registry.own_route(leaf.override_params["model"]) if registry is not None else None
        if own is None:
            return leaf  # the target resolver then says a provider is needed
        provider, route = own[1], own[2]
        return replace(leaf, provider=provider, custom_host=leaf.custom_host or route.get("custom_host"))

    def leaf_model(self, request: ChatRequest) -> ChatRequest:
        """A registered model named by a target's ``override_params.model``: vendor id and defaults."""
        registry = self.hooks()[1]
        return request if registry is None else registry.resolve(request)[0]

    # ------------------------------------------------------------------ routes

    def _route(
        self, registry: ModelRegistry, model_id: str, config: Handler, served: frozenset[str]
    ) -> Handler:
        own = registry.own_route(model_id)
        if own is None:
            return config
        name, provider, route = own
        endpoints = registry.endpoints(model_id)
        if endpoints is not None:
            return self._replicas(model_id, endpoints, route)
        if canonical_provider(provider) in served:
            return config
        try:
            vault = registry.has_credentials(provider)  # a key added to the vault rebuilds the route
            return self._cached(model_id, (route, vault), lambda: route)
        except ConfigurationError as error:
            if _PORTKEY in served:
                return config
            raise InvalidRequestError(
                f"model {name!r} ({model_id}) is served by provider {provider!r}, which this "
                f"gateway's config does not call, and its own route cannot be built: {error.reason} "
                f"Add a key for it (gw.ai.provider_keys.create({{'provider': {provider!r}, ...}})), "
                "or add a target for it to the gateway's config",
                path="model",
            ) from None

    def _replicas(self, model_id: str, endpoints: list[str], route: Mapping[str, Any]) -> Handler:
        if not endpoints:
            raise InvalidRequestError(
                f"model {model_id} is self-hosted and has no ready replica: deploy it "
                "(gw.ai.models.deploy) and wait until gw.ai.models.status(...).ready_replicas > 0",
                path="model",
            )

        def config() -> dict[str, Any]:
            settings = {key: route[key] for key in _REPLICA_KEYS if key in route}
            targets = [
                {"provider": "openai", "custom_host": url, "api_key": "local", **settings}
                for url in endpoints
            ]
            return {"strategy": {"mode": "loadbalance"}, "targets": targets}

        return self._cached(model_id, (route, tuple(endpoints)), config)

    def _cached(
        self, model_id: str, key: tuple[Any, ...], config: Callable[[], Mapping[str, Any]]
    ) -> Handler:
        """The route built for ``key`` (the model's route config, and its replicas or vault state)."""
        found = self._routes.get(model_id)
        if found is not None and found[0] == key:  # the snapshot's own objects: compared by identity
            return found[1]
        handler = self._build(config())
        self._routes[model_id] = (key, handler)
        return handler
