"""Saved configs in memory: what ``Gateway(config="pc-...")`` runs, without reading the database.

The snapshot holds each saved config's current version (id, version, config), reloaded with the
plane's other snapshots: at once after a change made through ``gw.configs`` here, and within the
plane's ``refresh_interval`` after another process's change (the store revision). A gateway
running a saved config compares versions on each request and rebuilds its plan when a later one
appears (:meth:`Gateway._follow_saved_config`).

Saved configs hold no secrets: :func:`check_no_secrets` refuses inline credentials, which belong
in the vault (``gw.ai.provider_keys``) and are named with ``virtual_key``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from sqlalchemy import select

from ..errors import InvalidRequestError, StoreError
from ..store.db import Store
from ..store.tables import SavedConfigRow, SavedConfigVersionRow

__all__ = ["SECRET_FIELDS", "SavedConfigEntry", "SavedConfigs", "check_no_secrets", "resolve_saved"]

_log = logging.getLogger("strands_portkey.controlplane")

# Keys that carry a credential wherever they appear in a config (compared case-insensitively).
SECRET_FIELDS = frozenset(
    {
        "api_key",
        "apikey",
        "api-key",
        "x-api-key",
        "authorization",
        "aws_secret_access_key",
        "aws_session_token",
        "azure_ad_token",
        "vertex_service_account_json",
        "webhook_secret",
        "password",
        "secret",
        "token",
    }
)


def check_no_secrets(value: Any, path: str = "config") -> None:
    """Refuse a config holding a credential, naming where (``config.targets[0].api_key``)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}"
            if isinstance(key, str) and key.lower() in SECRET_FIELDS and item not in (None, ""):
                raise InvalidRequestError(
                    "a saved config may not hold a credential in clear: store the key in the vault "
                    "(gw.ai.provider_keys.create) and name it here with 'virtual_key', or let the "
                    "provider's key come from the environment",
                    path=where,
                )
            check_no_secrets(item, where)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_no_secrets(item, f"{path}[{index}]")


@dataclass(frozen=True, slots=True)
class SavedConfigEntry:
    """The current version of one saved config, as a gateway runs it."""

    id: str
    name: str
    version: int
    config: Mapping[str, Any]
    organization_id: str = ""


class SavedConfigsHost(Protocol):
    """What the snapshot needs of its control plane (a protocol: the plane imports this module)."""

    store: Store
    reload_lock: threading.RLock

    def maybe_refresh(self) -> None:
        """Reload the snapshots when another process changed the store (cheap; the request path)."""
        ...

    def refresh(self) -> None:
        """Reload every snapshot now."""
        ...

    def revision_moved(self) -> bool:
        """Whether the store revision differs from the one the snapshots were loaded at."""
        ...

    @property
    def saved_configs(self) -> SavedConfigs:
        """The snapshot of saved configs."""
        ...


class SavedConfigs:
    """Every saved config's current version in memory, by id."""

    def __init__(self, plane: SavedConfigsHost) -> None:
        self._plane = plane
        self._configs: Mapping[str, SavedConfigEntry] = {}
        self.refresh()

    def __repr__(self) -> str:
        return f"SavedConfigs(configs={len(self._configs)})"

    def refresh(self) -> None:
        """Reload (under the plane's reload lock, so an older reload never lands last)."""
        with self._plane.reload_lock:
            statement = select(
                SavedConfigRow.id,
                SavedConfigRow.name,
                SavedConfigRow.version,
                SavedConfigVersionRow.config,
                SavedConfigRow.organization_id,
            ).join(
                SavedConfigVersionRow,
                (SavedConfigVersionRow.config_id == SavedConfigRow.id)
                & (SavedConfigVersionRow.version == SavedConfigRow.version),
            )
            with self._plane.store.reading() as session:
                rows = session.execute(statement).all()
            self._configs = {
                row.id: SavedConfigEntry(
                    row.id, row.name, row.version, MappingProxyType(dict(row.config)), row.organization_id
                )
                for row in rows
            }

    def get(self, config_id: str, *, constructing: bool = False) -> SavedConfigEntry | None:
        """The current version of ``config_id`` (``None`` when this store has no such config).

        ``constructing``: a gateway is being built with this id. When it is missing, the store
        revision is read once and the snapshots reloaded if another process changed it.
        """
        self._plane.maybe_refresh()
        found = self._configs.get(config_id)
        if found is None and constructing:
            try:
                if self._plane.revision_moved():
                    self._plane.refresh()
                    found = self._configs.get(config_id)
            except StoreError as error:  # keep the snapshot; the caller falls back to Portkey's gateway
                _log.warning("saved configs not refreshed: %s", error)
        return found


def resolve_saved(
    plane: SavedConfigsHost | None, ref: str, client_args: Mapping[str, Any] | None
) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None, tuple[str, int] | None]:
    """What a gateway given ``ref`` (``pc-...``) runs: ``(config, client_args, followed)``.

    When ``plane`` has the saved config: its current version, as ``config`` (or as
    ``client_args["config"]`` when the id came in ``client_args``), and ``(id, version)`` to
    follow. Otherwise ``client_args={"config": ref, ...}``: Portkey's hosted gateway resolves it,
    as it always did for ``client_args``.
    """
    found = plane.saved_configs.get(ref, constructing=True) if plane is not None else None
    if found is None:
        return None, {**(client_args or {}), "config": ref}, None
    followed = (found.id, found.version)
    if client_args is None:
        return found.config, None, followed
    return None, {**client_args, "config": dict(found.config)}, followed
