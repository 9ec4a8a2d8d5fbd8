"""``gw.api_keys`` as one caller may use it: an admin manages every key, a member only its own.

The admin API hands each request a :class:`CallerApiKeys` (same methods as
:class:`~.api_keys.ApiKeys`). For both roles, a new key belongs to the caller unless the body
says otherwise (not to the server's ``STRANDS_PORTKEY_USER``). For a member:

- **Only its own keys exist.** Another user's key answers not found, exactly as an unknown id
  does (no existence leak), and ``on_hidden`` is told (the admin API logs the attempt). A listing
  holds the member's own keys only.
- **No key wider than its own.** A member may not set ``user`` / ``organization_id`` to another's,
  ``role`` to ``admin``, nor the limits (``rate_limits`` / ``usage_limits``: an admin's to set; a
  member's new key gets the calling key's limits). ``scopes`` must be granted by the calling key,
  ``allowed_models`` / ``allowed_configs`` stay within its allow-lists, ``default_config`` among
  the configs it may use, ``expires_at`` no later than its own expiry. Each refusal is a
  :class:`~strands_portkey.errors.PermissionDeniedError` (403) naming the field.

Each key counts its own limits: a member holding several keys has each key's rate limits and
budgets, as its admin can see in the listing.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from ..catalog.models import Actor
from ..errors import InvalidRequestError, PermissionDeniedError, ResourceNotFoundError
from .api_key_fields import DEFAULT_SCOPES, ApiKeyPrincipal, ApiKeyUsage, CreatedApiKey, GatewayApiKey
from .api_keys import ApiKeys
from .views import SyncPaginator, iso

__all__ = ["CallerApiKeys"]

_ADMIN_ONLY = ("rate_limits", "usage_limits")


def _denied(message: str, path: str) -> PermissionDeniedError:
    error = PermissionDeniedError(f"{path}: {message}")
    error.path = path  # type: ignore[attr-defined]
    return error


class CallerApiKeys:
    """The keys ``actor`` may manage: all of them (``admin=True``), else its own (see the module).

    Args:
        api_keys: The service (``gw.api_keys``).
        actor: The caller's user and organization: new keys' default owner; a member's scope.
        admin: Whether the caller manages every key.
        granted: The calling key (a member's new keys stay within it); None: a caller without a
            gateway key of the store (no narrowing beyond ownership).
        on_hidden: Told the key id a member asked for when it is another user's.
    """

    def __init__(
        self,
        api_keys: ApiKeys,
        actor: Actor,
        *,
        admin: bool,
        granted: ApiKeyPrincipal | None = None,
        on_hidden: Callable[[str], None] | None = None,
    ) -> None:
        self._keys = api_keys
        self._actor = actor
        self._admin = admin
        self._granted = granted
        self._on_hidden = on_hidden

    def __repr__(self) -> str:
        return f"CallerApiKeys(user={self._actor.user!r}, admin={self._admin})"

    # ------------------------------------------------------------------ ownership

    def _own(self, key: GatewayApiKey) -> bool:
        return key.user == self._actor.user and key.organization_id == self._actor.organization_id

    def _visible(self, key_id: str) -> GatewayApiKey:
        found = self._keys.retrieve(key_id)
        if not self._admin and not self._own(found):
            if self._on_hidden is not None:
                self._on_hidden(key_id)
            raise ResourceNotFoundError(f"no gateway API key with id {key_id!r}")
        return found

    # ------------------------------------------------------------------ a member's bounds

    def _bounded(self, body: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
        """``body`` with a member's defaults filled in, or a 403 naming the field that widens."""
        out = dict(body)
        if self._admin:
            if creating:
                out.setdefault("user", self._actor.user)
                out.setdefault("organization_id", self._actor.organization_id)
            return out
        for field, own in (("user", self._actor.user), ("organization_id", self._actor.organization_id)):
            if field in out and out[field] != own:
                raise _denied(f"a member manages its own keys only (yours: {own!r})", field)
            if creating:
                out[field] = own
        if out.get("role", "member") != "member":
            raise _denied("a member may not make an admin key", "role")
        for field in _ADMIN_ONLY:
            if field in out:
                raise _denied("limits are set by an admin; a member's key has its own key's limits", field)
        granted = self._granted
        if granted is None:
            return out
        if creating:
            out.update(granted.limits.to_dict())
        self._check_scopes(out, granted, creating=creating)
        for field, allowed in (
            ("allowed_models", granted.allowed_models),
            ("allowed_configs", granted.allowed_configs),
        ):
            self._check_allow_list(out, field, allowed, creating=creating)
        default = out.get("default_config")
        if isinstance(default, str) and not granted.may_use_config(default):
            raise _denied(f"your key may not use saved config {default!r}", "default_config")
        self._check_expiry(out, granted.expires_at, creating=creating)
        return out

    @staticmethod
    def _check_scopes(out: dict[str, Any], granted: ApiKeyPrincipal, *, creating: bool) -> None:
        if "scopes" not in out and not creating:
            return
        scopes = out.get("scopes", list(DEFAULT_SCOPES))
        if not isinstance(scopes, list):
            return  # the service names the wrong type
        for index, scope in enumerate(scopes):
            if isinstance(scope, str) and not granted.has_scope(scope):
                path = f"scopes[{index}]" if "scopes" in out else "scopes"
                raise _denied(f"your key does not have the scope {scope!r} to give", path)

    @staticmethod
    def _check_allow_list(
        out: dict[str, Any], field: str, allowed: frozenset[str] | None, *, creating: bool
    ) -> None:
        if allowed is None:
            return
        if field not in out:
            if creating:
                out[field] = sorted(allowed)
            return
        wanted = out[field]
        if wanted is None:
            raise _denied("your key has an allow-list: a key you make must have one within it", field)
        if isinstance(wanted, list):
            for index, item in enumerate(wanted):
                if item not in allowed:
                    raise _denied(f"{item!r} is not in your key's {field}", f"{field}[{index}]")

    @staticmethod
    def _check_expiry(out: dict[str, Any], limit: dt.datetime | None, *, creating: bool) -> None:
        if limit is None:
            return
        if "expires_at" not in out:
            if creating:
                out["expires_at"] = iso(limit)
            return
        wanted = out["expires_at"]
        if wanted is None:
            raise _denied(f"your key expires at {iso(limit)}: a key you make expires no later", "expires_at")
        if isinstance(wanted, str):
            try:
                when = dt.datetime.fromisoformat(wanted.strip().replace("Z", "+00:00"))
            except ValueError:
                raise InvalidRequestError(
                    f"expected an ISO 8601 time, got {wanted!r}", path="expires_at"
                ) from None
            when = when if when.tzinfo is not None else when.replace(tzinfo=dt.timezone.utc)
            if when > limit:
                raise _denied(
                    f"your key expires at {iso(limit)}: a key you make expires no later", "expires_at"
                )

    # ------------------------------------------------------------------ the API

    def create(self, body: Mapping[str, Any]) -> CreatedApiKey:
        """Create a key (the caller's unless an admin names another owner); the secret shown once."""
        if not isinstance(body, Mapping):
            raise InvalidRequestError(f"expected an object, got {type(body).__name__}", path="body")
        return self._keys.create(self._bounded(body, creating=True))

    def list(
        self,
        *,
        user: str | None = None,
        organization_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
    ) -> SyncPaginator[GatewayApiKey]:
        """Keys by creation time; a member's listing holds its own keys only."""
        if self._admin:
            return self._keys.list(user=user, organization_id=organization_id, status=status, limit=limit)
        mine = self._keys.list(
            user=self._actor.user, organization_id=self._actor.organization_id, status=status, limit=limit
        )
        if user not in (None, self._actor.user) or organization_id not in (None, self._actor.organization_id):

            def nothing(offset: int, size: int) -> builtins.list[GatewayApiKey]:
                return []

            return SyncPaginator(nothing, limit, count=lambda: 0)
        return mine

    def retrieve(self, key_id: str) -> GatewayApiKey:
        """One key by id (masked); another user's key is not found for a member."""
        return self._visible(key_id)

    def update(self, key_id: str, body: Mapping[str, Any]) -> GatewayApiKey:
        """Change a key's fields (a member: its own keys, never wider than its calling key)."""
        if not isinstance(body, Mapping):
            raise InvalidRequestError(f"expected an object, got {type(body).__name__}", path="body")
        self._visible(key_id)
        return self._keys.update(key_id, self._bounded(body, creating=False))

    def rotate(self, key_id: str) -> CreatedApiKey:
        """A new secret for the key (shown once); the old one stops."""
        self._visible(key_id)
        return self._keys.rotate(key_id)

    def revoke(self, key_id: str) -> GatewayApiKey:
        """Stop the key for good (kept as ``revoked``)."""
        self._visible(key_id)
        return self._keys.revoke(key_id)

    def usage(self, key_id: str) -> ApiKeyUsage:
        """The key's limits and current usage."""
        self._visible(key_id)
        return self._keys.usage(key_id)
