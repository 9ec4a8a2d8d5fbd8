"""Portkey's gateway (hosted, or self-hosted via ``base_url``) as one more provider.

The wire format is OpenAI's, so :class:`PortkeyAdapter` is the OpenAI-compatible adapter with
Portkey's header contract on top. :func:`portkey_headers` reproduces how the ``portkey-ai`` SDK
(2.3.4) turns ``AsyncPortkey`` arguments into ``x-portkey-*`` headers, so ``client_args``
written for the SDK mean the same thing here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..config.client_args import PORTKEY_HOSTED_URL
from ..embeddings import EmbeddingRequest
from ..types import ChatRequest
from ..wire import Secret
from ._headers import content_headers, merge_headers
from .base import Target
from .openai_compat import HostSpec, OpenAICompatAdapter

__all__ = [
    "CLIENT_ONLY_ARGS",
    "PORTKEY_HOST",
    "PORTKEY_HOSTED_URL",
    "PORTKEY_SELF_HOSTED_URL",
    "PortkeyAdapter",
    "portkey_headers",
]

"""Portkey's hosted gateway."""

PORTKEY_SELF_HOSTED_URL = "http://localhost:8787/v1"
"""Where the open-source gateway listens by default (the SDK's fallback without an API key)."""

PORTKEY_HOST = HostSpec("portkey", PORTKEY_HOSTED_URL, "PORTKEY_API_KEY", requires_key=False)
"""Registry row for Portkey: the hosted URL by default. Only the hosted gateway needs a key."""

CLIENT_ONLY_ARGS = frozenset(
    {
        # arguments the SDK consumes itself and never sends as headers
        "base_url",
        "http_client",
        "websocket_base_url",
        "webhook_secret",
        "instrumentation",
        "calculate_audio_duration",
        # OpenAI-client settings that sometimes ride along in client_args
        "timeout",
        "max_retries",
        "default_headers",
        "default_query",
    }
)
"""``client_args`` keys that configure the client and are never turned into headers."""

_PORTKEY_PREFIX = "x-portkey-"
_SDK_DEFAULTS = {"strict_open_ai_compliance": False}  # AsyncPortkey's default, always sent


def _compact_json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def _header_value(value: object) -> str | None:
    """Render one argument as header text, or ``None`` when the argument is empty."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Secret):
        value = value.reveal()
    if isinstance(value, str):
        return value or None
    if isinstance(value, Mapping):
        return _compact_json(dict(value)) if value else None
    if isinstance(value, (list, tuple, set, frozenset)):
        return ",".join(str(item) for item in value) or None
    return str(value)


def _bearer(token: str) -> str:
    return token if token[:7].lower() == "bearer " else f"Bearer {token}"


def _forwarded_names(forward_headers: object) -> frozenset[str]:
    if not isinstance(forward_headers, (list, tuple, set, frozenset)):
        return frozenset()
    return frozenset(str(name).replace("_", "-").lower() for name in forward_headers)


def portkey_headers(client_args: Mapping[str, Any]) -> dict[str, str]:
    """Build the headers the ``portkey-ai`` SDK sends for these ``AsyncPortkey`` arguments.

    Every non-empty argument except :data:`CLIENT_ONLY_ARGS` becomes ``x-portkey-<kebab-name>``
    (``virtual_key`` -> ``x-portkey-virtual-key``): mappings as compact JSON, booleans as
    ``true``/``false``, lists comma-joined, :class:`~strands_portkey.types.Secret` revealed.
    ``Authorization`` becomes a plain ``authorization: Bearer <key>``; an argument named in
    ``forward_headers`` is sent under its own (kebab) name. As in the SDK,
    ``x-portkey-strict-open-ai-compliance: false`` is sent unless the argument says otherwise.
    Header names are lower-cased.
    """
    forwarded = _forwarded_names(client_args.get("forward_headers"))
    headers: dict[str, str] = {}
    for name, value in {**_SDK_DEFAULTS, **client_args}.items():
        if name in CLIENT_ONLY_ARGS:
            continue
        text = _header_value(value)
        if text is None:
            continue
        kebab = name.replace("_", "-").lower()
        if kebab == "authorization":
            headers["authorization"] = _bearer(text)
        elif kebab in forwarded:
            headers[kebab] = text
        else:
            headers[_PORTKEY_PREFIX + kebab] = text
    return headers


class PortkeyAdapter(OpenAICompatAdapter):
    """Portkey's gateway: the OpenAI wire format plus the ``x-portkey-*`` header contract.

    Headers are built in this order, later ones winning: :func:`portkey_headers` of
    ``target.options["client_args"]`` (when given), ``x-portkey-api-key`` from
    ``target.api_key`` (the Portkey API key), ``target.headers`` (e.g. headers the gateway
    computed once with :func:`portkey_headers`), then the per-request ``trace_id``
    (``x-portkey-trace-id``) and ``metadata`` (``x-portkey-metadata``, JSON).
    The base URL is ``target.base_url``, else ``client_args["base_url"]``, else the hosted URL.
    """

    __slots__ = ()

    def __init__(self, name: str = PORTKEY_HOST.name, default_base_url: str = PORTKEY_HOSTED_URL) -> None:
        super().__init__(name, default_base_url)

    def base_url(self, target: Target) -> str:
        """Return the target's base URL, else ``client_args["base_url"]``, else the hosted URL."""
        client_base_url = _client_args(target).get("base_url")
        if not target.base_url and isinstance(client_base_url, str) and client_base_url:
            return client_base_url.rstrip("/")
        return super().base_url(target)

    def request_headers(
        self,
        request: ChatRequest | EmbeddingRequest,
        target: Target,
        *,
        trace_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """Content headers, then Portkey's headers in the order described on the class."""
        headers = content_headers(stream=request.stream)
        client_args = _client_args(target)
        if client_args:
            headers.update(portkey_headers(client_args))
        if target.api_key:
            headers["x-portkey-api-key"] = target.api_key.reveal()
        merge_headers(headers, target.headers)
        if trace_id:
            headers["x-portkey-trace-id"] = trace_id
        if metadata:
            headers["x-portkey-metadata"] = _compact_json(dict(metadata))
        return headers


def _client_args(target: Target) -> Mapping[str, Any]:
    client_args = target.options.get("client_args")
    return client_args if isinstance(client_args, Mapping) else {}
