"""What one server process holds, and the steps before every data-plane call.

The state: route gateways, the one SSRF-guarded transport they share, the control plane, and
with gateway keys their authenticator and limiter; with ``STRANDS_PORTKEY_REDIS_URL``, what every
worker shares through Redis (limits and budgets, the cache, round-robin positions and credential
cooldowns). The steps, in order: authenticate, read the body, authorize (scope, allowed models,
registered models' owners), pick the gateway (the key's default config unless the request names
a route), reserve limits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.requests import ClientDisconnect, Request

from ..errors import ConfigurationError, ControlPlaneError
from ..model_routes import KEY_ID_METADATA
from ..transport import GuardedHTTPTransport, Transport
from ..types import Usage
from ..wire import decode_json
from .auth import Authenticator, Principal, provider_key
from .egress import AddressGuard, system_resolver
from .errors import ServerInputError
from .gateway_keys import (
    INFERENCE_SCOPE,
    GatewayKeyAuth,
    authorize,
    check_registered_model,
    saved_configs_of,
)
from .headers import CallOptions, read_call_options, read_route
from .key_limits import KeyLimiter
from .limits import Limiter, LimitRequest, Outcome, Reservation
from .metrics import observe_budget, server_telemetry
from .routes import RoutePool, SavedConfigs
from .settings import ServerSettings

if TYPE_CHECKING:
    from ..cache.redis import RedisStore
    from ..cache.stores import CacheStore
    from ..controlplane import ControlPlane
    from ..gateway import Gateway
    from ..shared_state import SharedState
    from ..shared_state.redis import RedisState

__all__ = [
    "Admitted",
    "ServerState",
    "is_slug",
    "max_tokens_of",
    "plain_headers",
    "read_json_body",
    "with_identity",
]

_log = logging.getLogger("strands_portkey.server")
_JSON_TYPES = ("application/json",)


def plain_headers(request: Request) -> dict[str, str]:
    """The request headers as a dict of lower-case names (a repeated header: the last value).

    Read once: Starlette's ``Headers`` scans the raw list on every lookup, and a request is asked
    for some twenty header names.
    """
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in request.scope["headers"]}


async def read_json_body(
    request: Request, limit: int, headers: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], int]:
    """The request's JSON object body and its size; 415 / 413 / 400 naming what is wrong.

    ``headers``: the request's :func:`plain_headers`, when the caller has them already.
    """
    if headers is None:
        headers = plain_headers(request)
    content_type = headers.get("content-type")
    if content_type is not None:
        media = content_type.split(";", 1)[0].strip().lower()
        if media not in _JSON_TYPES and not media.endswith("+json"):
            raise ServerInputError(
                f"expected 'application/json', got {media[:64]!r}", path="content-type", status=415
            )
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ServerInputError(f"the body is larger than {limit} bytes", path="body", status=413)
    raw = await _read_body(request, limit)
    try:
        body = decode_json(raw)
    except ValueError:
        raise ServerInputError("the body is not valid JSON (UTF-8)", path="body") from None
    if not isinstance(body, dict):
        raise ServerInputError(f"expected a JSON object, got {type(body).__name__}", path="body")
    return body, len(raw)


async def _read_body(request: Request, limit: int) -> bytes:
    """The body from the ASGI messages, at most ``limit`` bytes (413 past it).

    Read from ``receive`` directly rather than through ``Request.stream()``: the one-message body
    of a typical request then costs one call, not an async generator's round trips.
    """
    parts: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        part: bytes = message.get("body", b"")
        size += len(part)
        if size > limit:
            raise ServerInputError(f"the body is larger than {limit} bytes", path="body", status=413)
        if not message.get("more_body", False):
            return part if not parts else b"".join((*parts, part))
        parts.append(part)


def is_slug(model: str) -> bool:
    """Whether ``model`` names its provider (``@provider/model``): a route of its own."""
    return model.startswith("@") and "/" in model


def max_tokens_of(body: Mapping[str, Any]) -> int | None:
    """The answer's token ceiling the body asks for (what a budget reserves), or None."""
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


