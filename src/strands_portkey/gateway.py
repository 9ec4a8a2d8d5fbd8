"""``Gateway``: the composition root. It wires a config, adapters, transport and pipeline.

Everything stateful (the HTTP pool, later caches, vaults, balancer state, sinks) belongs to one
``Gateway`` instance, so two gateways in one process never see each other. The config is parsed
and validated once, here, at construction: a bad config fails now with the JSON path of the
offending field, never in the middle of a request.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from .admission import Admitted
from .analytics.record import StreamRecorder, recorded  # analytics (issue 7); no database import
from .cache.semantic import SemanticCache, SemanticSettings
from .cache.stores import CacheStore, MemoryStore
from .call_defaults import CallDefaults
from .chat_stream import ChatStream, RequestLike, as_request, traced, with_route
from .config.client_args import PortkeyAccess, portkey_access, resolve_client_args
from .config.plan import LeafPlan, PlanNode, StrategyPlan, iter_leaves
from .config.resolve import build_plan
from .control_faces import ControlPlaneFaces
from .embeddings import EmbeddingRequest, EmbeddingResponse
from .errors import ConfigurationError
from .forwarding import ForwardHeaders
from .guardrails import CheckRegistry, default_registry
from .leaf_stages import LeafStages
from .model_routes import ANALYTICS_ENV, ModelRouting, RegisteredModelsOnly, served_providers
from .pipeline.base import Handler, RequestContext
from .pipeline.retry import Backoff, Sleep
from .rotation import CredentialRotation
from .routing.balance import BalanceMode
from .routing.executor import build_router
from .shared_state import SharedState
from .targets import ProviderRoute, TargetResolver
from .telemetry import RequestTrace, Telemetry
from .transport import AsyncHTTPTransport, Transport, TransportSettings
from .types import ChatResponse
from .upstream import UpstreamCall
from .wire import HttpRequest, HttpResponse

if TYPE_CHECKING:  # control plane (issue 5): imported on first use only
    from .controlplane import AINamespace, ControlPlane
    from .controlplane.api_keys import ApiKeys
    from .controlplane.configs_api import Configs
    from .controlplane.providers_api import Providers
    from .vault.selector import SelectedCredential

__all__ = ["ANALYTICS_ENV", "ChatStream", "Gateway"]

_T = TypeVar("_T")


class Gateway(ControlPlaneFaces):
    """An in-process AI gateway executing a Portkey config.

    Args:
        config: A Portkey config (dict or JSON string): a leaf such as
            ``{"provider": "openai", "api_key": "sk-..."}`` or a tree of targets with
            ``fallback`` / ``loadbalance`` / ``conditional`` / ``single`` strategies, ``retry``,
            ``override_params`` and ``request_timeout`` (see the README's config reference).
            Without one (``Gateway()``), requests must name a registered model (``gw.ai.models``),
            which routes to its own provider. A saved config id (``"pc-..."``, ``gw.configs``)
            runs that config's current version and follows later ones.
        client_args: Portkey ``AsyncPortkey`` arguments instead of ``config`` (see
            :mod:`strands_portkey.config.client_args` for where each combination routes).
        transport: An ``httpx`` async transport instead of the network (``httpx.MockTransport``;
            selects httpx), or a ``Transport`` shared with other gateways (its owner closes it).
        transport_settings: The HTTP client (aiohttp when the ``[fast]`` extra is installed, else
            httpx), pool sizes, admission (requests in flight, queued first come first served)
            and timeouts; see :class:`~strands_portkey.transport.TransportSettings`.
        env: Where provider keys such as ``OPENAI_API_KEY`` are looked up (default ``os.environ``).
        clock: A monotonic clock in seconds (injected in tests).
        sleep: How retries wait (default ``asyncio.sleep``; tests inject one that only records).
        rng: Randomness for load balancing and backoff jitter (seed it for reproducible draws).
        balance: ``"weighted"`` (default): Portkey's weighted random draw per request;
            ``"round_robin"``: smooth weighted round-robin, evenly interleaved, state kept here.
        backoff: Retry backoff (base, factor, cap, jitter, Retry-After ceiling).
        cache_store: Where ``cache`` entries live (default: an in-memory LRU of 10,000 entries
            owned by this gateway).
        semantic_cache: How ``cache: {"mode": "semantic"}`` matches: threshold, embedder (default
            MiniLM int8, the ``[semantic]`` extra, loaded on first use), limits.
        control_plane: The local vault and catalog (``ControlPlane``); by default the one at
            ``STRANDS_PORTKEY_DB_URL`` or in the user's data directory, opened on first use.
        checks: The guardrail checks hooks may name (default: the built-ins); add your own with
            ``default_registry()`` + ``.register("acme.noSecrets", fn)``.
        shared_state: Where round-robin positions (``balance="round_robin"`` and vault keys), 429
            cooldowns and 401/403 disables live, to share them with other gateways: a
            ``MemoryState`` (this process) or a ``RedisState`` (every worker). Default: here.
        telemetry: Spans, metrics and trace propagation (default: the application's
            OpenTelemetry setup, a no-op until an SDK is installed; no Prometheus counters).
    """

    def __init__(
        self,
        config: Mapping[str, Any] | str | None = None,
        *,
        client_args: Mapping[str, Any] | None = None,
        transport: AsyncHTTPTransport | Transport | None = None,
        transport_settings: TransportSettings | None = None,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.perf_counter,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        balance: BalanceMode = "weighted",
        backoff: Backoff | None = None,
        cache_store: CacheStore | None = None,
        semantic_cache: SemanticSettings | None = None,
        control_plane: ControlPlane | None = None,
        checks: CheckRegistry | None = None,
        shared_state: SharedState | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        if balance not in ("weighted", "round_robin"):
            raise ConfigurationError(
                f"expected 'weighted' or 'round_robin', got {balance!r}", path="Gateway.balance"
            )
        self._env = os.environ if env is None else env
        self._shared_state = shared_state  # issue 15: positions and cooldowns shared by processes
        self._telemetry = telemetry or Telemetry()  # issue 18
        # --- control plane (issue 5) ---
        self._control_plane, self._owns_control_plane = control_plane, False
        self._http_transport = None if isinstance(transport, Transport) else transport
        self._control_api: tuple[AINamespace, Providers] | None = None
        self._keys_api: tuple[Configs, ApiKeys] | None = None  # issue 15
        # --- end control plane ---
        self._saved_config: tuple[str, int] | None = None  # a saved config followed (issue 15)
        config, client_args = self._resolve_saved(config, client_args)
        self._portkey: PortkeyAccess = portkey_access(self._env)
        self._defaults = CallDefaults()  # per-request defaults from client_args
        self._timeout_override_ms: float | None = None
        if client_args is not None:
            if config is not None:
                raise ConfigurationError("pass either config or client_args, not both", path="config")
            route = resolve_client_args(client_args, self._env)
            config = route.config
            self._portkey = route.portkey
            self._defaults = CallDefaults(
                route.trace_id, route.metadata, route.cache_namespace, route.cache_force_refresh
            )
            self._timeout_override_ms = route.request_timeout_ms
        shared = transport if isinstance(transport, Transport) else None  # its owner closes it
        self._owns_transport = shared is None
        self._transport = shared or Transport(self._http_transport, transport_settings)
        self._clock, self._sleep, self._backoff = clock, sleep, backoff or Backoff()
        self._rng = rng if rng is not None else random.Random()
        self._balance: BalanceMode = balance
        self._cache_store: CacheStore = cache_store if cache_store is not None else MemoryStore()
        self._semantic = SemanticCache(
            semantic_cache or SemanticSettings(), self._cache_store, self._transport.send
        )
        self._checks = checks if checks is not None else default_registry()
        # analytics and the model registry (issue 7): looked up on the first request
        self._models = ModelRouting(lambda: self._plane(create=False), lambda c: self._build(c)[2], self._env)
        self._targets = TargetResolver(
            self._env, self._portkey, self._virtual_key, self._vault_has_keys, self._registered_providers
        )
        self._install(config)

    def __repr__(self) -> str:
        return f"Gateway(leaves={list(self._leaves.values())!r})"

    # ------------------------------------------------------------------ construction

    def _build(self, config: Mapping[str, Any] | str) -> tuple[PlanNode, dict[str, UpstreamCall], Handler]:
        plan = build_plan(config, request_timeout_ms=self._timeout_override_ms)
        calls = {leaf.path: self._leaf_call(leaf) for leaf in iter_leaves(plan)}
        handlers = {leaf.path: self._leaf_handler(leaf, calls[leaf.path]) for leaf in iter_leaves(plan)}
        router = build_router(
            plan, handlers, rng=self._rng, balance=self._balance, shared_state=self._shared_state
        )
        return plan, calls, Admitted(router, self._transport)

    def _leaf_call(self, leaf: LeafPlan) -> UpstreamCall:
        names_model = isinstance(leaf.override_params.get("model"), str)
        if names_model and leaf.provider is None and leaf.virtual_key is None:
            leaf = self._models.leaf_of_model(leaf)
        adapter, target = self._targets.resolve(leaf)
        rotation = None
        plane = self._plane(create=False) if self._targets.may_rotate(leaf) else None
        if plane is not None:  # vault keys, once there are any; until then the target as resolved
            standalone = not self._targets.rotates(leaf)  # it resolved without vault keys
            rotation = CredentialRotation(
                target,
                plane.pick,
                plane.report,
                custom_host=leaf.custom_host,
                has_keys=plane.has_credentials if standalone else None,
            )
        return UpstreamCall(
            rotation=rotation,
            path=leaf.path,
            adapter=adapter,
            target=target,
            transport=self._transport,
            override_params=leaf.override_params,
            timeout_ms=leaf.request_timeout_ms,
            clock=self._clock,
            resolve_model=self._models.leaf_model if names_model else None,
            forward_headers=leaf.forward_headers,
            trace_propagation=leaf.trace_propagation,
        )

    def _leaf_handler(self, leaf: LeafPlan, call: UpstreamCall) -> Handler:
        parts = (self._checks, self._send_check, self._backoff, self._sleep, self._rng, self._cache_store)
        stages = LeafStages(*parts, self._semantic, self._render_prompt_target)
        return stages.wrap(leaf, call, call.target.provider, call.target.base_url)

    async def _send_check(self, request: HttpRequest, timeout_s: float) -> HttpResponse:
        """How guardrail checks (webhooks, URL probes) make HTTP calls: this gateway's transport."""
        return await self._transport.send(request, timeout=timeout_s)

    def reconfigure(self, config: Mapping[str, Any] | str | None) -> None:
        """Route later requests by ``config`` instead; connection pools are kept.

        The new config is validated first: if it is invalid, ``ConfigurationError`` is raised
        and the current config stays in force. Requests already running finish on the old one.
        """
        self._install(config)
        self._saved_config = None  # a saved config given at construction is no longer followed

    def _install(self, config: Mapping[str, Any] | str | None) -> None:
        built: tuple[PlanNode | None, dict[str, UpstreamCall], Handler] = (None, {}, RegisteredModelsOnly())
        if config is not None:  # built first: an invalid config changes nothing
            built = self._build(config)
        self._plan, self._leaves, self._handler = built
        plan = self._plan
        self._strategy = plan.mode if isinstance(plan, StrategyPlan) else "single" if plan else "registered"
        self._served = served_providers(call.target.provider for call in self._leaves.values())

    # ------------------------------------------------------------------ control plane (issue 5)

    def _plane(self, *, create: bool) -> ControlPlane | None:
        """The local vault: the one given, else the default store (not created unless ``create``)."""
        if self._control_plane is None:
            from .controlplane import open_control_plane

            self._control_plane = open_control_plane(self._env, transport=self._http_transport, create=create)
            self._owns_control_plane = self._control_plane is not None
        if self._shared_state is not None and self._control_plane is not None:
            self._control_plane.selector.share(self._shared_state)
        return self._control_plane

    def _vault_has_keys(self, provider: str) -> bool:
        plane = self._plane(create=False)
        return plane is not None and plane.has_credentials(provider)

    def _registered_providers(self, wanted: str) -> Mapping[str, ProviderRoute]:
        plane = self._plane(create=False)
        return plane.provider_routes(wanted) if plane is not None else {}

    def _virtual_key(self, name: str) -> SelectedCredential | None:
        plane = self._plane(create=False)
        return plane.resolve_virtual_key(name) if plane is not None else None

    # ------------------------------------------------------------------ requests

    async def chat(
        self,
        request: RequestLike,
        *,
        trace_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        cache_namespace: str | None = None,
        cache_force_refresh: bool | None = None,
        cache_bypass: bool = False,
        forward: ForwardHeaders | None = None,
        genai_usage: bool = True,
    ) -> ChatResponse:
        """Answer ``request`` (an OpenAI-shaped body or a ChatRequest) whole; ``.route`` says how.

        ``trace_id`` and ``metadata`` (Portkey metadata: conditional routing, forwarded to
        Portkey targets) default to the ``client_args`` ones. The ``cache_*`` arguments apply to
        targets with a ``cache`` config: a namespace partitioning entries, a forced refresh
        (``REFRESH``), or no cache at all for this request. ``forward``: the caller's headers, of
        which the request's names and each target's ``forward_headers`` go upstream as they came.
        ``genai_usage=False``: the caller's own GenAI span carries token usage (Strands' ``chat``).
        """
        if self._saved_config is not None:
            self._follow_saved_config()
        named = as_request(request).with_stream(False)
        context = self._defaults.context(
            trace_id, metadata, cache_namespace, cache_force_refresh, cache_bypass, forward=forward
        )
        chat_request, route, model_id, sink = self._models.resolve(
            named, context, self._handler, self._served
        )
        trace = self._trace(context, "chat", named.model, trace_id, genai_usage)
        answer = with_route(route.chat(chat_request, context), context)
        if trace is not None:
            answer = traced(answer, trace, context.route)
        if sink is None:
            return await answer
        return await recorded(answer, named, context, sink, self._clock, model_id=model_id)

    def stream(
        self,
        request: RequestLike,
        *,
        trace_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        cache_namespace: str | None = None,
        cache_force_refresh: bool | None = None,
        cache_bypass: bool = False,
        forward: ForwardHeaders | None = None,
        genai_usage: bool = True,
    ) -> ChatStream:
        """Answer ``request`` as a stream: ``async with gw.stream(body) as s: async for chunk in s``.

        Arguments as for :meth:`chat`.
        """
        if self._saved_config is not None:
            self._follow_saved_config()
        named = as_request(request).with_stream(True)
        context = self._defaults.context(
            trace_id, metadata, cache_namespace, cache_force_refresh, cache_bypass, forward=forward
        )
        chat_request, route, model_id, sink = self._models.resolve(
            named, context, self._handler, self._served
        )
        self._trace(context, "chat", named.model, trace_id, genai_usage)
        recorder = None
        if sink is not None:
            recorder = StreamRecorder(sink, named, context.metadata, self._clock, model_id)
        return ChatStream(route, chat_request, context, recorder)

    async def embed(
        self,
        request: EmbeddingRequest | Mapping[str, Any],
        *,
        trace_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        forward: ForwardHeaders | None = None,
    ) -> EmbeddingResponse:
        """Embed ``request`` (OpenAI's ``/embeddings`` body, or an EmbeddingRequest); ``.route`` says how.

        Routed by the same config as chat: fallback (a target whose provider has no embeddings
        is passed over), load balancing, conditional routing (``url.pathname`` is
        ``/v1/embeddings``), retries, timeouts, vault keys; each target's ``override_params``
        apply only where they mean something for embeddings (``model``, ``dimensions``...).
        Not cached, not checked by guardrails, recorded by analytics; ``forward`` as for :meth:`chat`.
        """
        embedding = request if isinstance(request, EmbeddingRequest) else EmbeddingRequest.from_body(request)
        context = self._defaults.context(trace_id, metadata, None, None, True, forward=forward)
        trace = self._trace(context, "embeddings", embedding.model, trace_id, True)
        answer = with_route(self._embed(embedding, context), context)
        if trace is not None:
            answer = traced(answer, trace, context.route)
        sink = self._models.hooks()[0]
        if sink is None:
            return await answer
        return await recorded(answer, embedding, context, sink, self._clock)

    def _trace(
        self, context: RequestContext, operation: str, model: str, trace_id: str | None, genai_usage: bool
    ) -> RequestTrace | None:
        """The request's telemetry (None when nothing listens), attached to ``context``."""
        trace = self._telemetry.begin(
            operation,
            model,
            strategy=self._strategy,
            genai_usage=genai_usage,
            cost=self._cost,
            clock=self._clock,
        )
        self._defaults.attach(trace, context, trace_id)
        return trace

    async def _embed(self, request: EmbeddingRequest, context: RequestContext) -> EmbeddingResponse:
        response = await self._handler.embed(request, context)
        response.encoding_format = request.encoding_format
        return response

    async def aclose(self) -> None:
        """Close pooled connections (and the control plane this gateway opened); write analytics."""
        if self._owns_transport:
            await self._transport.aclose()
        await self._close_config_gateways()  # prompts (issue 19)
        if self._models.sink is not None and self._control_plane is not None:  # analytics (issue 7)
            await asyncio.to_thread(self._control_plane.records.flush)
        if self._owns_control_plane and self._control_plane is not None:  # control plane (issue 5)
            await self._control_plane.aclose()

    async def __aenter__(self) -> Gateway:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
