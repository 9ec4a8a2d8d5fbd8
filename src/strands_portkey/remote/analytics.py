"""``client.ai.analytics``: analytics over HTTP (``/api/ai/analytics``), as ``gw.ai.analytics``."""

from __future__ import annotations

from .http import RemoteHTTP
from .portal import Portal

__all__ = ["Analytics", "AsyncAnalytics"]


class AsyncAnalytics:
    """The async face; every method mirrors :class:`~strands_portkey.controlplane.analytics_api.Analytics`."""

    def __init__(self, http: RemoteHTTP) -> None:
        self._http = http


class Analytics:
    """The blocking face: each method runs :class:`AsyncAnalytics`' on the client's portal."""

    def __init__(self, inner: AsyncAnalytics, portal: Portal) -> None:
        self._inner = inner
        self._portal = portal
