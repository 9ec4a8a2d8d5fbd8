"""``client_args`` (Portkey's ``AsyncPortkey`` arguments) -> a config the local router executes.

Every argument ``AsyncPortkey`` accepts is accepted here. Where requests go:

============================================  =================================================
``client_args``                               requests go to
============================================  =================================================
``config`` (dict or JSON string)              executed locally; each target by the rules below
``config="pc-..."`` (a saved config id)       Portkey's gateway (needs Portkey to look it up)
``base_url`` (no ``config``)                  that Portkey gateway (self-hosted), all arguments
                                              forwarded as ``x-portkey-*`` headers
``virtual_key``                               the local vault; if absent there and an
                                              ``api_key`` is given, Portkey's gateway
``provider`` (+ ``Authorization``, the        that provider, directly (``custom_host`` replaces
provider's env key, or none for local hosts)  its URL)
only ``api_key``                              Portkey's hosted gateway
============================================  =================================================

``trace_id`` and ``metadata`` become per-request defaults (they reach ``RouteInfo`` and, for a
Portkey target, the ``x-portkey-trace-id`` / ``x-portkey-metadata`` headers). ``request_timeout``
(milliseconds) wins over every ``request_timeout`` in the config, as Portkey's
``x-portkey-request-timeout`` header does.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigurationError
from ..wire import Secret
from .host_url import check_host_url
from .resolve import PROVIDER_FIELDS, SECRET_PROVIDER_FIELDS, parse_config

__all__ = [
    "PORTKEY_HOSTED_URL",
    "ClientRoute",
    "PortkeyAccess",
    "normalize_metadata",
    "portkey_access",
    "require_portkey_key",
    "resolve_client_args",
]

PORTKEY_HOSTED_URL = "https://api.portkey.ai/v1"

# Arguments of portkey-ai 2.3.4's AsyncPortkey (keyword names, as users write them).
ASYNC_PORTKEY_ARGS = frozenset(
    [
        "api_key",
        "base_url",
        "virtual_key",
        "websocket_base_url",
        "webhook_secret",
        "config",
        "provider",
        "trace_id",
        "metadata",
        "cache_namespace",
        "debug",
        "cache_force_refresh",
        "custom_host",
        "forward_headers",
        "instrumentation",
        "openai_project",
        "openai_organization",
        "aws_secret_access_key",
        "aws_access_key_id",
        "aws_session_token",
        "aws_region",
        "vertex_project_id",
        "vertex_region",
        "workers_ai_account_id",
        "azure_resource_name",
        "azure_deployment_id",
        "azure_api_version",
        "azure_endpoint_name",
        "huggingface_base_url",
        "http_client",
        "request_timeout",
        "strict_open_ai_compliance",
        "anthropic_beta",
        "anthropic_version",
        "mistral_fim_completion",
        "vertex_storage_bucket_name",
        "provider_file_name",
        "provider_model",
        "aws_s3_bucket",
        "aws_s3_object_key",
        "aws_bedrock_model",
        "fireworks_account_id",
        "calculate_audio_duration",
        "Authorization",
    ]
)
_STRING_ARGS = (
    "api_key",
    "base_url",
    "virtual_key",
    "provider",
    "trace_id",
    "custom_host",
    "Authorization",
    "cache_namespace",
)
_LOCAL_ONLY = frozenset({"config", "base_url", "trace_id", "metadata", "http_client"})


@dataclass(frozen=True, slots=True)
class PortkeyAccess:
    """How to reach Portkey's gateway, for targets that must go there.

    ``forwarded`` holds the arguments sent as ``x-portkey-*`` headers; it may contain secrets
    and is never shown (``repr`` lists only the keys).
    """

    base_url: str
    api_key: Secret | None
    forwarded: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"PortkeyAccess(base_url={self.base_url!r}, api_key={'set' if self.api_key else 'none'}, "
            f"forwarded={sorted(self.forwarded)})"
        )


@dataclass(frozen=True, slots=True)
class ClientRoute:
    """What ``client_args`` resolve to: a config to execute, and per-request defaults."""

    config: Mapping[str, Any] = field(repr=False)
    portkey: PortkeyAccess
    trace_id: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    request_timeout_ms: float | None = None
    cache_namespace: str | None = None
    cache_force_refresh: bool = False


def portkey_access(
    env: Mapping[str, str],
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    forwarded: Mapping[str, Any] | None = None,
) -> PortkeyAccess:
    """How to reach Portkey: the given key (else ``PORTKEY_API_KEY``) and URL (else hosted)."""
    key = api_key or env.get("PORTKEY_API_KEY")
    return PortkeyAccess(
        base_url=(base_url or PORTKEY_HOSTED_URL).rstrip("/"),
        api_key=Secret(key) if key else None,
        forwarded=forwarded or {},
    )


def require_portkey_key(portkey: PortkeyAccess, why: str, path: str) -> None:
    """Refuse now, not with a 401 later, to use the hosted gateway without a Portkey key."""
    if portkey.api_key is None and portkey.base_url == PORTKEY_HOSTED_URL:
        raise ConfigurationError(f"{why}: pass your Portkey 'api_key' (or set PORTKEY_API_KEY)", path=path)


def resolve_client_args(client_args: Mapping[str, Any], env: Mapping[str, str] | None = None) -> ClientRoute:
    """Validate ``client_args`` and decide where requests go (see the module table)."""
    env = os.environ if env is None else env
    args = _validated(client_args)
    forwarded = {k: v for k, v in args.items() if k not in _LOCAL_ONLY and k != "api_key"}
    if _is_saved_config_id(args.get("config")):
        forwarded["config"] = args["config"]
    portkey = portkey_access(
        env, api_key=args.get("api_key"), base_url=args.get("base_url"), forwarded=forwarded
    )
    return ClientRoute(
        config=_route_config(args, portkey),
        portkey=portkey,
        trace_id=args.get("trace_id"),
        metadata=normalize_metadata(args.get("metadata"), path="client_args.metadata"),
        request_timeout_ms=args.get("request_timeout"),
        cache_namespace=args.get("cache_namespace"),
        cache_force_refresh=bool(args.get("cache_force_refresh")),
    )


def _route_config(args: Mapping[str, Any], portkey: PortkeyAccess) -> Mapping[str, Any]:
    config = args.get("config")
    if _is_saved_config_id(config):
        require_portkey_key(
            portkey, "a saved config id ('pc-...') is stored at Portkey", "client_args.config"
        )
        return {"provider": "portkey"}
    if config is not None:
        return parse_config(config, path="client_args.config")
    if args.get("base_url"):
        return {"provider": "portkey"}
    if args.get("virtual_key"):
        return {"virtual_key": args["virtual_key"]}
    if args.get("provider") and args["provider"] != "portkey":
        return _direct_provider(args)
    if portkey.api_key or args.get("provider") == "portkey":
        return {"provider": "portkey"}
    raise ConfigurationError(
        "client_args do not say where to send requests: give 'provider' (with 'Authorization' or the "
        "provider's API key in the environment), 'virtual_key' with a Portkey 'api_key', a 'config', "
        "or a Portkey 'base_url'",
        path="client_args",
    )


def _is_saved_config_id(config: Any) -> bool:
    return isinstance(config, str) and config.startswith("pc-")


def _direct_provider(args: Mapping[str, Any]) -> Mapping[str, Any]:
    leaf: dict[str, Any] = {"provider": args["provider"]}
    authorization = args.get("Authorization")
    if authorization:
        leaf["api_key"] = authorization.removeprefix("Bearer ").strip()
    for key in ("custom_host", "forward_headers", *PROVIDER_FIELDS, *SECRET_PROVIDER_FIELDS):
        if args.get(key):
            leaf[key] = args[key]
    return leaf


def _validated(client_args: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(client_args, Mapping):
        raise ConfigurationError(
            f"expected a dict of AsyncPortkey arguments, got {type(client_args).__name__}", path="client_args"
        )
    for key, value in client_args.items():
        if not isinstance(key, str):
            raise ConfigurationError(f"keys must be strings, got {key!r}", path="client_args")
        if key in _STRING_ARGS and value is not None and not isinstance(value, str):
            raise ConfigurationError(
                f"expected a string, got {type(value).__name__}", path=f"client_args.{key}"
            )
    unknown = sorted(set(client_args) - ASYNC_PORTKEY_ARGS)
    if unknown:
        warnings.warn(
            f"client_args {unknown} are not AsyncPortkey arguments; they are forwarded only to Portkey's "
            "gateway (as x-portkey-* headers)",
            UserWarning,
            stacklevel=4,
        )
    for key in ("custom_host", "base_url"):  # a host given here is used for every request: check it now
        check_host_url(client_args.get(key), f"client_args.{key}")
    forward = client_args.get("forward_headers")
    if forward is not None and not (isinstance(forward, list) and all(isinstance(h, str) for h in forward)):
        raise ConfigurationError("expected a list of header names", path="client_args.forward_headers")
    timeout = client_args.get("request_timeout")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
    ):
        raise ConfigurationError(
            f"expected a positive number of milliseconds, got {timeout!r}", path="client_args.request_timeout"
        )
    return {key: value for key, value in client_args.items() if value is not None}


def normalize_metadata(
    metadata: Any, *, path: str, error: Callable[..., Exception] = ConfigurationError
) -> dict[str, str]:
    """Portkey metadata (a dict or a JSON object string) as ``dict[str, str]``.

    ``error`` builds the exception: a ``ConfigurationError`` for ``client_args``, an
    ``InvalidRequestError`` for the metadata of one request.
    """
    if metadata is None:
        return {}
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except (json.JSONDecodeError, RecursionError):  # RecursionError: nested past the parser's depth
            raise error("expected a JSON object string or a dict", path=path) from None
    if not isinstance(metadata, Mapping):
        raise error(f"expected a dict, got {type(metadata).__name__}", path=path)
    out: dict[str, str] = {}
    for key, value in metadata.items():
        if value is not None and not isinstance(value, str | int | float):  # bool is an int
            raise error("values must be strings, numbers or booleans", path=f"{path}.{key}")
        out[str(key)] = value if isinstance(value, str) else json.dumps(value)
    return out
