"""What one server process holds, and the steps before every data-plane call.

The state: route gateways, the one SSRF-guarded transport they share, the control plane. The steps, in order:
authenticate, read the body, pick the gateway, reserve limits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.requests import Request

from ..errors import ControlPlaneError
from ..transport import GuardedHTTPTransport, Transport
from ..types import Usage
from ..wire import decode_json
from .auth import Authenticator, Principal, provider_key
from .egress import AddressGuard, system_resolver
from .errors import ServerInputError
from .headers import CallOptions, read_call_options, read_route
from .limits import Limiter, LimitRequest, Outcome, Reservation
from .routes import RoutePool, SavedConfigs
from .settings import ServerSettings

if TYPE_CHECKING:
    from ..cache.redis import RedisStore
    from ..cache.stores import CacheStore
    from ..controlplane import ControlPlane
    from ..gateway import Gateway

__all__ = ["Admitted", "ServerState", "plain_headers", "read_json_body"]

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
    parts: list[bytes] = []
    size = 0
    async for part in request.stream():
        size += len(part)
        if size > limit:
            raise ServerInputError(f"the body is larger than {limit} bytes", path="body", status=413)
        parts.append(part)
    try:
        body = decode_json(b"".join(parts))
    except ValueError:
        raise ServerInputError("the body is not valid JSON (UTF-8)", path="body") from None
    if not isinstance(body, dict):
        raise ServerInputError(f"expected a JSON object, got {type(body).__name__}", path="body")
    return body, size


@dataclass(frozen=True, slots=True)
class Admitted:
    """A request that passed the server's gates: who, what, which gateway, which reservation."""

    principal: Principal
    body: dict[str, Any]
    gateway: Gateway
    options: CallOptions
    reservation: Reservation


class ServerState:
    """The server's shared parts; one per app (per worker process)."""

    def __init__(
        self,
        settings: ServerSettings,
        authenticator: Authenticator,
        limiter: Limiter,
        saved_configs: SavedConfigs | None,
    ) -> None:
        self.settings = settings
        self.authenticator = authenticator
        self.limiter = limiter
        self.guard = AddressGuard(settings.address_policy, settings.resolver or system_resolver)
        self.egress = Transport(settings.upstream_transport, settings.transport_settings, self.guard)
        self._checks = GuardedHTTPTransport(self.guard, settings.upstream_transport)  # key validation calls
        self._owns_plane = settings.control_plane is None
        self._redis: RedisStore | None = None
        self.plane: ControlPlane | None = settings.control_plane or self._open_plane()
        self.pool = RoutePool(
            size=settings.route_cache_size,
            default_config=settings.default_config,
            env=settings.env,
            transport=self.egress,
            control_plane=self.plane,
            saved_configs=saved_configs,
            check_host=self._check_host,
            cache_store=self._cache_store(),
        )

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
        spec = read_route(headers, provider_key(headers, self.authenticator))
        options = read_call_options(headers, principal.metadata)
        model = body.get("model")
        gateway, slug_model = await self.pool.gateway(
            spec, model if isinstance(model, str) else "", principal
        )
        if slug_model is not None:
            body = {**body, "model": slug_model}
        reservation = await self.limiter.reserve(
            principal, LimitRequest(endpoint, model if isinstance(model, str) else "", size)
        )
        return Admitted(principal, body, gateway, options, reservation)

    async def settle(self, admitted: Admitted, outcome: Outcome) -> None:
        """Settle the reservation once; a limiter failure is logged, never turned into the answer."""
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
        await self.egress.aclose()
        if self.settings.upstream_transport is None:  # a test's own transport is the test's to close
            await self._checks.aclose()
