"""``gw.configs``: saved configs (``pc-...``): a name and immutable versions of a Portkey config.

``create`` stores version 1; ``update(config=...)`` adds the next version and makes it current
(earlier versions stay readable with ``retrieve(id, version=N)``); ``delete`` removes the config
and its versions. Every config is validated on save by the gateway's own config parser (errors
name the JSON path, ``config.targets[1].weight``), so a saved config never fails at request time
for its shape. Inline credentials are refused (:func:`~.saved_configs.check_no_secrets`): keys
live in the vault and configs name them with ``virtual_key``.

``Gateway(config="pc-...")`` and ``client_args={"config": "pc-..."}`` run the current version
when this store has the id (else, as before, Portkey's hosted gateway resolves it); a later
version takes effect within the control plane's ``refresh_interval``.
"""

from __future__ import annotations

import builtins
import warnings
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.orm import Session

from ..catalog.models import Actor, actor_from_env
from ..config.schema import parse_config, validate_config
from ..errors import ConfigurationError, ConflictError, InvalidRequestError, ResourceNotFoundError
from ..store.providers import new_id
from ..store.tables import SavedConfigRow, SavedConfigVersionRow, utcnow
from .plane import ControlPlane
from .saved_configs import check_no_secrets
from .views import SyncPaginator, iso

__all__ = ["ConfigScope", "Configs", "SavedConfig", "SavedConfigVersion"]


@dataclass(frozen=True, slots=True)
class SavedConfig:
    """A saved config at one version (the current one unless asked otherwise)."""

    id: str
    name: str
    description: str | None
    version: int
    latest_version: int
    config: dict[str, Any]
    owner: str
    organization_id: str
    created_at: str
    updated_at: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class SavedConfigVersion:
    """One version of a saved config: when and by whom it was written."""

    version: int
    created_by: str
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ConfigScope:
    """The saved configs one reader may see: those of ``organization_id`` (None: none) and ``ids``.

    The admin API gives a member key this scope (its organization's configs, or only those its
    key's ``allowed_configs`` / ``default_config`` name); anything else reads as not found.
    """

    organization_id: str | None
    ids: frozenset[str] = frozenset()

    def where(self) -> ColumnElement[bool]:
        """The rows in scope, as a SQL condition."""
        return or_(SavedConfigRow.organization_id == self.organization_id, SavedConfigRow.id.in_(self.ids))

    def sees(self, row: SavedConfigRow) -> bool:
        """Whether ``row`` is in scope."""
        return row.organization_id == self.organization_id or row.id in self.ids


def _name_taken(session: Session, name: str, config_id: str | None = None) -> None:
    """Saved config names are unique (409 naming ``name``, before the database would refuse)."""
    taken = session.scalars(
        select(SavedConfigRow.id).where(SavedConfigRow.name == name, SavedConfigRow.id != (config_id or ""))
    ).first()
    if taken is not None:
        error = ConflictError(f"a saved config named {name!r} exists ({taken}); names are unique")
        error.path = "name"  # type: ignore[attr-defined]
        raise error


def _validated(config: Any) -> dict[str, Any]:
    """The config as a plain dict, checked by the gateway's parser; errors name the JSON path."""
    try:
        raw = dict(parse_config(config, path="config"))
        check_no_secrets(raw)
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # an unknown key is an error in a stored config
            validate_config(raw, path="config")
    except ConfigurationError as error:
        raise InvalidRequestError(error.reason, path=error.path) from None
    except UserWarning as warning:
        raise InvalidRequestError(f"unknown key(s): {warning}", path="config") from None
    return raw


