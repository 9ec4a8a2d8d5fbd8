"""Gateway API keys on the server: who a request is from, and what its key lets it do.

:class:`GatewayKeyAuth` is the server's :class:`~strands_portkey.server.auth.Authenticator` over
``gw.api_keys`` (:class:`~strands_portkey.controlplane.api_keys.ApiKeys`): it claims ``spk-...``
tokens, authenticates them from the in-memory snapshot (a revoked or expired key stops working on
every worker within one second) and turns the key into a :class:`Principal` whose ``identity``
(the key's user, organization and id, never the key) goes into every request's metadata: analytics
records carry it, and registered models' permissions are checked against that user.

:func:`authorize` applies the key's grants before a call: the ``admin`` role passes every scope
check, a ``member`` needs the endpoint's scope (``completions.write`` for the data plane); a key
with ``allowed_models`` may name only those. A registered model the key's user may not see, and a
saved config outside the key's ``allowed_configs``, are *not found* (404), never *forbidden*: a
member learns nothing about others' objects.

``STRANDS_PORTKEY_ADMIN_KEY`` (an ``spk-`` key of your choosing) is accepted as an admin key
with no limits, compared in constant time; it is the bootstrap key of a fresh deployment.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..catalog.models import actor_from_env, can_use
from ..controlplane.api_key_fields import ApiKeyPrincipal
from ..errors import ConfigurationError, InvalidApiKeyError, PermissionDeniedError, ResourceNotFoundError
from ..model_routes import KEY_ID_METADATA, ORGANIZATION_METADATA, USER_METADATA
from .auth import Principal, require_key
from .errors import UnauthorizedError

if TYPE_CHECKING:
    from ..controlplane import ControlPlane
    from ..controlplane.api_keys import ApiKeys
    from ..controlplane.saved_configs import SavedConfigEntry

__all__ = [
    "ADMIN_KEY_ENV",
    "ADMIN_KEY_ID",
    "INFERENCE_SCOPE",
    "GatewayKeyAuth",
    "authorize",
    "check_admin_key",
    "check_registered_model",
    "saved_configs_of",
]

ADMIN_KEY_ENV = "STRANDS_PORTKEY_ADMIN_KEY"
ADMIN_KEY_ID = "ak-admin-env"
INFERENCE_SCOPE = "completions.write"
_PREFIX = "spk-"
_MIN_ADMIN_KEY = 36


def check_admin_key(value: str) -> str:
    """``STRANDS_PORTKEY_ADMIN_KEY`` as given, or a ConfigurationError saying what it must look like."""
    value = value.strip()
    if not value.startswith(_PREFIX) or len(value) < _MIN_ADMIN_KEY or not value.isascii():
        raise ConfigurationError(
            f"expected '{_PREFIX}' and at least {_MIN_ADMIN_KEY - len(_PREFIX)} more ASCII characters "
            "(e.g. python -c \"import secrets; print('spk-' + secrets.token_urlsafe(32))\")",
            path=ADMIN_KEY_ENV,
        )
    return value


def _principal(key: ApiKeyPrincipal) -> Principal:
    identity = {KEY_ID_METADATA: key.id, USER_METADATA: key.user, ORGANIZATION_METADATA: key.organization_id}
    return Principal(key_id=key.id, name=key.name, identity=identity, key=key)


class GatewayKeyAuth:
    """The server's authenticator over ``gw.api_keys`` (and the admin key from the environment).

    Args:
        api_keys: The keys' snapshot (``ApiKeys(plane)``).
        env: Where ``STRANDS_PORTKEY_ADMIN_KEY`` and the admin key's user are read.
    """

    def __init__(self, api_keys: ApiKeys, env: Mapping[str, str]) -> None:
        self.api_keys = api_keys
        raw = env.get(ADMIN_KEY_ENV, "")
        self._admin_key = check_admin_key(raw).encode() if raw.strip() else None
        actor = actor_from_env(env)
        self._admin = _principal(
            ApiKeyPrincipal(
                id=ADMIN_KEY_ID,
                name=ADMIN_KEY_ENV,
                user=actor.user,
                organization_id=actor.organization_id,
                role="admin",
                scopes=frozenset({"*"}),
                allowed_models=None,
                allowed_configs=None,
                default_config=None,
                expires_at=None,
            )
        )
        self._principals: dict[str, Principal] = {}

    def __repr__(self) -> str:
        return f"GatewayKeyAuth({self.api_keys!r}, admin_key={'set' if self._admin_key else 'unset'})"

    def claims(self, token: str) -> bool:
        """``spk-...`` tokens are gateway keys (then ``Authorization`` carries no provider key)."""
        return token.startswith(_PREFIX)

    async def authenticate(self, headers: Mapping[str, str]) -> Principal:
        """The caller of a request; 401 naming why (no key, unknown, revoked, expired), never the key."""
        presented = require_key(headers, self)
        if self._admin_key is not None and hmac.compare_digest(presented.value.encode(), self._admin_key):
            return self._admin
        try:
            key = self.api_keys.authenticate(presented.value)
        except InvalidApiKeyError as error:
            raise UnauthorizedError(error.message) from None
        return self.principal_of(key)

    def principal_of(self, key: ApiKeyPrincipal) -> Principal:
        """The principal of a key found in the snapshot (one per snapshot entry, reused)."""
        found = self._principals.get(key.id)
        if found is None or found.key is not key:  # the snapshot was reloaded: a new principal
            found = self._principals[key.id] = _principal(key)
        return found

    @property
    def admin_principal(self) -> Principal:
        """The principal of ``STRANDS_PORTKEY_ADMIN_KEY`` (whether or not it is set)."""
        return self._admin


def authorize(key: ApiKeyPrincipal, scope: str, model: str) -> None:
    """Refuse (403) a request the key's role, scopes or ``allowed_models`` do not cover."""
    if not key.is_admin and not key.has_scope(scope):
        raise PermissionDeniedError(f"gateway API key {key.id} lacks the scope {scope!r}")
    if model and not key.may_use_model(model):
        raise PermissionDeniedError(
            f"gateway API key {key.id} may not use model {model!r} (not in its allowed_models)"
        )


def check_registered_model(plane: ControlPlane | None, key: ApiKeyPrincipal, model: str) -> None:
    """A registered model the key's user may not use is not found (404), as if it did not exist."""
    if plane is None or not model:
        return
    found = plane.registered_models.find(model)
    if found is not None and not can_use(found, key.actor):
        raise ResourceNotFoundError(f"model {model!r} does not exist or you do not have access to it")


def _may_run(key: ApiKeyPrincipal, entry: SavedConfigEntry) -> bool:
    """Admins run any saved config; others their organization's and those their allow-list names."""
    if key.is_admin or entry.organization_id == key.organization_id:
        return True
    return key.allowed_configs is not None and entry.id in key.allowed_configs


def saved_configs_of(
    plane: ControlPlane,
) -> Callable[[str, Principal], Awaitable[Mapping[str, Any] | None]]:
    """The server's saved-config hook: ``pc-...`` -> its current version, if the key may use it."""

    async def lookup(config_id: str, principal: Principal) -> Mapping[str, Any] | None:
        key = principal.key
        if key is not None and not key.may_use_config(config_id):
            return None  # 404: the key learns nothing about configs outside its allow-list
        entry = plane.saved_configs.get(config_id, constructing=True)
        if entry is None or (key is not None and not _may_run(key, entry)):
            return None  # another organization's config does not exist for this key
        return dict(entry.config)

    return lookup
