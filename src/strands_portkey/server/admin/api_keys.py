"""``/api/keys``: the gateway's own API keys over HTTP, thin handlers over ``gw.api_keys``.

List, create (the secret in that one answer), retrieve, update, rotate (a new secret, in that one
answer), revoke, and ``usage``: each limit with what the key has used of it now. JSON fields are
:class:`~strands_portkey.controlplane.api_keys.GatewayApiKey`'s own; create and rotate add
``key``. Every route is open to members, narrowed by
:class:`~strands_portkey.controlplane.api_keys_view.CallerApiKeys`: a member manages its own keys
only, never wider than the key it calls with; another user's key answers 404 (logged). A field
the service refuses answers 400 / 403 with its path in the request (``body.rate_limits[0].unit``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import Field
from starlette.requests import Request

from ...controlplane.api_keys_view import CallerApiKeys
from ...errors import GatewayError
from .bodies import Body, Limit, Offset, fields_set
from .caller import CallerDep
from .services import ServicesDep, hidden_logger

__all__ = ["request_paths", "router"]

_FIRST = re.compile(r"^[^.\[]+")
_KEY = {"key_id": "path.key_id"}


@contextlib.contextmanager
def request_paths(where: Mapping[str, str]) -> Iterator[None]:
    """Re-raise the service's field errors with their place in the request.

    The service names fields as the Python API takes them (``rate_limits[0].unit``); here they are
    ``body.`` fields unless ``where`` maps the first name elsewhere (``key_id`` -> ``path.key_id``).
    """
    try:
        yield
    except GatewayError as error:
        path = getattr(error, "path", None)
        if not isinstance(path, str) or path in ("", "body") or path.startswith(("body.", "path.", "query.")):
            raise
        first = _FIRST.match(path)
        head = first.group(0) if first else path
        longer = where.get(head, f"body.{head}") + path[len(head) :]
        error.path = longer  # type: ignore[attr-defined]
        if error.message.startswith(f"{path}: "):
            error.message = f"{longer}: {error.message[len(path) + 2 :]}"
        raise


class RateLimitBody(Body):
    """A rate limit (Portkey's shape): at most ``value`` requests or tokens per ``unit``."""

    type: Literal["requests", "tokens"]
    unit: Literal["rps", "rpm", "rph", "rpd"]
    value: int = Field(ge=1)


class UsageLimitBody(Body):
    """A budget (Portkey's shape): ``credit_limit`` USD or tokens per period."""

    credit_limit: float = Field(gt=0)
    type: Literal["cost", "tokens"] = "cost"
    alert_threshold: float | None = Field(default=None, gt=0)
    periodic_reset: Literal["daily", "weekly", "monthly"] | None = None


class KeyFields(Body):
    """The fields of a key that an update may change (any subset)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    user: str | None = Field(default=None, min_length=1, max_length=200)
    organization_id: str | None = Field(default=None, min_length=1, max_length=200)
    role: Literal["admin", "member"] | None = None
    scopes: list[str] | None = None
    allowed_models: list[str] | None = None
    allowed_configs: list[str] | None = None
    default_config: str | None = None
    expires_at: dt.datetime | None = Field(default=None, strict=False, description="ISO 8601, in the future")
    rate_limits: list[RateLimitBody] | None = None
    usage_limits: UsageLimitBody | list[UsageLimitBody] | None = None


class NewKey(KeyFields):
    """``POST /api/keys``: a new key; ``user`` / ``organization_id`` default to the caller's."""

    name: str = Field(min_length=1, max_length=200)


def _keys(request: Request, caller: CallerDep, services: ServicesDep) -> CallerApiKeys:
    return services.api_keys_for(caller, hidden_logger(request, caller, "gateway API key"))


KeysDep = Annotated[CallerApiKeys, Depends(_keys)]


def router() -> APIRouter:
    """The gateway API key routes (each has its rule in ``roles.ROUTE_ROLES``)."""
    r = APIRouter(prefix="/api/keys", tags=["gateway API keys"])

    @r.get("", summary="Gateway API keys (a member: its own), oldest first")
    def list_keys(  # noqa: PLR0917 (FastAPI: one parameter per query field)
        keys: KeysDep,
        user: str | None = Query(default=None, max_length=200),
        organization_id: str | None = Query(default=None, max_length=200),
        status: Literal["active", "expired", "revoked"] | None = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        found = keys.list(user=user, organization_id=organization_id, status=status, limit=limit)
        data = [key.to_dict() for key in found.page(offset)]
        return {"data": data, "total": found.total(), "limit": limit, "offset": offset}

    @r.post("", status_code=201, summary="Create a key: its secret is in this answer only")
    def create_key(body: NewKey, keys: KeysDep) -> dict[str, Any]:
        with request_paths(_KEY):
            return keys.create(fields_set(body)).to_dict()

    @r.get("/{key_id}", summary="A key (masked)")
    def get_key(key_id: str, keys: KeysDep) -> dict[str, Any]:
        with request_paths(_KEY):
            return keys.retrieve(key_id).to_dict()

    @r.patch("/{key_id}", summary="Change a key's fields; in force on every worker within 1 s")
    def update_key(key_id: str, body: KeyFields, keys: KeysDep) -> dict[str, Any]:
        with request_paths(_KEY):
            return keys.update(key_id, fields_set(body)).to_dict()

    @r.post("/{key_id}/rotate", summary="A new secret (in this answer only); the old one stops")
    def rotate_key(key_id: str, keys: KeysDep) -> dict[str, Any]:
        with request_paths(_KEY):
            return keys.rotate(key_id).to_dict()

    @r.post("/{key_id}/revoke", summary="Stop a key for good (kept as revoked)")
    def revoke_key(key_id: str, keys: KeysDep) -> dict[str, Any]:
        with request_paths(_KEY):
            return keys.revoke(key_id).to_dict()

    @r.get("/{key_id}/usage", summary="The key's limits and what it has used of them now")
    def key_usage(key_id: str, keys: KeysDep) -> dict[str, Any]:
        with request_paths(_KEY):
            return keys.usage(key_id).to_dict()

    return r
