"""The service objects behind the admin routes: the same classes ``gw.ai`` and the rest are.

Built once per app on first use, over the server's control plane (so the REST face and an
in-process ``Gateway`` share one service layer and its snapshots). Routes act for a caller
through :meth:`AdminServices.ai_for` and friends, which narrow what a member sees; they never
reach into the store themselves.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends
from starlette.requests import Request

from ...errors import StoreError

if TYPE_CHECKING:
    from ...controlplane import AINamespace, ControlPlane
    from ...controlplane.api_keys import ApiKeys
    from ...controlplane.configs_api import Configs
    from ...controlplane.providers_api import Providers
    from ..state import ServerState

__all__ = ["AdminServices", "ServicesDep", "services_of"]


class AdminServices:
    """``ai``, ``providers``, ``api_keys``, ``configs`` over one server's control plane."""

    def __init__(self, state: ServerState) -> None:
        self._state = state

    @property
    def plane(self) -> ControlPlane:
        """The control plane, or a 503 when the server runs without a store."""
        plane = self._state.plane
        if plane is None:
            raise StoreError("this server has no control plane store (set STRANDS_PORTKEY_DB_URL)")
        return plane

    @cached_property
    def ai(self) -> AINamespace:
        """``gw.ai``: models, provider keys, analytics (acting as the server's own user)."""
        from ...controlplane import AINamespace

        return AINamespace(self.plane)

    @cached_property
    def providers(self) -> Providers:
        """``gw.providers``: providers, credentials, model rates, health, discovery."""
        from ...controlplane.providers_api import Providers

        return Providers(self.plane)

    @cached_property
    def api_keys(self) -> ApiKeys:
        """``gw.api_keys``: gateway API keys."""
        from ...controlplane.api_keys import ApiKeys

        return ApiKeys(self.plane)

    @cached_property
    def configs(self) -> Configs:
        """``gw.configs``: saved configs and their versions."""
        from ...controlplane.configs_api import Configs

        return Configs(self.plane)


def services_of(request: Request) -> AdminServices:
    """The app's :class:`AdminServices` (a FastAPI dependency: ``services: ServicesDep``)."""
    services: AdminServices = request.app.state.services
    return services


ServicesDep = Annotated[AdminServices, Depends(services_of)]
"""A handler's ``services: ServicesDep`` parameter."""
