"""``client.api_keys``: gateway API keys over HTTP (``/api/keys``), as ``gw.api_keys``."""

from __future__ import annotations

from .http import RemoteHTTP
from .portal import Portal

__all__ = ["ApiKeys", "AsyncApiKeys"]


class AsyncApiKeys:
    """The async face; every method mirrors :class:`~strands_portkey.controlplane.api_keys.ApiKeys`."""

    def __init__(self, http: RemoteHTTP) -> None:
        self._http = http


class ApiKeys:
    """The blocking face: each method runs :class:`AsyncApiKeys`' on the client's portal."""

    def __init__(self, inner: AsyncApiKeys, portal: Portal) -> None:
        self._inner = inner
        self._portal = portal