def with_identity(options: CallOptions, identity: Mapping[str, str]) -> CallOptions:
    """The options with the gateway key's identity over the caller's metadata (never the reverse).

    A caller's own ``_api_key_id`` is dropped even without keys: only the server names the key.
    """
    if not identity and KEY_ID_METADATA not in options.metadata:
        return options
    metadata = {name: value for name, value in options.metadata.items() if name != KEY_ID_METADATA}
    return replace(options, metadata={**metadata, **identity})


@dataclass(frozen=True, slots=True)
class Admitted:
    """A request that passed the server's gates: who, what, which gateway, which reservation."""

    principal: Principal
    body: dict[str, Any]
    gateway: Gateway
    options: CallOptions
    reservation: Reservation
    route_named: bool = False  # the request's headers named the route (they win over a prompt's)


class ServerState:
    """The server's shared parts; one per app (per worker process)."""

    def __init__(
        self,
        settings: ServerSettings,
        authenticator: Authenticator,
        limiter: Limiter,
        saved_configs: SavedConfigs | None,
        *,
        gateway_keys: bool = False,
    ) -> None:
        self.settings = settings
        self.authenticator = authenticator
        self.limiter = limiter
        self.guard = AddressGuard(settings.address_policy, settings.resolver or system_resolver)
        self.egress = Transport(settings.upstream_transport, settings.transport_settings, self.guard)
        self._checks = GuardedHTTPTransport(self.guard, settings.upstream_transport)  # key validation calls
        self._owns_plane = settings.control_plane is None
        self._redis: RedisStore | None = None
        self._shared: RedisState | None = None
        self.plane: ControlPlane | None = settings.control_plane or self._open_plane()
        self.telemetry = settings.telemetry or server_telemetry(settings.metrics)  # issue 18
        if gateway_keys:
            self.authenticator, self.limiter, saved_configs = self._gateway_keys(saved_configs)
        self.pool = RoutePool(
            size=settings.route_cache_size,
            default_config=settings.default_config,
            env=settings.env,
            transport=self.egress,
            control_plane=self.plane,
            saved_configs=saved_configs,
            check_host=self._check_host,
            cache_store=self._cache_store(),
            shared_state=self._shared_state(),
            telemetry=self.telemetry,
        )

    def _gateway_keys(self, saved: SavedConfigs | None) -> tuple[Authenticator, Limiter, SavedConfigs]:
        """Gateway keys from the store, their limits (Redis when configured), saved configs."""
        if self.plane is None:
            raise ConfigurationError(
                "gateway API keys live in the store: set STRANDS_PORTKEY_DB_URL or let the server "
                "create its SQLite file",
                path="STRANDS_PORTKEY_DB_URL",
            )
        from ..controlplane.api_keys import ApiKeys
        from ..limits import LimitsEngine, MemoryLimits

        engine: LimitsEngine = MemoryLimits()
        if self.settings.redis_url:
            from ..limits.redis import RedisLimits

            engine = RedisLimits(self.settings.redis_url, fail_open=self.settings.limits_fail_open)
        authenticator = GatewayKeyAuth(ApiKeys(self.plane, limits=engine), self.settings.env)
        return authenticator, KeyLimiter(engine, self.estimate_cost), saved or saved_configs_of(self.plane)

    def _shared_state(self) -> SharedState | None:
        """Round-robin positions and credential cooldowns in Redis, shared by every worker."""
        if not self.settings.redis_url:
            return None
        from ..shared_state.redis import RedisState

        self._shared = RedisState(self.settings.redis_url)
        return self._shared

    def estimate_cost(self, model: str, usage: Usage) -> Decimal | None:
        """``usage`` of ``model`` priced before routing: known for a slug or a registered model."""
        if is_slug(model):
            provider, _, name = model[1:].partition("/")
            return self.cost(provider, name, usage)
        found = self.plane.registered_models.find(model) if self.plane is not None and model else None
        return None if found is None else self.cost(found.provider, found.vendor_model_id, usage)

    def _open_plane(self) -> ControlPlane | None:
        from ..controlplane import open_control_plane

        return open_control_plane(self.settings.env, transport=self._checks, create=self.settings.open_store)

    def _cache_store(self) -> CacheStore | None:
        """The shared cache (Redis, when configured); also what ``/health/ready`` pings."""
        if not self.settings.redis_url:
            return None
        from ..cache.redis import RedisStore

        self._redis = RedisStore(self.settings.redis_url)
        return self._redis

    async def _check_host(self, url: str, where: str) -> None:
        parts = urlsplit(url)
        if parts.hostname:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            await self.guard.check(parts.hostname, port, path=where)

    async def admit(self, request: Request, endpoint: str) -> Admitted:
        """Authenticate, read the body, choose the gateway, reserve: everything before the call."""
        headers = plain_headers(request)
        principal = await self.authenticator.authenticate(headers)
        body, size = await read_json_body(request, self.settings.max_body_bytes, headers)
        named = body.get("model")
        model = named if isinstance(named, str) else ""
        key = principal.key
        if key is not None:
            authorize(key, INFERENCE_SCOPE, model)
            check_registered_model(self.plane, key, model)
        spec = read_route(headers, provider_key(headers, self.authenticator))
        headers_route = spec.names_route  # by the headers (before the key's default config is applied)
        if key is not None and key.default_config and not headers_route and not is_slug(model):
            spec = replace(spec, saved_config=key.default_config)  # the key's config, unless one is named
        options = with_identity(read_call_options(headers, principal.metadata), principal.identity)
        gateway, slug_model = await self.pool.gateway(spec, model, principal)
        if slug_model is not None:
            body = {**body, "model": slug_model}
        reservation = await self.limiter.reserve(
            principal, LimitRequest(endpoint, model, size, max_tokens_of(body))
        )
        return Admitted(principal, body, gateway, options, reservation, headers_route)

    async def settle(self, admitted: Admitted, outcome: Outcome) -> None:
        """Settle the reservation once; a limiter failure is logged, never turned into the answer."""
        observe_budget(self, admitted)  # issue 18: the budget gauge, when key labels are opted in
        try:
            await self.limiter.settle(admitted.reservation, outcome)
        except Exception as error:
            _log.warning("limits: settle failed: %s", type(error).__name__)

    def cost(self, provider: str, model: str, usage: Usage | None) -> Decimal | None:
        """The USD cost of ``usage`` at the control plane's rates (None without a rate or plane)."""
        if self.plane is None or usage is None or not provider:
            return None
        try:
            cost = self.plane.prices().cost(provider, model, usage)
        except ControlPlaneError:
            return None
        return cost.usd if cost is not None else None

    async def ready(self) -> Mapping[str, str]:
        """Each dependency's state (``ok`` or why not): the store and, when configured, Redis."""
        checks: dict[str, str] = {}
        if self.plane is not None:
            try:
                await asyncio.to_thread(self.plane.store.schema_revision)
                checks["store"] = "ok"
            except Exception as error:
                checks["store"] = f"unreachable: {type(error).__name__}"
        if self._redis is not None:
            try:
                await self._redis.get("health")
                checks["redis"] = "ok"
            except ConnectionError as error:
                checks["redis"] = f"unreachable: {type(error.__cause__).__name__}"
        return checks

    async def aclose(self) -> None:
        """Write pending analytics, close the control plane and the shared transport (shutdown)."""
        if self.plane is not None and self._owns_plane:
            try:
                await asyncio.to_thread(self.plane.records.flush)
            except Exception as error:
                _log.warning("analytics flush at shutdown failed: %s", type(error).__name__)
            await self.plane.aclose()
        closer = getattr(self.limiter, "aclose", None)
        if closer is not None:
            await closer()
        if self._shared is not None:
            self._shared.close()
        await self.egress.aclose()
        if self.settings.upstream_transport is None:  # a test's own transport is the test's to close
            await self._checks.aclose()
