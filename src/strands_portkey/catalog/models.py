"""The AI model registry: registered models (third-party and self-hosted), defaults, permissions.

A registered model names where it runs (``provider`` + ``vendor_model_id``), what it is
(``model_type``: chat, completion, embedding; ``capabilities``; ``max_tokens``;
``context_window``) and its request defaults (``config``: ``default_temperature``,
``default_max_tokens``, ``default_top_p``). Requests may name it by id or by name.

**Permissions.** A model belongs to the acting user who registered it (``owner``) and their
organization. A user may see and use a model they own, one whose ``shared_with`` lists them, or
one ``is_shared`` with their organization; only the owner may change or delete it (an actor with
``admin`` set -- an admin gateway key on the server -- sees and changes every model). A model
an actor may not see is "not found", never "forbidden": its existence is not revealed. The acting
user comes from ``STRANDS_PORTKEY_USER`` / ``STRANDS_PORTKEY_ORGANIZATION`` (default
``local`` / ``local``: one user owns everything on a personal machine).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Boolean, String, false, func, literal, or_, select, true
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from ..config.resolve import build_plan
from ..errors import (
    ConfigurationError,
    ConflictError,
    InvalidRequestError,
    PermissionDeniedError,
    ResourceNotFoundError,
)
from ..store.providers import new_id
from ..store.tables import AIModelRow, utcnow

__all__ = [
    "MODEL_STATUSES",
    "MODEL_TYPES",
    "Actor",
    "actor_from_env",
    "can_use",
    "check_filters",
    "count_models",
    "create_model",
    "find_model",
    "parse_model_body",
    "query_models",
    "route_config",
    "update_model",
    "visible_to",
]

USER_ENV, ORGANIZATION_ENV = "STRANDS_PORTKEY_USER", "STRANDS_PORTKEY_ORGANIZATION"
MODEL_TYPES = ("third-party", "self-hosted")
CAPABILITY_TYPES = ("chat", "completion", "embedding")
MODEL_STATUSES = ("active", "deploying", "stopped", "failed")
DEFAULT_KEYS = {
    "default_temperature": "temperature",
    "default_max_tokens": "max_tokens",
    "default_top_p": "top_p",
}
ROUTE_KEYS = ("custom_host", "retry", "request_timeout", "cache")
"""Keys of a model's ``config`` that shape its own route (Portkey target fields, validated as such)."""
_EDITABLE = (
    "name",
    "type",
    "provider",
    "vendor_model_id",
    "model_type",
    "description",
    "capabilities",
    "max_tokens",
    "context_window",
    "config",
)
_ON_CREATE = (*_EDITABLE, "is_shared", "shared_with")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a user id and their organization; an ``admin`` sees and changes every model."""

    user: str
    organization_id: str
    admin: bool = False


def actor_from_env(env: Mapping[str, str]) -> Actor:
    """The acting user from ``STRANDS_PORTKEY_USER`` / ``STRANDS_PORTKEY_ORGANIZATION``."""
    return Actor(env.get(USER_ENV) or "local", env.get(ORGANIZATION_ENV) or "local")


class Shareable(Protocol):
    """What a permission check reads of a model: a row, or the registry's in-memory entry."""

    @property
    def owner(self) -> str: ...

    @property
    def organization_id(self) -> str: ...

    @property
    def is_shared(self) -> bool: ...

    @property
    def shared_with(self) -> Collection[str] | None: ...


def can_use(model: Shareable, actor: Actor) -> bool:
    """Whether ``actor`` may see and use ``model`` (admin, owner, in shared_with, or shared with the org)."""
    return (
        actor.admin
        or model.owner == actor.user
        or actor.user in (model.shared_with or ())
        or (model.is_shared and model.organization_id == actor.organization_id)
    )


def visible_to(actor: Actor) -> ColumnElement[bool]:
    """The SQL form of :func:`can_use`: ``shared_with`` is decoded by the database, then compared.

    The JSON list is expanded (SQLite ``json_each``, PostgreSQL ``json_array_elements_text``) and
    each element compared with ``=``, so a user id matches exactly what ``can_use`` matches: no
    pattern characters, no JSON escapes (the serializer writes non-ASCII ids escaped), no substrings.
    """
    if actor.admin:
        return true()
    listed = _ListsUser(AIModelRow.shared_with, literal(actor.user, String()))
    shared = AIModelRow.is_shared.is_(True) & (AIModelRow.organization_id == actor.organization_id)
    return or_(AIModelRow.owner == actor.user, listed, shared)


class _ListsUser(FunctionElement[bool]):
    """``EXISTS`` an element of the JSON list (first argument) equal to the text (second argument)."""

    type = Boolean()
    inherit_cache = True
    name = "lists_user"


