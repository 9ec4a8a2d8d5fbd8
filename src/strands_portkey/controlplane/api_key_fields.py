"""Gateway API keys' fields: validation (errors name the field), the principal, the API views.

A key belongs to a user and an organization, has a ``role`` (``admin`` or ``member``), ``scopes``
(strings such as ``completions.write``; ``*`` and ``configs.*`` wildcards), optional allow-lists
of models and saved configs (``None``: any), a ``default_config`` (a saved config id), an
``expires_at`` and Portkey's shapes for ``rate_limits`` and ``usage_limits``
(:mod:`strands_portkey.limits.model`). Nothing here holds the key itself.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ..catalog.models import Actor
from ..errors import ConfigurationError, InvalidRequestError
from ..limits import Limits, LimitsUsage
from ..store.tables import ApiKeyRow
from .views import iso

__all__ = [
    "DEFAULT_SCOPES",
    "ROLES",
    "ApiKeyPrincipal",
    "ApiKeyUsage",
    "CreatedApiKey",
    "GatewayApiKey",
    "gateway_api_key",
    "parse_api_key_body",
    "principal_of",
]

ROLES = ("admin", "member")
DEFAULT_SCOPES = ("completions.write",)
_SCOPE = re.compile(r"^[A-Za-z0-9_.:*-]{1,100}$")
_FIELDS = (
    "name",
    "description",
    "user",
    "organization_id",
    "role",
    "scopes",
    "allowed_models",
    "allowed_configs",
    "default_config",
    "expires_at",
    "rate_limits",
    "usage_limits",
)


@dataclass(frozen=True, slots=True)
class ApiKeyPrincipal:
    """Who a request acts as, from its gateway API key: user, organization, role, what it may use.

    ``id`` is the key's id (stable across rotations; limits count per id). Carries no secret.
    """

    id: str
    name: str
    user: str
    organization_id: str
    role: str
    scopes: frozenset[str]
    allowed_models: frozenset[str] | None
    allowed_configs: frozenset[str] | None
    default_config: str | None
    expires_at: dt.datetime | None
    limits: Limits = field(default_factory=Limits)

    @property
    def actor(self) -> Actor:
        """The user and organization to check registered models' permissions with."""
        return Actor(self.user, self.organization_id)

    @property
    def is_admin(self) -> bool:
        """Whether the key has the ``admin`` role."""
        return self.role == "admin"

    def has_scope(self, scope: str) -> bool:
        """Whether ``scope`` is granted: exactly, by ``*``, or by ``prefix.*``."""
        if scope in self.scopes or "*" in self.scopes:
            return True
        parts = scope.split(".")
        return any(".".join(parts[:i]) + ".*" in self.scopes for i in range(1, len(parts)))

    def may_use_model(self, model: str) -> bool:
        """Whether requests with this key may name ``model`` (no allow-list: any)."""
        return self.allowed_models is None or model in self.allowed_models

    def may_use_config(self, config_id: str) -> bool:
        """Whether requests with this key may name saved config ``config_id`` (no allow-list: any)."""
        return self.allowed_configs is None or config_id in self.allowed_configs


@dataclass(frozen=True, slots=True)
class GatewayApiKey:
    """A gateway API key as the API shows it: masked (``spk-…abcd``), never the key."""

    id: str
    name: str
    description: str | None
    masked_key: str
    user: str
    organization_id: str
    role: str
    scopes: list[str]
    allowed_models: list[str] | None
    allowed_configs: list[str] | None
    default_config: str | None
    rate_limits: list[dict[str, Any]]
    usage_limits: list[dict[str, Any]]
    status: str  # active, expired, revoked
    expires_at: str | None
    revoked_at: str | None
    rotated_at: str | None
    created_at: str
    updated_at: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class CreatedApiKey:
    """What ``create`` and ``rotate`` return: the stored key, and the key itself, shown this once.

    ``key`` is not in the ``repr`` (it would end up in logs); read it and hand it over.
    """

    api_key: GatewayApiKey
    key: str = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The key's fields plus ``key`` (for the one response that shows it)."""
        return {**self.api_key.to_dict(), "key": self.key}


@dataclass(frozen=True, slots=True)
class ApiKeyUsage:
    """A key's limits and what it has used of them now (``gw.api_keys.usage``).

    ``counted_in`` says whose counts these are: ``redis`` (every worker sharing that Redis),
    ``memory`` (this process only: one server worker), or None when nothing counts the key here
    (an in-process gateway without ``STRANDS_PORTKEY_REDIS_URL``); then the limits come without
    numbers. Each item of ``rate_limits`` / ``usage_limits`` is a
    :class:`~strands_portkey.limits.RateLimitUsage` / :class:`~strands_portkey.limits.UsageLimitUsage`.
    """

    key_id: str
    counted_in: str | None
    rate_limits: list[dict[str, Any]]
    usage_limits: list[dict[str, Any]]

    @classmethod
    def of(cls, key_id: str, counted_in: str | None, usage: LimitsUsage) -> ApiKeyUsage:
        """From the engine's reading."""
        shaped = usage.to_dict()
        return cls(key_id, counted_in, shaped["rate_limits"], shaped["usage_limits"])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def status_of(row: ApiKeyRow, now: dt.datetime) -> str:
    """``revoked``, ``expired`` or ``active``."""
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    return "active"


