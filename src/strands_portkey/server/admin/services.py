"""The service objects behind the admin routes: the same classes ``gw.ai`` and the rest are.

Built once per app on first use, over the server's control plane (so the REST face and an
in-process ``Gateway`` share one service layer and its snapshots). Routes act for a caller
through :meth:`AdminServices.ai_for` and friends, which narrow what a member sees; they never
reach into the store themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends
from starlette.requests import Request

from ...errors import StoreError

if TYPE_CHECKING:
    from collections.abc import Callable

    from ...controlplane import AINamespace, ControlPlane
    from ...controlplane.api_keys import ApiKeys
    from ...controlplane.api_keys_view import CallerApiKeys
    from ...controlplane.configs_api import Configs
    from ...controlplane.prompts_api import Prompts
    from ...controlplane.providers_api import Providers
    from ..state import ServerState
    from .caller import Caller
    from .dashboard.view import DashboardView

__all__ = ["AdminServices", "ServicesDep", "hidden_logger", "services_of"]

_log = logging.getLogger("strands_portkey.server.admin")


def hidden_logger(request: Request, caller: Caller, kind: str) -> Callable[[str], None]:
    """What a view calls when a member asks for an object it may not see (answered 404): a log line.

    It names the calling key's id, the route and the id asked for; never a secret.
    """

    def log(ref: str) -> None:
        _log.warning(
            "%s %s: key %s (member) asked for %s %r, not visible to it: answered 404",
            request.method,
            request.url.path,
            caller.principal.key_id,
            kind,
            ref,
        )

    return log


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

    def ai_for(self, caller: Caller, *, on_hidden: Callable[[str, str], None] | None = None) -> AINamespace:
        """``gw.ai`` acting for ``caller`` (an admin sees everything).

        A member sees its own and shared models, its own provider keys and the analytics of its
        own requests; ``on_hidden`` is told of objects it asked for but may not see.
        """
        from ...catalog.models import Actor

        actor = Actor(caller.actor.user, caller.actor.organization_id, admin=caller.is_admin)
        return self.ai.acting_as(actor, on_hidden=on_hidden)

    @cached_property
    def providers(self) -> Providers:
        """``gw.providers``: providers, credentials, model rates, health, discovery."""
        from ...controlplane.providers_api import Providers

        return Providers(self.plane)

    @cached_property
    def api_keys(self) -> ApiKeys:
        """``gw.api_keys``: the authenticator's own (one snapshot: a key made here works at once)."""
        from ...controlplane.api_keys import ApiKeys
        from ..key_limits import KeyLimiter

        found = getattr(self._state.authenticator, "api_keys", None)
        if isinstance(found, ApiKeys):
            return found
        limiter = self._state.limiter
        return ApiKeys(self.plane, limits=limiter.engine if isinstance(limiter, KeyLimiter) else None)

    def api_keys_for(self, caller: Caller, on_hidden: Callable[[str], None] | None = None) -> CallerApiKeys:
        """``gw.api_keys`` as ``caller`` may use it: an admin every key, a member its own."""
        from ...controlplane.api_keys_view import CallerApiKeys

        return CallerApiKeys(
            self.api_keys,
            caller.actor,
            admin=caller.is_admin,
            granted=caller.principal.key,
            on_hidden=on_hidden,
        )

    @cached_property
    def configs(self) -> Configs:
        """``gw.configs``: saved configs and their versions."""
        from ...controlplane.configs_api import Configs

        return Configs(self.plane)

    def configs_for(self, caller: Caller, on_hidden: Callable[[str], None] | None = None) -> Configs:
        """``gw.configs`` writing as ``caller``; what a member may see of it.

        A member sees its organization's configs and those its key names (``allowed_configs``,
        ``default_config``); with an allow-list, only those.
        """
        from ...controlplane.configs_api import Configs, ConfigScope

        if caller.is_admin:
            return Configs(self.plane, actor=caller.actor)
        key = caller.principal.key
        named = set(key.allowed_configs or ()) if key is not None else set()
        if key is not None and key.default_config:
            named.add(key.default_config)
        allow_list = key is not None and key.allowed_configs is not None
        organization = None if allow_list else caller.actor.organization_id
        scope = ConfigScope(organization, frozenset(named))
        return Configs(self.plane, actor=caller.actor, scope=scope, on_hidden=on_hidden)

    def prompts_for(self, caller: Caller) -> Prompts:
        """``gw.prompts`` writing as ``caller`` (versions and new prompts name their author)."""
        from ...controlplane.prompts_api import Prompts

        return Prompts(self.plane, actor=caller.actor)

    def dashboard_for(self, caller: Caller) -> DashboardView:
        """The dashboard's reads as ``caller`` may see them (a member: its own requests)."""
        from .dashboard.view import DashboardView

        return DashboardView(self.plane, caller)


def services_of(request: Request) -> AdminServices:
    """The app's :class:`AdminServices` (a FastAPI dependency: ``services: ServicesDep``)."""
    services: AdminServices = request.app.state.services
    return services


ServicesDep = Annotated[AdminServices, Depends(services_of)]
"""A handler's ``services: ServicesDep`` parameter."""
