"""``client.ai.models``: the AI model registry over HTTP (``/api/ai/models``), as ``gw.ai.models``."""

from __future__ import annotations

from .http import RemoteHTTP
from .portal import Portal

__all__ = ["AIModels", "AsyncAIModels"]


class AsyncAIModels:
    """The async face; every method mirrors :class:`~strands_portkey.controlplane.models_api.AIModels`."""

    def __init__(self, http: RemoteHTTP) -> None:
        self._http = http


class AIModels:
    """The blocking face: each method runs :class:`AsyncAIModels`' on the client's portal."""

    def __init__(self, inner: AsyncAIModels, portal: Portal) -> None:
        self._inner = inner
        self._portal = portal