@compiles(_ListsUser, "sqlite")
def _lists_user_sqlite(element: _ListsUser, compiler: SQLCompiler, **kw: Any) -> str:
    column, user = (compiler.process(clause, **kw) for clause in element.clauses)
    # most models list nobody: skip decoding their '[]' (the same answer, far cheaper per row)
    listed = f"EXISTS (SELECT 1 FROM json_each({column}) AS shared WHERE shared.value = {user})"
    return f"({column} != '[]' AND {listed})"


@compiles(_ListsUser, "postgresql")
def _lists_user_postgresql(element: _ListsUser, compiler: SQLCompiler, **kw: Any) -> str:
    column, user = (compiler.process(clause, **kw) for clause in element.clauses)
    array = f"CASE WHEN json_typeof({column}) = 'array' THEN {column} ELSE '[]'::json END"
    elements = f"json_array_elements_text({array}) AS shared(value)"
    return f"EXISTS (SELECT 1 FROM {elements} WHERE shared.value = {user})"


@compiles(_ListsUser)
def _lists_user_other(element: _ListsUser, compiler: SQLCompiler, **kw: Any) -> str:
    raise CompileError(
        f"model permissions need SQLite or PostgreSQL (JSON list functions); got {compiler.dialect.name}"
    )


def _text(body: Mapping[str, Any], key: str, path: str, *, required: bool, limit: int = 200) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidRequestError(
            f"expected a non-empty string of at most {limit} characters, got {value!r}",
            path=f"{path}.{key}",
        )
    return value.strip()


def _choice(body: Mapping[str, Any], key: str, path: str, choices: tuple[str, ...], default: str) -> str:
    value = body.get(key, default)
    if value not in choices:
        raise InvalidRequestError(
            f"expected one of {', '.join(choices)}, got {value!r}", path=f"{path}.{key}"
        )
    return str(value)


