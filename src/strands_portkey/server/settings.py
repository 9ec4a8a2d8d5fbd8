"""The server's settings: one frozen object, from arguments or the environment."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from ..errors import ConfigurationError
from ..transport import TransportSettings
from ..wire import Secret
from .access_log import ACCESS_LOG_ENV
from .egress import TRUSTED_HOSTS_ENV, AddressPolicy, Resolver

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "HTTP_CLIENT_ENV",
    "LIMITS_FAIL_OPEN_ENV",
    "MAX_BODY_ENV",
    "REDIS_URL_ENV",
    "SHUTDOWN_GRACE_ENV",
    "ServerSettings",
    "load_config_file",
]

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_BODY_ENV = "STRANDS_PORTKEY_MAX_BODY_BYTES"
REDIS_URL_ENV = "STRANDS_PORTKEY_REDIS_URL"
SHUTDOWN_GRACE_ENV = "STRANDS_PORTKEY_SHUTDOWN_GRACE"
HTTP_CLIENT_ENV = "STRANDS_PORTKEY_HTTP_CLIENT"
LIMITS_FAIL_OPEN_ENV = "STRANDS_PORTKEY_LIMITS_FAIL_OPEN"
METRICS_ENV = "STRANDS_PORTKEY_METRICS"
"""``off``: no ``GET /metrics`` and no Prometheus counters (default: on)."""
METRICS_TOKEN_ENV = "STRANDS_PORTKEY_METRICS_TOKEN"
"""When set, ``GET /metrics`` needs ``Authorization: Bearer <token>`` (default: no key, as health)."""
METRICS_KEY_LABELS_ENV = "STRANDS_PORTKEY_METRICS_KEY_LABELS"
"""``1``: the budget-remaining gauge is labelled by gateway key id (off: no per-key series)."""
_TRUE = {"1", "on", "true", "yes"}


def load_config_file(path: str | Path) -> Mapping[str, Any]:
    """A Portkey config from a JSON file (``--config``), or a ConfigurationError naming the file."""
    try:
        config = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigurationError(f"cannot read {path}: {error.strerror}", path="--config") from None
    except (ValueError, RecursionError):
        raise ConfigurationError(f"{path} is not JSON", path="--config") from None
    if not isinstance(config, dict):
        raise ConfigurationError(f"{path} must hold a JSON object (a Portkey config)", path="--config")
    return config


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"expected a positive number, got {raw!r}", path=name) from None
    if value <= 0:
        raise ConfigurationError(f"expected a positive number, got {raw!r}", path=name)
    return value


def _transport_settings(client: str) -> TransportSettings:
    """The shared upstream pool: sized for a server (every route gateway sends through it)."""
    try:
        return TransportSettings(max_connections=256, max_keepalive_connections=128, client=cast(Any, client))
    except ConfigurationError as error:
        raise ConfigurationError(error.reason, path=HTTP_CLIENT_ENV) from None


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """What one server process runs with.

    Attributes:
        default_config: The Portkey config for requests whose headers name no route
            (``--config``); None: such requests must name a registered model or ``@provider/model``.
        max_body_bytes: Larger request bodies get 413.
        address_policy: Which upstream addresses callers may make the server call (SSRF).
        shutdown_grace_s: How long in-flight requests and streams may run after SIGTERM.
        route_cache_size: How many route gateways are kept (LRU).
        env: Where provider keys, the store URL and the other settings are read.
        redis_url: Shared state for several workers (``STRANDS_PORTKEY_REDIS_URL``): gateway
            keys' limits and budgets, the cache, round-robin positions and credential cooldowns.
        limits_fail_open: With Redis unreachable, serve requests uncounted instead of refusing
            them with 503 (``STRANDS_PORTKEY_LIMITS_FAIL_OPEN=1``; default: fail closed).
        open_store: Open (create) the control plane at start; False: only if it exists.
        upstream_transport: An httpx transport instead of the network (tests); still SSRF-guarded.
        transport_settings: The upstream HTTP client, pool and timeouts (default: aiohttp with the
            ``[fast]`` extra, 256 connections); ``STRANDS_PORTKEY_HTTP_CLIENT`` picks the client.
        resolver: How upstream host names are resolved for the SSRF check (tests inject one).
        control_plane: A control plane to use instead of opening one (the server does not close it).
        metrics: ``GET /metrics`` and the Prometheus counters (``STRANDS_PORTKEY_METRICS=off``).
        metrics_token: A bearer token ``/metrics`` then requires (``STRANDS_PORTKEY_METRICS_TOKEN``).
        metrics_key_labels: Label the budget gauge by key id (``STRANDS_PORTKEY_METRICS_KEY_LABELS``).
        access_log: One access line per request (``STRANDS_PORTKEY_ACCESS_LOG=1``, ``serve --access-log``).
        telemetry: A :class:`~strands_portkey.telemetry.Telemetry` for the route gateways
            (default: the application's OpenTelemetry setup, plus Prometheus when ``metrics``).
    """

    default_config: Mapping[str, Any] | str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    address_policy: AddressPolicy = field(default_factory=AddressPolicy)
    shutdown_grace_s: float = 30.0
    route_cache_size: int = 256
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    redis_url: str | None = None
    limits_fail_open: bool = False
    open_store: bool = True
    upstream_transport: Any = None
    transport_settings: TransportSettings = field(default_factory=lambda: _transport_settings("auto"))
    resolver: Resolver | None = None
    control_plane: Any = None
    metrics: bool = True
    metrics_token: Secret | None = None
    metrics_key_labels: bool = False
    access_log: bool = False
    telemetry: Any = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> ServerSettings:
        """Settings from ``STRANDS_PORTKEY_*`` variables; keyword arguments win."""
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {
            "env": env,
            "max_body_bytes": int(_positive(env, MAX_BODY_ENV, DEFAULT_MAX_BODY_BYTES)),
            "shutdown_grace_s": _positive(env, SHUTDOWN_GRACE_ENV, 30.0),
            "address_policy": AddressPolicy.from_env(env.get(TRUSTED_HOSTS_ENV)),
            "redis_url": env.get(REDIS_URL_ENV) or None,
            "transport_settings": _transport_settings(env.get(HTTP_CLIENT_ENV, "").strip() or "auto"),
            "limits_fail_open": env.get(LIMITS_FAIL_OPEN_ENV, "").strip().lower() in _TRUE,
            "metrics": env.get(METRICS_ENV, "").strip().lower() not in {"0", "off", "false", "no"},
            "metrics_token": Secret(token) if (token := env.get(METRICS_TOKEN_ENV, "").strip()) else None,
            "metrics_key_labels": env.get(METRICS_KEY_LABELS_ENV, "").strip().lower() in _TRUE,
            "access_log": env.get(ACCESS_LOG_ENV, "").strip().lower() in _TRUE,
        }
        values.update(overrides)
        return cls(**values)
