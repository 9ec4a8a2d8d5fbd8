"""The control plane's Python API: ``gw.ai.provider_keys`` and ``gw.providers`` over a local vault.

This package sits at the gateway's layer: it may use the provider registry and the transport (for
the non-billed validation call), which the vault, catalog and store below it never import.
Importing it loads SQLAlchemy and ``cryptography``; ``Gateway`` imports it only on first use.

- :class:`~strands_portkey.controlplane.plane.ControlPlane`: store + master key ring + selector.
- :class:`~strands_portkey.controlplane.provider_keys.ProviderKeys`: the provider-keys API.
- :class:`~strands_portkey.controlplane.providers_api.Providers`: providers, credentials, rates,
  billing, health, discovery, ``test_models``.
- :mod:`~strands_portkey.controlplane.provider_routes`: providers registered under names the
  registry does not know, which configs may name (their ``baseUrl`` and ``apiFormat``).
- :class:`~strands_portkey.controlplane.api_keys.ApiKeys`: the gateway's own API keys
  (``gw.api_keys``) and authenticating them from a snapshot.
- :class:`~strands_portkey.controlplane.configs_api.Configs`: saved configs (``gw.configs``);
  :mod:`~strands_portkey.controlplane.saved_configs` holds their current versions in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from ..analytics.sinks import DEFAULT_FLUSH_INTERVAL, check_flush_interval
from ..catalog.models import Actor
from ..store.db import DB_URL_ENV, default_url
from ..transport import AsyncHTTPTransport
from .plane import ControlPlane
from .provider_keys import ProviderKeys

__all__ = [
    "FLUSH_INTERVAL_ENV",
    "VALIDATE_KEYS_ENV",
    "AINamespace",
    "ControlPlane",
    "ProviderKeys",
    "open_control_plane",
]

VALIDATE_KEYS_ENV = "STRANDS_PORTKEY_VALIDATE_KEYS"
FLUSH_INTERVAL_ENV = "STRANDS_PORTKEY_ANALYTICS_FLUSH_INTERVAL"


class AINamespace:
    """``gw.ai``: the AI resources of the spec: ``models``, ``provider_keys``, ``analytics``.

    In process it acts as the user of ``STRANDS_PORTKEY_USER``: models by the permission rules,
    every provider key and every request's analytics. :meth:`acting_as` gives the same resources
    acting for another caller (the server's admin routes, per gateway key).
    """

    def __init__(
        self,
        plane: ControlPlane,
        *,
        actor: Actor | None = None,
        on_hidden: Callable[[str, str], None] | None = None,
    ) -> None:
        from .analytics_api import Analytics  # issue 7
        from .models_api import AIModels

        def hidden(kind: str) -> Callable[[str], None] | None:
            return None if on_hidden is None else (lambda ref: on_hidden(kind, ref))

        self.actor = actor
        self.provider_keys = ProviderKeys(plane, actor=actor, on_hidden=hidden("provider key"))
        self.analytics = Analytics(plane, user=None if actor is None or actor.admin else actor.user)
        self.models = AIModels(
            plane, plane.registered_models, actor=actor, analytics=self.analytics, on_hidden=hidden("model")
        )
        self._plane = plane

    def __repr__(self) -> str:
        return "AINamespace(models, provider_keys, analytics)"

    def acting_as(self, actor: Actor, *, on_hidden: Callable[[str, str], None] | None = None) -> AINamespace:
        """The same resources acting as ``actor`` (the server's admin routes, per gateway key).

        An admin (``actor.admin``) sees and changes everything; anyone else sees the models it may
        use, changes its own, manages its own provider keys, and sees the analytics of its own
        requests. ``on_hidden(kind, id)`` is told of every object the actor asked for but may not
        see (which answers "not found").
        """
        return AINamespace(self._plane, actor=actor, on_hidden=on_hidden)


def open_control_plane(
    env: Mapping[str, str], *, transport: AsyncHTTPTransport | None, create: bool
) -> ControlPlane | None:
    """The default control plane of a gateway (``STRANDS_PORTKEY_DB_URL`` or the user's SQLite file).

    With ``create=False`` nothing is created on disk: when no URL is configured and the default
    file does not exist yet, the local vault is empty and ``None`` is returned.
    ``STRANDS_PORTKEY_VALIDATE_KEYS=off`` stores keys without checking them with the provider
    (offline machines; ``provider_keys.test`` still checks on demand).
    ``STRANDS_PORTKEY_ANALYTICS_FLUSH_INTERVAL`` sets the analytics writer's interval (seconds).
    """
    if not create and not env.get(DB_URL_ENV):
        url = default_url(env)
        if not Path(url.removeprefix("sqlite:///")).exists():
            return None
    validate = env.get(VALIDATE_KEYS_ENV, "").strip().lower() not in {"0", "off", "false", "no"}
    flush = env.get(FLUSH_INTERVAL_ENV, "").strip()
    interval = check_flush_interval(flush, FLUSH_INTERVAL_ENV) if flush else DEFAULT_FLUSH_INTERVAL
    return ControlPlane(env=env, transport=transport, validate_credentials=validate, flush_interval=interval)