def gateway_api_key(row: ApiKeyRow, now: dt.datetime) -> GatewayApiKey:
    """The API view of a row."""
    return GatewayApiKey(
        id=row.id,
        name=row.name,
        description=row.description,
        masked_key=f"spk-…{row.hint}",
        user=row.user,
        organization_id=row.organization_id,
        role=row.role,
        scopes=list(row.scopes),
        allowed_models=None if row.allowed_models is None else list(row.allowed_models),
        allowed_configs=None if row.allowed_configs is None else list(row.allowed_configs),
        default_config=row.default_config,
        rate_limits=[dict(limit) for limit in row.rate_limits],
        usage_limits=[dict(limit) for limit in row.usage_limits],
        status=status_of(row, now),
        expires_at=iso(row.expires_at),
        revoked_at=iso(row.revoked_at),
        rotated_at=iso(row.rotated_at),
        created_at=iso(row.created_at) or "",
        updated_at=iso(row.updated_at) or "",
    )


def principal_of(row: ApiKeyRow) -> ApiKeyPrincipal:
    """The principal a request with this key acts as (limits parsed once, here)."""
    return ApiKeyPrincipal(
        id=row.id,
        name=row.name,
        user=row.user,
        organization_id=row.organization_id,
        role=row.role,
        scopes=frozenset(row.scopes),
        allowed_models=None if row.allowed_models is None else frozenset(row.allowed_models),
        allowed_configs=None if row.allowed_configs is None else frozenset(row.allowed_configs),
        default_config=row.default_config,
        expires_at=row.expires_at,
        limits=Limits.parse(row.rate_limits, row.usage_limits),
    )


# --------------------------------------------------------------------------- validation


def parse_api_key_body(body: Mapping[str, Any], *, partial: bool, now: dt.datetime) -> dict[str, Any]:
    """The validated fields of a create (``partial=False``) or update body; errors name the field.

    Limits come back in Portkey's shapes, normalised (``usage_limits`` always a list).
    """
    if not isinstance(body, Mapping):
        raise InvalidRequestError(f"expected an object, got {type(body).__name__}", path="body")
    unknown = sorted(str(key) for key in body if key not in _FIELDS)
    if unknown:
        raise InvalidRequestError(f"unknown field(s) {unknown}; known: {sorted(_FIELDS)}", path="body")
    if not partial and "name" not in body:
        raise InvalidRequestError("required", path="name")
    out: dict[str, Any] = {}
    for key, value in body.items():
        out[key] = _FIELD_CHECKS[key](value, key, now)
    if "rate_limits" in body or "usage_limits" in body:
        try:
            limits = Limits.parse(out.pop("rate_limits", None), out.pop("usage_limits", None))
        except ConfigurationError as error:
            raise InvalidRequestError(error.reason, path=error.path) from None
        shaped = limits.to_dict()
        out.update({key: shaped[key] for key in ("rate_limits", "usage_limits") if key in body})
    return out


def _text(value: Any, path: str, now: dt.datetime, *, size: int = 200) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > size:
        raise InvalidRequestError(f"expected a non-empty string of at most {size} characters", path=path)
    return value.strip()


def _optional_text(value: Any, path: str, now: dt.datetime) -> str | None:
    return None if value is None else _text(value, path, now, size=2000)


def _role(value: Any, path: str, now: dt.datetime) -> str:
    if value not in ROLES:
        raise InvalidRequestError(f"expected one of {', '.join(ROLES)}, got {value!r}", path=path)
    return str(value)


def _strings(value: Any, path: str, *, pattern: re.Pattern[str] | None = None) -> list[str]:
    if not isinstance(value, list | tuple):
        raise InvalidRequestError(f"expected a list of strings, got {type(value).__name__}", path=path)
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item or (pattern is not None and not pattern.match(item)):
            raise InvalidRequestError(f"expected a non-empty string, got {item!r}", path=f"{path}[{index}]")
    return list(dict.fromkeys(value))


def _scopes(value: Any, path: str, now: dt.datetime) -> list[str]:
    return _strings(value, path, pattern=_SCOPE)


def _allow_list(value: Any, path: str, now: dt.datetime) -> list[str] | None:
    return None if value is None else _strings(value, path)


def _config_ids(value: Any, path: str, now: dt.datetime) -> list[str] | None:
    found = _allow_list(value, path, now)
    for index, item in enumerate(found or ()):
        _config_id(item, f"{path}[{index}]", now)
    return found


def _config_id(value: Any, path: str, now: dt.datetime) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith("pc-") or len(value) > 40:
        raise InvalidRequestError(f"expected a saved config id ('pc-...'), got {value!r}", path=path)
    return value


def _expiry(value: Any, path: str, now: dt.datetime) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidRequestError(f"expected an ISO 8601 time, got {value!r}", path=path) from None
    if not isinstance(value, dt.datetime):
        raise InvalidRequestError(f"expected an ISO 8601 time or a datetime, got {value!r}", path=path)
    when = (
        value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)
    )
    if when <= now:
        raise InvalidRequestError(f"must be in the future, got {iso(when)}", path=path)
    return when


def _passthrough(value: Any, path: str, now: dt.datetime) -> Any:
    return value  # limits: validated together by Limits.parse


_FIELD_CHECKS: Mapping[str, Any] = {
    "name": _text,
    "description": _optional_text,
    "user": _text,
    "organization_id": _text,
    "role": _role,
    "scopes": _scopes,
    "allowed_models": _allow_list,
    "allowed_configs": _config_ids,
    "default_config": _config_id,
    "expires_at": _expiry,
    "rate_limits": _passthrough,
    "usage_limits": _passthrough,
}