def _text(value: Any, path: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > (2000 if optional else 200):
        raise InvalidRequestError("expected a non-empty string of at most 200 characters", path=path)
    return value.strip()


class Configs:
    """``gw.configs``: create, list, retrieve (any version), update (a new version), delete.

    Args:
        plane: The control plane.
        actor: Who writes (owner of new configs, author of versions); default the acting user
            (``STRANDS_PORTKEY_USER``). The admin API passes the caller.
        scope: Only these configs exist for this object (a member's view); None: all.
        on_hidden: Called with the reference asked for when it names a config out of ``scope``
            (the admin API logs the attempt), before answering not found.
    """

    def __init__(
        self,
        plane: ControlPlane,
        *,
        actor: Actor | None = None,
        scope: ConfigScope | None = None,
        on_hidden: Callable[[str], None] | None = None,
    ) -> None:
        self._plane = plane
        self._actor = actor
        self._scope = scope
        self._on_hidden = on_hidden

    def _acting(self) -> Actor:
        return self._actor or actor_from_env(self._plane.env)

    def __repr__(self) -> str:
        return "Configs()"

    def _view(self, row: SavedConfigRow, version: SavedConfigVersionRow) -> SavedConfig:
        return SavedConfig(
            id=row.id,
            name=row.name,
            description=row.description,
            version=version.version,
            latest_version=row.version,
            config=dict(version.config),
            owner=row.owner,
            organization_id=row.organization_id,
            created_at=iso(row.created_at) or "",
            updated_at=iso(row.updated_at) or "",
        )

    def _find(self, session: Session, ref: str) -> SavedConfigRow:
        if not isinstance(ref, str) or not ref:
            raise InvalidRequestError(f"expected a saved config id or name, got {ref!r}", path="config_id")
        row = session.scalars(
            select(SavedConfigRow).where(or_(SavedConfigRow.id == ref, SavedConfigRow.name == ref))
        ).first()
        if row is not None and self._scope is not None and not self._scope.sees(row):
            if self._on_hidden is not None:
                self._on_hidden(ref)
            row = None
        if row is None:
            raise ResourceNotFoundError(f"no saved config with id or name {ref!r}")
        return row

    def _written(self) -> None:
        """Gateways of this process see the change at once (others within the refresh interval)."""
        self._plane.saved_configs.refresh()

    def create(
        self, name: str, config: Mapping[str, Any] | str, *, description: str | None = None
    ) -> SavedConfig:
        """Save ``config`` (a dict or JSON string) as version 1 of a new ``pc-...`` config."""
        clean_name = _text(name, "name")
        clean_description = _text(description, "description", optional=True)
        body = _validated(config)
        actor, now = self._acting(), utcnow()
        row = SavedConfigRow(
            id=new_id("pc"),
            name=clean_name,
            description=clean_description,
            version=1,
            owner=actor.user,
            organization_id=actor.organization_id,
            created_at=now,
            updated_at=now,
        )
        first = SavedConfigVersionRow(version=1, config=body, created_by=actor.user, created_at=now)
        row.versions.append(first)
        with self._plane.store.changing() as session:
            _name_taken(session, clean_name or "")
            session.add(row)
        self._written()
        return self._view(row, first)

    def list(self, *, search: str | None = None, limit: int = 50) -> SyncPaginator[SavedConfig]:
        """Saved configs (current versions) by name, ``limit`` per page; ``search`` in the name."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
            raise InvalidRequestError(f"expected a positive integer, got {limit!r}", path="limit")

        where = [self._scope.where() if self._scope is not None else true()]
        if search:
            where.append(SavedConfigRow.name.contains(search, autoescape=True))

        def fetch(offset: int, size: int) -> builtins.list[SavedConfig]:
            statement = (
                select(SavedConfigRow, SavedConfigVersionRow)
                .join(
                    SavedConfigVersionRow,
                    (SavedConfigVersionRow.config_id == SavedConfigRow.id)
                    & (SavedConfigVersionRow.version == SavedConfigRow.version),
                )
                .order_by(SavedConfigRow.name)
            )
            with self._plane.store.reading() as session:
                rows = session.execute(statement.where(*where).offset(offset).limit(size)).all()
                return [self._view(row, version) for row, version in rows]

        def count() -> int:
            with self._plane.store.reading() as session:
                return int(
                    session.scalar(select(func.count()).select_from(SavedConfigRow).where(*where)) or 0
                )

        return SyncPaginator(fetch, limit, count=count)

    def retrieve(self, config_id: str, version: int | None = None) -> SavedConfig:
        """A saved config by id or name, at ``version`` (default: the current one)."""
        if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
            raise InvalidRequestError(f"expected a version number >= 1, got {version!r}", path="version")
        with self._plane.store.reading() as session:
            row = self._find(session, config_id)
            found = session.get(SavedConfigVersionRow, (row.id, version or row.version))
            if found is None:
                raise ResourceNotFoundError(
                    f"saved config {row.id} has no version {version} (versions 1 to {row.version})"
                )
            return self._view(row, found)

    def versions(self, config_id: str) -> builtins.list[SavedConfigVersion]:
        """Every version of a saved config, oldest first."""
        with self._plane.store.reading() as session:
            row = self._find(session, config_id)
            return [
                SavedConfigVersion(v.version, v.created_by, iso(v.created_at) or "") for v in row.versions
            ]

    def update(
        self,
        config_id: str,
        *,
        config: Mapping[str, Any] | str | None = None,
        name: str | None = None,
        description: str | None = None,
    ) -> SavedConfig:
        """Rename / describe, and with ``config`` add the next version and make it current.

        A ``config`` equal to the current version adds no version.

        Gateways running this config switch to the new version within the plane's refresh interval.
        """
        body = None if config is None else _validated(config)
        clean_name = None if name is None else _text(name, "name")
        clean_description = _text(description, "description", optional=True)
        actor, now = self._acting(), utcnow()
        with self._plane.store.changing() as session:
            row = self._find(session, config_id)
            if clean_name is not None:
                _name_taken(session, clean_name, row.id)
                row.name = clean_name
            if description is not None:
                row.description = clean_description
            current = session.get(SavedConfigVersionRow, (row.id, row.version))
            if body is not None and (current is None or current.config != body):
                row.version += 1
                current = SavedConfigVersionRow(
                    config_id=row.id, version=row.version, config=body, created_by=actor.user, created_at=now
                )
                session.add(current)
            row.updated_at = now
            assert current is not None
            view = self._view(row, current)
        self._written()
        return view

    def delete(self, config_id: str) -> dict[str, Any]:
        """Remove a saved config and all its versions (gateways running it keep their last plan)."""
        with self._plane.store.changing() as session:
            row = self._find(session, config_id)
            found = row.id
            session.delete(row)
        self._written()
        return {"id": found, "deleted": True}
