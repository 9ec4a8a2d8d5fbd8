"""``Gateway``: the composition root. It wires a config, adapters, transport and pipeline.

Everything stateful (the HTTP pool, later caches, vaults, balancer state, sinks) belongs to one
``Gateway`` instance, so two gateways in one process never see each other. The config is parsed
and validated once, here, at construction: a bad config fails now with the JSON path of the
offending field, never in the middle of a request.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .config.client_args import PortkeyAccess, normalize_metadata, portkey_access, resolve_client_args
from .config.plan import LeafPlan, iter_leaves
from .config.resolve import build_plan, parse_config
from .errors import ConfigurationError, InvalidRequestError
from .pipeline.base import ChunkStream, Handler, RequestContext
from .routing.executor import Executor
from .targets import TargetResolver
from .transport import AsyncHTTPTransport, Transport, TransportSettings
from .types import ChatChunk, ChatRequest, ChatResponse, RouteInfo
from .upstream import UpstreamCall

if TYPE_CHECKING:  # control plane (issue 5): imported on first use only
    from .controlplane import AINamespace, ControlPlane
    from .controlplane.providers_api import Providers
    from .vault.selector import SelectedCredential

__all__ = ["ChatStream", "Gateway"]

RequestLike = ChatRequest | Mapping[str, Any]


class Gateway:
    """An in-process AI gateway executing a Portkey config.

    Args:
        config: A Portkey config (dict or JSON string): a leaf such as
            ``{"provider": "openai", "api_key": "sk-..."}`` or a tree of targets.
        client_args: Portkey ``AsyncPortkey`` arguments instead of ``config`` (see
            :mod:`strands_portkey.config.client_args` for where each combination routes).
        transport: An ``httpx`` async transport to use instead of the network (tests).
        transport_settings: Connection-pool sizes and timeouts.
        env: Where provider keys such as ``OPENAI_API_KEY`` are looked up (default ``os.environ``).
        clock: A monotonic clock in seconds (injected in tests).
        control_plane: The local vault and catalog (``ControlPlane``); by default the one at
            ``STRANDS_PORTKEY_DB_URL`` or in the user's data directory, opened on first use.
    """

    def __init__(
        self,
        config: Mapping[str, Any] | str | None = None,
        *,
        client_args: Mapping[str, Any] | None = None,
        transport: AsyncHTTPTransport | None = None,
        transport_settings: TransportSettings | None = None,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.perf_counter,
        control_plane: ControlPlane | None = None,
    ) -> None:
        self._env = os.environ if env is None else env
        self._portkey: PortkeyAccess = portkey_access(self._env)
        self._default_trace_id: str | None = None
        self._default_metadata: Mapping[str, str] = {}
        if client_args is not None:
            if config is not None:
                raise ConfigurationError("pass either config or client_args, not both", path="config")
            route = resolve_client_args(client_args, self._env)
            config = route.config
            self._portkey = route.portkey
            self._default_trace_id = route.trace_id
            self._default_metadata = route.metadata
        if config is None:
            raise ConfigurationError(
                "a Gateway needs a config, e.g. Gateway({'provider': 'openai', 'api_key': '...'}) "
                "or Gateway(client_args={...})",
                path="config",
            )
        self._transport = Transport(transport, transport_settings)
        self._clock = clock
        # --- control plane (issue 5) ---
        self._control_plane, self._owns_control_plane, self._http_transport = control_plane, False, transport
        self._control_api: tuple[AINamespace, Providers] | None = None
        # --- end control plane ---
        self._targets = TargetResolver(self._env, self._portkey, self._virtual_key)
        self._plan = build_plan(parse_config(config))
        self._leaves = {leaf.path: self._leaf_handler(leaf) for leaf in iter_leaves(self._plan)}
        self._handler: Handler = Executor(self._plan, self._leaves)

    def __repr__(self) -> str:
        return f"Gateway(leaves={list(self._leaves.values())!r})"

    # ------------------------------------------------------------------ construction

    def _leaf_handler(self, leaf: LeafPlan) -> UpstreamCall:
        adapter, target = self._targets.resolve(leaf)
        return UpstreamCall(
            path=leaf.path,
            adapter=adapter,
            target=target,
            transport=self._transport,
            override_params=leaf.override_params,
            timeout_ms=leaf.request_timeout_ms,
            clock=self._clock,
        )

    # ------------------------------------------------------------------ control plane (issue 5)

    def _plane(self, *, create: bool) -> ControlPlane | None:
        """The local vault: the one given, else the default store (not created unless ``create``)."""
        if self._control_plane is None:
            from .controlplane import open_control_plane

            self._control_plane = open_control_plane(self._env, transport=self._http_transport, create=create)
            self._owns_control_plane = self._control_plane is not None
        return self._control_plane

    def _virtual_key(self, name: str) -> SelectedCredential | None:
        plane = self._plane(create=False)
        return plane.resolve_virtual_key(name) if plane is not None else None

    def _control(self) -> tuple[AINamespace, Providers]:
        if self._control_api is None:
            from .controlplane import AINamespace
            from .controlplane.providers_api import Providers

            plane = self._plane(create=True)
            assert plane is not None
            self._control_api = (AINamespace(plane), Providers(plane))
        return self._control_api

    @property
    def ai(self) -> AINamespace:
        """The spec's AI resources: ``gw.ai.provider_keys`` (list/create/retrieve/update/delete/test)."""
        return self._control()[0]

    @property
    def providers(self) -> Providers:
        """Providers, credentials, model rates, billing, health, model discovery, ``test_models``."""
        return self._control()[1]

    # ------------------------------------------------------------------ requests

    def _context(self, trace_id: str | None, metadata: Mapping[str, Any] | None) -> RequestContext:
        merged = dict(self._default_metadata)
        if metadata:
            merged.update(normalize_metadata(metadata, path="metadata"))
        return RequestContext(
            trace_id=trace_id or self._default_trace_id or uuid.uuid4().hex, metadata=merged
        )

    async def chat(
        self, request: RequestLike, *, trace_id: str | None = None, metadata: Mapping[str, Any] | None = None
    ) -> ChatResponse:
        """Answer ``request`` (an OpenAI-shaped body or a ChatRequest) whole; ``.route`` says how."""
        chat_request = _as_request(request).with_stream(False)
        return await self._handler.chat(chat_request, self._context(trace_id, metadata))

    def stream(
        self, request: RequestLike, *, trace_id: str | None = None, metadata: Mapping[str, Any] | None = None
    ) -> ChatStream:
        """Answer ``request`` as a stream: ``async with gw.stream(body) as s: async for chunk in s``."""
        chat_request = _as_request(request).with_stream(True)
        return ChatStream(self._handler, chat_request, self._context(trace_id, metadata))

    async def aclose(self) -> None:
        """Close pooled connections (and the control plane this gateway opened)."""
        await self._transport.aclose()
        if self._owns_control_plane and self._control_plane is not None:  # control plane (issue 5)
            await self._control_plane.aclose()

    async def __aenter__(self) -> Gateway:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def _as_request(request: RequestLike) -> ChatRequest:
    if isinstance(request, ChatRequest):
        return request
    if isinstance(request, Mapping):
        return ChatRequest.from_body(request)
    raise InvalidRequestError(
        f"expected a ChatRequest or an OpenAI-shaped dict, got {type(request).__name__}", path="request"
    )


class ChatStream:
    """A streamed answer. Opened by ``async with`` (errors before the first chunk raise there).

    Iterating without ``async with`` opens it on first use and closes it at the end.
    ``route`` is filled once the stream is open.
    """

    def __init__(self, handler: Handler, request: ChatRequest, context: RequestContext) -> None:
        self._handler = handler
        self._request = request
        self._context = context
        self._stream: ChunkStream | None = None

    @property
    def route(self) -> RouteInfo:
        """How this request was served (the leaf, retries, cache status, trace id)."""
        return self._context.route

    async def open(self) -> ChatStream:
        """Send the request and wait until the stream is committed (first chunk read)."""
        if self._stream is None:
            self._stream = await self._handler.open_stream(self._request, self._context)
        return self

    async def __aenter__(self) -> ChatStream:
        return await self.open()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[ChatChunk]:
        if self._stream is None:
            await self.open()
        assert self._stream is not None
        try:
            async for chunk in self._stream:
                yield chunk
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Close the upstream connection (idempotent)."""
        if self._stream is not None:
            await self._stream.aclose()
