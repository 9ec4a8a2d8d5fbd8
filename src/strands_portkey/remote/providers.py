"""``client.providers``: providers, credentials, model rates over HTTP (``/api/ai-providers``)."""

from __future__ import annotations

from .http import RemoteHTTP
from .portal import Portal

__all__ = ["AsyncProviders", "Providers"]


class AsyncProviders:
    """The async face; every method mirrors :class:`~strands_portkey.controlplane.providers_api.Providers`."""

    def __init__(self, http: RemoteHTTP) -> None:
        self._http = http


class Providers:
    """The blocking face: each method runs :class:`AsyncProviders`' on the client's portal."""

    def __init__(self, inner: AsyncProviders, portal: Portal) -> None:
        self._inner = inner
        self._portal = portal
