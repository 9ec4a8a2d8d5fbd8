"""Portkey's ``x-portkey-*`` request headers -> where a request goes, and the response headers back.

Request headers, as Portkey's gateway reads them (a bad value is a 400 naming the header):

=================================  ===============================================================
``x-portkey-config``               a JSON config (routes the request; wins over the headers below),
                                   or a saved config id ``pc-...`` (resolved by the server's hook)
``x-portkey-provider``             a provider, called with ``Authorization: Bearer <provider key>``
                                   (see :mod:`.auth` for when ``Authorization`` is a provider key)
``x-portkey-virtual-key``          a key of the local vault (by name or id)
``x-portkey-custom-host``          the provider's URL (with ``x-portkey-provider``; SSRF-checked)
``x-portkey-request-timeout``      milliseconds per attempt, winning over the config's
``x-portkey-forward-headers``      comma-separated request headers sent on to the upstream as
                                   they came (with each target's ``forward_headers``); never
                                   ``authorization``, ``x-api-key``, ``x-portkey-*``, hop-by-hop
``x-portkey-trace-id``             the request's trace id (answered in ``x-portkey-trace-id``)
``x-portkey-metadata``             a JSON object of strings/numbers (analytics, conditional routing)
``x-portkey-cache-force-refresh``  ``true``: skip the cache read, store the fresh answer
``x-portkey-cache-namespace``      partitions cache entries
``x-portkey-<provider field>``     ``x-portkey-aws-region``, ``x-portkey-azure-resource-name``, ...
=================================  ===============================================================

Without a config, provider or virtual key, a ``"model": "@provider/model"`` slug routes to that
provider (its vault or environment key); else a registered model's name routes to it; else the
server's default config answers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..config.client_args import normalize_metadata
from ..config.host_url import host_url_problem
from ..config.resolve import PROVIDER_FIELDS, SECRET_PROVIDER_FIELDS
from ..errors import GatewayError
from ..forwarding import ForwardHeaders, never_forwarded
from ..types import RouteInfo
from ..wire import decode_json
from .errors import ServerInputError

__all__ = [
    "COST_HEADER",
    "CallOptions",
    "RouteSpec",
    "read_call_options",
    "read_route",
    "response_headers",
]

COST_HEADER = "x-portkey-cost-usd"
"""Ours, not Portkey's: the request's cost in USD at the control plane's rates (non-streamed answers)."""

_PREFIX = "x-portkey-"
_FIELD_HEADERS = {
    _PREFIX + name.replace("_", "-"): name for name in sorted(PROVIDER_FIELDS | SECRET_PROVIDER_FIELDS)
}
_MAX_TRACE_ID = 256
_TRUE, _FALSE = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no", ""})


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """What a request's headers say about its route: the part that picks (or builds) a ``Gateway``.

    Secrets (the provider key, secret provider fields) are held here only to build the route;
    :meth:`key` hashes them with a per-process secret, so a route cache never holds one in clear.
    """

    config: Mapping[str, Any] | None = field(default=None, repr=False)
    saved_config: str | None = None
    provider: str | None = None
    provider_key: str | None = field(default=None, repr=False)
    virtual_key: str | None = None
    custom_host: str | None = None
    request_timeout_ms: int | None = None
    provider_fields: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def names_route(self) -> bool:
        """Whether the headers choose a route (else the model slug, registry or default config do)."""
        return (
            self.config is not None
            or self.saved_config is not None
            or bool(self.provider or self.virtual_key)
        )

    def checked(self) -> RouteSpec:
        """The same route, validated once per distinct route (the host URL syntax)."""
        if self.custom_host is not None:
            _read_host(self.custom_host)
        return self

    def client_args(self) -> dict[str, Any]:
        """The ``AsyncPortkey``-style arguments a ``Gateway`` for this route is built from."""
        args: dict[str, Any] = dict(self.provider_fields)
        if self.config is not None:
            args["config"] = self.config
        if self.provider:
            args["provider"] = self.provider
        if self.provider_key:
            args["Authorization"] = self.provider_key
        if self.virtual_key:
            args["virtual_key"] = self.virtual_key
        if self.custom_host:
            args["custom_host"] = self.custom_host
        if self.request_timeout_ms is not None:
            args["request_timeout"] = self.request_timeout_ms
        return args

    def key(self, secret: bytes) -> str:
        """A keyed digest naming this route: equal routes, equal keys; no secret in clear."""
        canonical = repr(
            (
                self.config,
                self.provider,
                self.provider_key,
                self.virtual_key,
                self.custom_host,
                self.request_timeout_ms,
                sorted(self.provider_fields.items()),
            )
        )  # the fields client_args() is built from, without building it on every request
        return hashlib.blake2b(canonical.encode(), key=secret, digest_size=20).hexdigest()  # keyed: a MAC


@dataclass(frozen=True, slots=True)
class CallOptions:
    """Per-request options: they do not change the route, only this call."""

    trace_id: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    cache_force_refresh: bool | None = None
    cache_namespace: str | None = None
    forward: ForwardHeaders | None = field(default=None, repr=False)