def _count(body: Mapping[str, Any], key: str, path: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidRequestError(f"expected a positive integer, got {value!r}", path=f"{path}.{key}")
    return value


def _strings(body: Mapping[str, Any], key: str, path: str) -> list[str]:
    value = body.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise InvalidRequestError(f"expected a list of strings, got {value!r}", path=f"{path}.{key}")
    return list(dict.fromkeys(value))


def _config(body: Mapping[str, Any], path: str) -> dict[str, Any]:
    value = body.get("config") or {}
    if not isinstance(value, Mapping):
        raise InvalidRequestError(f"expected an object, got {value!r}", path=f"{path}.config")
    try:  # the route keys are target fields of a Portkey config: checked as one, now
        build_plan(route_config("openai", value))
    except ConfigurationError as error:
        where = (error.path or "config").removeprefix("config")
        raise InvalidRequestError(error.reason, path=f"{path}.config{where}") from None
    return dict(value)


def route_config(provider: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """A model's own route: a Portkey target for ``provider`` with the ``ROUTE_KEYS`` of ``config``."""
    return {"provider": provider, **{key: config[key] for key in ROUTE_KEYS if key in config}}


def parse_model_body(body: Mapping[str, Any], *, partial: bool, path: str = "body") -> dict[str, Any]:
    """The checked fields of a create (``partial=False``) or update body; unknown fields are refused."""
    if not isinstance(body, Mapping):
        raise InvalidRequestError(f"expected an object, got {type(body).__name__}", path=path)
    allowed = _EDITABLE if partial else _ON_CREATE
    for key in body:
        if key not in allowed:
            hint = " (use update_permissions)" if key in ("is_shared", "shared_with") else ""
            hint = " (the owner is the acting user)" if key in ("owner", "organization_id") else hint
            hint = " (status follows deploy / start / stop)" if key == "status" else hint
            raise InvalidRequestError(
                f"not a field you can set here{hint}; fields: {', '.join(allowed)}",
                path=f"{path}.{key}",
            )
    checks: dict[str, Callable[[], Any]] = {
        "name": lambda: _text(body, "name", path, required=True),
        "type": lambda: _choice(body, "type", path, MODEL_TYPES, "third-party"),
        "provider": lambda: _text(body, "provider", path, required=True, limit=100),
        "vendor_model_id": lambda: _text(body, "vendor_model_id", path, required=True),
        "model_type": lambda: _choice(body, "model_type", path, CAPABILITY_TYPES, "chat"),
        "description": lambda: _text(body, "description", path, required=False, limit=10_000),
        "capabilities": lambda: _strings(body, "capabilities", path),
        "max_tokens": lambda: _count(body, "max_tokens", path),
        "context_window": lambda: _count(body, "context_window", path),
        "config": lambda: _config(body, path),
        "is_shared": lambda: bool(body.get("is_shared", False)),
        "shared_with": lambda: _strings(body, "shared_with", path),
    }
    keys = [key for key in allowed if key in body] if partial else list(allowed)
    return {key: checks[key]() for key in keys}


def _unique_name(session: Session, name: str, model_id: str | None) -> None:
    taken = session.execute(
        select(AIModelRow.id, AIModelRow.name).where(func.lower(AIModelRow.name) == name.lower())
    ).first()
    if taken is not None and taken.id != model_id:
        raise ConflictError(f"a model named {taken.name!r} already exists (names are unique, ignoring case)")


def create_model(session: Session, fields: Mapping[str, Any], actor: Actor) -> AIModelRow:
    """Register a model owned by ``actor``: third-party ones are ``active``, self-hosted ``stopped``."""
    _unique_name(session, fields["name"], None)
    now = utcnow()
    row = AIModelRow(
        id=new_id("model"),
        status="active" if fields["type"] == "third-party" else "stopped",
        owner=actor.user,
        organization_id=actor.organization_id,
        created_at=now,
        updated_at=now,
        **fields,
    )
    session.add(row)
    session.flush()
    return row


def find_model(
    session: Session,
    ref: str,
    actor: Actor,
    *,
    owner_only: bool = False,
    on_hidden: Callable[[str], None] | None = None,
) -> AIModelRow:
    """The model with id or name ``ref`` that ``actor`` may see (or change, with ``owner_only``).

    A model ``actor`` may not see is not found, exactly as a missing one (its existence is not
    revealed); ``on_hidden`` is told its id (the REST face logs the probe). One it may see but
    not change (``owner_only``, not the owner, not an admin) is a permission error.
    """
    row = session.get(AIModelRow, ref) or session.scalar(select(AIModelRow).where(AIModelRow.name == ref))
    if row is not None and not can_use(row, actor):
        if on_hidden is not None:
            on_hidden(row.id)
        row = None
    if row is None:
        raise ResourceNotFoundError(f"no registered model has the id or name {ref!r}")
    if owner_only and row.owner != actor.user and not actor.admin:
        raise PermissionDeniedError(f"only the owner ({row.owner!r}) may change model {row.id!r}")
    return row


def update_model(session: Session, row: AIModelRow, fields: Mapping[str, Any]) -> AIModelRow:
    """Apply checked ``fields`` to ``row``."""
    if "name" in fields:
        _unique_name(session, fields["name"], row.id)
    for key, value in fields.items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    session.flush()
    return row


def _filtered(statement: Any, actor: Actor, filters: Mapping[str, str | None]) -> Any:
    """``statement`` narrowed to what ``actor`` may see and the listing filters given."""
    statement = statement.where(visible_to(actor))
    for name in ("type", "status", "provider", "model_type"):
        if filters.get(name) is not None:
            statement = statement.where(getattr(AIModelRow, name) == filters[name])
    search = filters.get("search")
    if search:
        pattern = f"%{search.lower()}%"
        statement = statement.where(
            or_(
                func.lower(AIModelRow.name).like(pattern),
                func.lower(AIModelRow.vendor_model_id).like(pattern),
                func.lower(func.coalesce(AIModelRow.description, "")).like(pattern),
                false(),
            )
        )
    return statement


def check_filters(**filters: str | None) -> None:
    """Refuse a listing filter outside its choices (``type``, ``status``, ``model_type``), naming it."""
    choices = {"type": MODEL_TYPES, "status": MODEL_STATUSES, "model_type": CAPABILITY_TYPES}
    for name, value in filters.items():
        allowed = choices.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or (allowed is not None and value not in allowed):
            expected = f"one of {', '.join(allowed)}" if allowed else "a string"
            raise InvalidRequestError(f"expected {expected}, got {value!r}", path=name)


def query_models(
    session: Session, actor: Actor, *, offset: int = 0, limit: int = 50, **filters: str | None
) -> list[AIModelRow]:
    """One page of the models ``actor`` may see, by name.

    ``filters``: ``search``, ``type``, ``status``, ``provider``, ``model_type`` (None: any).
    """
    statement = _filtered(select(AIModelRow), actor, filters)
    statement = statement.order_by(AIModelRow.name, AIModelRow.id).offset(offset).limit(limit)
    return list(session.scalars(statement))


def count_models(session: Session, actor: Actor, **filters: str | None) -> int:
    """How many models ``actor`` may see match the filters (a listing's ``total``)."""
    statement = _filtered(select(func.count()).select_from(AIModelRow), actor, filters)
    return int(session.scalar(statement) or 0)
