"""``client.ai.provider_keys``: provider keys over HTTP (``/api/ai/provider-keys``), as in ``gw.ai``."""

from __future__ import annotations

from .http import RemoteHTTP
from .portal import Portal

__all__ = ["AsyncProviderKeys", "ProviderKeys"]


class AsyncProviderKeys:
    """The async face; mirrors :class:`~strands_portkey.controlplane.provider_keys.ProviderKeys`."""

    def __init__(self, http: RemoteHTTP) -> None:
        self._http = http


class ProviderKeys:
    """The blocking face: each method runs :class:`AsyncProviderKeys`' on the client's portal."""

    def __init__(self, inner: AsyncProviderKeys, portal: Portal) -> None:
        self._inner = inner
        self._portal = portal
