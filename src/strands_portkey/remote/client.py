"""``Client`` and ``AsyncClient``: the control plane of a server, with the surface of ``Gateway()``.

``client.ai.models``, ``client.ai.provider_keys``, ``client.ai.analytics``, ``client.providers``,
``client.configs`` and ``client.api_keys`` have the same method names, arguments, return types
(the same dataclasses, the same lazy paginator with ``.to_list()``) and exceptions as a
``Gateway()``'s, over the server's admin REST API. Code written for one runs against the other.

``AsyncClient`` is the implementation; ``Client`` runs it on a private event loop thread
(:class:`~.portal.Portal`), so both send the same requests and raise the same errors.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from ..errors import ConfigurationError
from ..transport import AsyncHTTPTransport
from .ai_models import AIModels, AsyncAIModels
from .analytics import Analytics, AsyncAnalytics
from .api_keys import ApiKeys, AsyncApiKeys
from .configs import AsyncConfigs, Configs
from .http import DEFAULT_RETRIES, DEFAULT_TIMEOUT, RemoteHTTP
from .portal import Portal
from .provider_keys import AsyncProviderKeys, ProviderKeys
from .providers import AsyncProviders, Providers

__all__ = ["API_KEY_ENV", "BASE_URL_ENV", "AsyncClient", "Client"]

BASE_URL_ENV = "STRANDS_PORTKEY_BASE_URL"
API_KEY_ENV = "STRANDS_PORTKEY_API_KEY"


def _settings(
    base_url: str | None, api_key: str | None, env: Mapping[str, str] | None
) -> tuple[str, str | None]:
    env = os.environ if env is None else env
    url = base_url or env.get(BASE_URL_ENV)
    if not url:
        raise ConfigurationError(
            f"no server URL: pass base_url=... or set {BASE_URL_ENV} (e.g. http://127.0.0.1:8787)",
            path="base_url",
        )
    return url, api_key or env.get(API_KEY_ENV) or None


class AsyncAINamespace:
    """``client.ai``: ``models``, ``provider_keys``, ``analytics``."""

    def __init__(self, http: RemoteHTTP) -> None:
        self.models = AsyncAIModels(http)
        self.provider_keys = AsyncProviderKeys(http)
        self.analytics = AsyncAnalytics(http)

    def __repr__(self) -> str:
        return "AsyncAINamespace(models, provider_keys, analytics)"


class AINamespace:
    """``client.ai`` of the blocking client."""

    def __init__(self, inner: AsyncAINamespace, portal: Portal) -> None:
        self.models = AIModels(inner.models, portal)
        self.provider_keys = ProviderKeys(inner.provider_keys, portal)
        self.analytics = Analytics(inner.analytics, portal)

    def __repr__(self) -> str:
        return "AINamespace(models, provider_keys, analytics)"


class AsyncClient:
    """The control plane of the server at ``base_url`` (default ``STRANDS_PORTKEY_BASE_URL``).

    Args:
        base_url: The server, e.g. ``http://127.0.0.1:8787``.
        api_key: A gateway API key (``spk-...``; default ``STRANDS_PORTKEY_API_KEY``).
        timeout: Seconds for each call, whole (default 30).
        retries: Retries of idempotent calls (GET, PUT, DELETE) after a connection failure, a
            timeout, 502 or 503 (default 2). Creates are never retried.
        transport: An httpx async transport (tests: ``httpx.MockTransport``).
        env: Where the defaults are read (default ``os.environ``).
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        transport: AsyncHTTPTransport | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        url, key = _settings(base_url, api_key, env)
        self._http = RemoteHTTP(url, key, timeout=timeout, retries=retries, transport=transport)
        self.ai = AsyncAINamespace(self._http)
        self.providers = AsyncProviders(self._http)
        self.configs = AsyncConfigs(self._http)
        self.api_keys = AsyncApiKeys(self._http)

    @property
    def base_url(self) -> str:
        """The server this client talks to."""
        return self._http.base_url

    def __repr__(self) -> str:
        return f"AsyncClient(base_url={self.base_url!r})"

    async def me(self) -> dict[str, Any]:
        """Who the API key acts as: ``keyId``, ``name``, ``user``, ``organizationId``, ``role``."""
        answer: dict[str, Any] = await self._http.get("/api/me")
        return answer

    async def aclose(self) -> None:
        """Close the client's connections."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class Client:
    """The blocking client: :class:`AsyncClient`'s surface without ``await`` (same arguments).

    ``Client()`` in place of seed 000's ``Strongly()``: ``client.ai.models.list()`` and the rest.
    Close it with :meth:`close` or use it as a context manager (``with Client() as client:``).
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        transport: AsyncHTTPTransport | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._async = AsyncClient(
            base_url, api_key, timeout=timeout, retries=retries, transport=transport, env=env
        )
        self._portal = Portal()
        # a client never closed (seed 000's example never closes it) is closed when collected
        # or at exit, so no connection or thread outlives it and no "unclosed session" warning
        self._finalizer = weakref.finalize(self, _close, self._portal, self._async)
        self.ai = AINamespace(self._async.ai, self._portal)
        self.providers = Providers(self._async.providers, self._portal)
        self.configs = Configs(self._async.configs, self._portal)
        self.api_keys = ApiKeys(self._async.api_keys, self._portal)

    @property
    def base_url(self) -> str:
        """The server this client talks to."""
        return self._async.base_url

    def __repr__(self) -> str:
        return f"Client(base_url={self.base_url!r})"

    def me(self) -> dict[str, Any]:
        """Who the API key acts as (see :meth:`AsyncClient.me`)."""
        return self._portal.run(self._async.me())

    def close(self) -> None:
        """Close the connections and stop the client's event loop thread (once; later calls do nothing)."""
        self._finalizer()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _close(portal: Portal, client: AsyncClient) -> None:
    """Close ``client``'s connections on ``portal``'s loop, then stop the loop."""
    portal.close(client.aclose())