def _header_error(header: str, message: str) -> ServerInputError:
    return ServerInputError(message, path=header)


def _read_config(value: str) -> tuple[Mapping[str, Any] | None, str | None]:
    text = value.strip()
    if text.startswith("pc-"):
        return None, text
    try:
        config = decode_json(text)
    except ValueError:
        raise _header_error(
            "x-portkey-config", "expected a JSON object (a Portkey config) or a saved config id 'pc-...'"
        ) from None
    if not isinstance(config, dict):
        raise _header_error("x-portkey-config", f"expected a JSON object, got {type(config).__name__}")
    return config, None


def _read_timeout(value: str) -> int:
    text = value.strip()
    if not text.isdigit() or int(text) <= 0:
        raise _header_error("x-portkey-request-timeout", "expected a positive whole number of milliseconds")
    return int(text)


def _read_host(value: str) -> str:
    problem = host_url_problem(value.strip())
    if problem is not None:
        raise _header_error("x-portkey-custom-host", problem)
    return value.strip()


def _read_forward(value: str) -> tuple[str, ...]:
    names = tuple(name.strip().lower() for name in value.split(",") if name.strip())
    for name in names:
        if not all(c.isalnum() or c in "-_" for c in name):
            raise _header_error("x-portkey-forward-headers", "expected comma-separated header names")
        if never_forwarded(name):
            raise _header_error(
                "x-portkey-forward-headers",
                f"{name!r} is never forwarded (credentials, x-portkey-* and hop-by-hop headers stay here)",
            )
    return names


def read_route(headers: Mapping[str, str], provider_key: str | None) -> RouteSpec:
    """The route the headers name (see the module table); ``provider_key`` is from :mod:`.auth`.

    ``headers`` has lower-case names. The custom host's URL syntax is checked by
    :meth:`RouteSpec.checked`, once per distinct route, not on every request.
    """
    config, saved = (None, None)
    raw_config = headers.get("x-portkey-config")
    if raw_config:
        config, saved = _read_config(raw_config)
    timeout = headers.get("x-portkey-request-timeout")
    host = headers.get("x-portkey-custom-host")
    provider = (headers.get("x-portkey-provider") or "").strip() or None
    if host and not provider and config is None:
        raise _header_error("x-portkey-custom-host", "needs 'x-portkey-provider' (the API the host speaks)")
    fields = {
        _FIELD_HEADERS[name]: value.strip()
        for name, value in headers.items()
        if name in _FIELD_HEADERS and value.strip()
    }
    return RouteSpec(
        config=config,
        saved_config=saved,
        provider=provider,
        provider_key=provider_key if provider else None,
        virtual_key=(headers.get("x-portkey-virtual-key") or "").strip() or None,
        custom_host=host.strip() if host else None,
        request_timeout_ms=_read_timeout(timeout) if timeout else None,
        provider_fields=fields,
    )


def _read_bool(header: str, value: str | None) -> bool | None:
    if value is None:
        return None
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _header_error(header, "expected 'true' or 'false'")


def read_call_options(headers: Mapping[str, str], defaults: Mapping[str, str] | None = None) -> CallOptions:
    """Trace id, metadata (over the caller's ``defaults``), cache options, the headers to forward.

    Bad values name the header. The forwardable headers are kept whether or not the request names
    any: a config target's ``forward_headers`` picks from them too.
    """
    trace_id = headers.get("x-portkey-trace-id")
    if trace_id is not None and (not trace_id.strip() or len(trace_id) > _MAX_TRACE_ID):
        raise _header_error("x-portkey-trace-id", f"expected 1 to {_MAX_TRACE_ID} characters")
    metadata: dict[str, str] = dict(defaults or {})
    raw = headers.get("x-portkey-metadata")
    if raw:
        try:
            metadata.update(normalize_metadata(raw, path="x-portkey-metadata", error=ServerInputError))
        except GatewayError:
            raise
        except ValueError:  # pragma: no cover - normalize_metadata raises the error it is given
            raise _header_error("x-portkey-metadata", "expected a JSON object") from None
    namespace = headers.get("x-portkey-cache-namespace")
    forward = headers.get("x-portkey-forward-headers")
    return CallOptions(
        trace_id=trace_id.strip() if trace_id else None,
        metadata=metadata,
        cache_force_refresh=_read_bool(
            "x-portkey-cache-force-refresh", headers.get("x-portkey-cache-force-refresh")
        ),
        cache_namespace=namespace.strip() if namespace and namespace.strip() else None,
        forward=ForwardHeaders.of(headers, _read_forward(forward) if forward else ()),
    )


def response_headers(
    route: RouteInfo | None, cost_usd: Decimal | None = None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Portkey's ``x-portkey-*`` response headers for ``route``, the cost header, and ``extra``."""
    headers = route.to_headers() if route is not None else {}
    if not headers.get("x-portkey-provider"):
        headers.pop("x-portkey-provider", None)
    if cost_usd is not None:
        headers[COST_HEADER] = format(cost_usd, "f")
    if extra:
        headers.update(extra)
    return headers
