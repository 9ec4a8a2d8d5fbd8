"""One ``Gateway`` per distinct route, built once and reused: a bounded LRU keyed by a keyed hash.

A route is what a request's headers name (a config, a provider with its key, a virtual key, a
custom host, a timeout; see :class:`~strands_portkey.server.headers.RouteSpec`), a model slug
(``@provider/model``), or nothing (the server's default gateway). Building a gateway parses and
validates its config, so doing it per request would put that work on the hot path; the pool
builds each route once. Keys are keyed BLAKE2 digests (a MAC) of the route with a per-process
secret (a provider key is never a cache key in clear). Every gateway shares the server's one
transport (SSRF-guarded), its control plane and its cache store; an evicted gateway is dropped,
not closed, since what it holds is shared and closed once, by the server.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..cache.stores import CacheStore, MemoryStore
from ..errors import ConfigurationError, ResourceNotFoundError
from ..gateway import Gateway
from .errors import ServerInputError
from .headers import RouteSpec

if TYPE_CHECKING:
    from ..controlplane import ControlPlane
    from ..shared_state import SharedState
    from ..telemetry import Telemetry
    from ..transport import Transport
    from .auth import Principal

__all__ = ["HostCheck", "RoutePool", "SavedConfigs", "custom_hosts"]

SavedConfigs = Callable[[str, "Principal"], Awaitable["Mapping[str, Any] | None"]]
"""The saved-config hook: a ``pc-...`` id (and the caller) -> its config, or None when unknown."""

HostCheck = Callable[[str, str], Awaitable[None]]
"""Checks one upstream URL given by a caller (url, where it was given); raises to refuse it."""


def custom_hosts(config: Any, path: str = "config") -> Iterator[tuple[str, str]]:
    """Every ``custom_host`` in a config tree, with its JSON path."""
    if isinstance(config, Mapping):
        host = config.get("custom_host")
        if isinstance(host, str):
            yield host, f"{path}.custom_host"
        targets = config.get("targets")
        if isinstance(targets, list):
            for index, target in enumerate(targets):
                yield from custom_hosts(target, f"{path}.targets[{index}]")


def _header_path(path: str | None, source: str) -> str:
    """A ``client_args`` path as the header (or body field) the caller wrote it in."""
    if path is None:
        return source
    for prefix, header in (("client_args.config", "x-portkey-config"), ("config", "x-portkey-config")):
        if path == prefix or path.startswith((prefix + ".", prefix + "[")):
            return header + path[len(prefix) :]
    if path.startswith("client_args."):
        name = path.removeprefix("client_args.")
        return "x-portkey-" + name.replace("_", "-").lower() if name != "Authorization" else "authorization"
    return path


class RoutePool:
    """Gateways by route, least recently used dropped past ``size``."""

    def __init__(
        self,
        *,
        size: int,
        default_config: Mapping[str, Any] | str | None,
        env: Mapping[str, str],
        transport: Transport,
        control_plane: ControlPlane | None,
        saved_configs: SavedConfigs | None = None,
        check_host: HostCheck | None = None,
        cache_store: CacheStore | None = None,
        shared_state: SharedState | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self._size = max(1, size)
        self._telemetry = telemetry  # one for every route gateway (issue 18)
        self._env = env
        self._transport = transport
        self._plane = control_plane
        self._saved = saved_configs
        self._check_host = check_host
        self._cache_store = cache_store if cache_store is not None else MemoryStore()
        self._shared_state = shared_state
        self._secret = secrets.token_bytes(32)
        self._gateways: OrderedDict[str, Gateway] = OrderedDict()
        self.default = self._new(config=default_config)

    def __len__(self) -> int:
        return len(self._gateways)

    def _new(self, *, config: Mapping[str, Any] | str | None = None, client_args: Any = None) -> Gateway:
        return Gateway(
            config,
            client_args=client_args,
            transport=self._transport,
            env=self._env,
            control_plane=self._plane,
            cache_store=self._cache_store,
            shared_state=self._shared_state,
            telemetry=self._telemetry,
        )

    async def gateway(self, spec: RouteSpec, model: str, principal: Principal) -> tuple[Gateway, str | None]:
        """The gateway for a request, and the model to ask it for when a slug named the provider."""
        if spec.saved_config is not None:
            spec = await self._resolve_saved(spec, principal)
        if spec.names_route:
            return await self._cached(
                spec, "x-portkey-config" if spec.config is not None else "headers"
            ), None
        if model.startswith("@") and "/" in model:
            provider, _, name = model[1:].partition("/")
            if not provider or not name:
                raise ServerInputError("expected '@provider/model'", path="model")
            slug = RouteSpec(provider=provider, request_timeout_ms=spec.request_timeout_ms)
            return await self._cached(slug, "model"), name
        return self.default, None

    async def _resolve_saved(self, spec: RouteSpec, principal: Principal) -> RouteSpec:
        assert spec.saved_config is not None
        config = await self._saved(spec.saved_config, principal) if self._saved is not None else None
        if config is None:
            raise ResourceNotFoundError(f"x-portkey-config: no saved config {spec.saved_config!r}")
        return RouteSpec(config=config, request_timeout_ms=spec.request_timeout_ms)

    async def _cached(self, spec: RouteSpec, source: str) -> Gateway:
        key = spec.key(self._secret)
        found = self._gateways.get(key)
        if found is not None:
            self._gateways.move_to_end(key)
            return found
        spec.checked()
        await self._check_hosts(spec)
        try:
            gateway = self._new(client_args=spec.client_args())
        except ConfigurationError as error:
            raise ServerInputError(error.reason, path=_header_path(error.path, source)) from None
        self._gateways[key] = gateway
        if len(self._gateways) > self._size:
            self._gateways.popitem(last=False)
        return gateway

    async def _check_hosts(self, spec: RouteSpec) -> None:
        if self._check_host is None:
            return
        if spec.custom_host:
            await self._check_host(spec.custom_host, "x-portkey-custom-host")
        for host, path in custom_hosts(spec.config, "x-portkey-config"):
            await self._check_host(host, path)
