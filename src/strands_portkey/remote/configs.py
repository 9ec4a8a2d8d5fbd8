"""``client.configs``: saved configs over HTTP (``/api/configs``), as ``gw.configs``."""

from __future__ import annotations

from .http import RemoteHTTP
from .portal import Portal

__all__ = ["AsyncConfigs", "Configs"]


class AsyncConfigs:
    """The async face; every method mirrors :class:`~strands_portkey.controlplane.configs_api.Configs`."""

    def __init__(self, http: RemoteHTTP) -> None:
        self._http = http


class Configs:
    """The blocking face: each method runs :class:`AsyncConfigs`' on the client's portal."""

    def __init__(self, inner: AsyncConfigs, portal: Portal) -> None:
        self._inner = inner
        self._portal = portal
