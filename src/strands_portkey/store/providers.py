"""Provider rows: create, find by id or name, update, delete (credentials and rates cascade).

Bodies accept the providers API's camelCase names (``displayName``, ``baseUrl``) and snake_case.
Providers hold no secret, so this lives with the store, below both the vault and the catalog.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from ..errors import ConflictError, InvalidRequestError, ResourceNotFoundError
from .tables import ProviderRow, utcnow

__all__ = [
    "ProviderRecord",
    "find_provider",
    "get_or_create_provider",
    "new_id",
    "parse_provider_body",
    "provider_record",
]

_ALIASES = {"displayName": "display_name", "baseUrl": "base_url", "apiFormat": "api_format"}
_FIELDS = ("name", "display_name", "base_url", "region", "enabled", "api_format")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")


def new_id(prefix: str) -> str:
    """A random id such as ``key-3f9a0c1d2e4b5a69``."""
    return f"{prefix}-{secrets.token_hex(8)}"


@dataclass(frozen=True, slots=True)
class ProviderRecord:
    """A provider as stored (no credentials or rates; the API layer adds them)."""

    id: str
    name: str
    display_name: str
    base_url: str | None
    region: str | None
    enabled: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    api_format: str | None = None


def provider_record(row: ProviderRow) -> ProviderRecord:
    """The record of a row."""
    return ProviderRecord(
        row.id,
        row.name,
        row.display_name,
        row.base_url,
        row.region,
        row.enabled,
        row.created_at,
        row.updated_at,
        row.api_format,
    )


def _optional_text(value: Any, path: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidRequestError(f"expected a string, got {type(value).__name__}", path=path)
    return value.strip()


def parse_provider_body(body: Mapping[str, Any], *, partial: bool, path: str = "body") -> dict[str, Any]:
    """Validated provider fields (snake_case). ``partial`` for updates (nothing required)."""
    if not isinstance(body, Mapping):
        raise InvalidRequestError(f"expected an object, got {type(body).__name__}", path=path)
    fields: dict[str, Any] = {}
    for key, value in body.items():
        name = _ALIASES.get(key, key)
        if name not in _FIELDS:
            raise InvalidRequestError(
                f"unknown field {key!r}: a provider has name, displayName, baseUrl, region, enabled "
                "and apiFormat",
                path=path,
            )
        fields[name] = value
    if "name" in fields or not partial:
        given = fields.get("name")
        if not isinstance(given, str) or not _NAME.match(given):
            raise InvalidRequestError(
                "a provider needs a 'name': lower-case letters, digits, '.', '_' or '-' (e.g. 'openai')",
                path=f"{path}.name",
            )
    if "enabled" in fields and not isinstance(fields["enabled"], bool):
        raise InvalidRequestError("expected true or false", path=f"{path}.enabled")
    for key in ("display_name", "base_url", "region", "api_format"):
        if key in fields:
            fields[key] = _optional_text(fields[key], f"{path}.{key}")
    if fields.get("api_format") is not None:
        fields["api_format"] = fields["api_format"].lower()
    base_url = fields.get("base_url")
    if base_url is not None:
        if not base_url.startswith(("http://", "https://")):
            raise InvalidRequestError("expected an http:// or https:// URL", path=f"{path}.baseUrl")
        fields["base_url"] = base_url.rstrip("/")
    return fields


def find_provider(session: Session, ref: str, *, path: str = "provider") -> ProviderRow:
    """The provider whose id or name is ``ref``; :class:`ResourceNotFoundError` otherwise."""
    row = session.scalars(
        select(ProviderRow).where(or_(ProviderRow.id == ref, ProviderRow.name == ref))
    ).first()
    if row is None:
        raise ResourceNotFoundError(f"{path}: no provider with id or name {ref!r}")
    return row


def _new_row(fields: Mapping[str, Any]) -> dict[str, Any]:
    name = fields["name"]
    now = utcnow()
    return {
        "id": new_id("prov"),
        "name": name,
        "display_name": fields.get("display_name") or name,
        "base_url": fields.get("base_url"),
        "region": fields.get("region"),
        "enabled": fields.get("enabled", True),
        "api_format": fields.get("api_format"),
        "created_at": now,
        "updated_at": now,
    }


def create_provider(session: Session, fields: Mapping[str, Any]) -> ProviderRow:
    """Insert a provider; :class:`ConflictError` when the name is taken."""
    name = fields["name"]
    if session.scalars(select(ProviderRow.id).where(ProviderRow.name == name)).first() is not None:
        raise ConflictError(f"a provider named {name!r} already exists (provider names are unique)")
    row = ProviderRow(**_new_row(fields))
    session.add(row)
    session.flush()
    return row


def get_or_create_provider(session: Session, name: str) -> ProviderRow:
    """The provider named ``name``, inserted with defaults if missing, in the caller's transaction.

    Safe when several transactions (threads or processes) add the first key of the same new
    provider at once: the insert is ``INSERT ... ON CONFLICT (name) DO NOTHING`` (SQLite and
    PostgreSQL), so a loser of the race inserts nothing, fails nothing, and reads the winner's
    row. A read-then-insert would let both see "missing" and the second insert fail on the
    unique name.
    """
    found = session.scalars(select(ProviderRow).where(ProviderRow.name == name)).first()
    if found is not None:
        return found
    dialect = session.get_bind().dialect.name
    values = _new_row({"name": name})
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        session.execute(
            sqlite.insert(ProviderRow).values(**values).on_conflict_do_nothing(index_elements=["name"])
        )
    elif dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        session.execute(
            postgresql.insert(ProviderRow).values(**values).on_conflict_do_nothing(index_elements=["name"])
        )
    else:  # another backend: a plain insert (a lost race is a ConflictError there)
        return create_provider(session, {"name": name})
    return session.scalars(
        select(ProviderRow).where(ProviderRow.name == name).execution_options(populate_existing=True)
    ).one()


def update_provider(session: Session, row: ProviderRow, fields: Mapping[str, Any]) -> ProviderRow:
    """Apply ``fields`` to ``row``; a rename checks the new name is free."""
    new_name = fields.get("name")
    if new_name is not None and new_name != row.name:
        taken = session.scalars(select(ProviderRow.id).where(ProviderRow.name == new_name)).first()
        if taken is not None:
            raise ConflictError(f"a provider named {new_name!r} already exists (provider names are unique)")
    for key, value in fields.items():
        missing_display = key == "display_name" and value is None
        setattr(row, key, (fields.get("name") or row.name) if missing_display else value)
    row.updated_at = utcnow()
    session.flush()
    return row


def delete_provider(session: Session, row: ProviderRow) -> None:
    """Delete a provider; the database cascades its credentials and rates."""
    session.execute(delete(ProviderRow).where(ProviderRow.id == row.id))
