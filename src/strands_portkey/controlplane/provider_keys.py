"""``gw.ai.provider_keys``: store, list, test, update and delete provider keys, as the spec says.

========================================================  =============================
method                                                    returns
========================================================  =============================
``list(*, provider=None, status=None, search=None,        ``SyncPaginator[ProviderKey]``
limit=50)``
``create(body, *, validate=None)``                        ``ProviderKey``
``retrieve(key_id)``                                      ``ProviderKey``
``update(key_id, body, *, validate=None)``                ``ProviderKey``
``delete(key_id)``                                        ``dict``
``test(key_id)``                                          ``ProviderKeyTestResult``
========================================================  =============================

``key_id`` is a key's id or its unique name. ``create`` validates the key against the provider
(a model listing, never billed) before anything is written; a refused key raises
:class:`~strands_portkey.errors.CredentialRejectedError`. ``validate=False`` (or
``ControlPlane(validate_credentials=False)``) saves without checking, for offline use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..catalog.models import Actor, actor_from_env
from ..errors import ConfigurationError, CredentialRejectedError, InvalidRequestError, ResourceNotFoundError
from ..providers import get_adapter, host_spec
from ..store.providers import find_provider, get_or_create_provider
from ..store.tables import CredentialRow, ProviderRow
from ..vault.fields import CredentialSecret, CredentialSpec, parse_credential
from ..vault.keys import STATUSES, TestOutcome, credential_record, parse_key_meta
from ..wire import Secret
from .plane import ControlPlane
from .validation import run_sync, validate_credential
from .views import ProviderKey, ProviderKeyTestResult, SyncPaginator, provider_key, test_result

__all__ = ["KeyService", "ProviderKeys"]

_SECRET_FIELDS = (
    "api_key",
    "access_key_id",
    "secret_access_key",
    "session_token",
    "value",
    "credential_type",
)
_KEY_FIELDS = frozenset(
    {
        *_SECRET_FIELDS,
        "credentialType",
        "name",
        "provider",
        "description",
        "provider_organization",
        "owner",
        "organization_id",
        "weight",
        "is_active",
    }
)
_MAX_PAGE = 1000


def _check_fields(body: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise InvalidRequestError(f"expected an object, got {type(body).__name__}", path=path)
    unknown = sorted(str(key) for key in body if key not in _KEY_FIELDS)
    if unknown:
        raise InvalidRequestError(
            f"unknown field(s) {unknown}: a provider key has {', '.join(sorted(_KEY_FIELDS))}", path=path
        )
    if "is_active" in body and not isinstance(body["is_active"], bool):
        raise InvalidRequestError("expected true or false", path=f"{path}.is_active")
    return body


def _provider_name(body: Mapping[str, Any], path: str) -> str:
    """The provider's canonical name (aliases such as ``together`` resolved)."""
    provider = body.get("provider")
    if not isinstance(provider, str) or not provider.strip():
        raise InvalidRequestError(
            "a provider key needs a 'provider' (e.g. 'openai')", path=f"{path}.provider"
        )
    name = provider.strip().lower()
    spec = host_spec(name)
    return spec.name if spec is not None else name


class KeyService:
    """Credential operations shared by ``gw.ai.provider_keys`` and ``gw.providers``."""

    def __init__(self, plane: ControlPlane) -> None:
        self._plane = plane

    def _validate(
        self,
        provider: str,
        base_url: str | None,
        spec: CredentialSpec,
        validate: bool | None,
        *,
        region: str | None = None,
        api_format: str | None = None,
    ) -> TestOutcome | None:
        if not (self._plane.validate_credentials if validate is None else validate):
            return None
        secret = CredentialSecret(
            spec.credential_type, {k: Secret(v) for k, v in spec.secrets.items()}, spec.identifiers
        )
        plane = self._plane
        outcome = run_sync(
            lambda: validate_credential(
                provider,
                base_url,
                secret,
                transport=plane.transport,
                settings=plane.transport_settings,
                region=region,
                api_format=api_format,
            )
        )
        if not outcome.success:
            raise CredentialRejectedError(
                f"the key was not saved: {outcome.message}. Pass validate=False to save it without checking "
                "(e.g. offline)",
                provider=provider,
            )
        return outcome

    def _provider_for(self, provider: str, path: str) -> tuple[ProviderRow | None, str | None]:
        """The stored provider (or None: it will be created) and its base URL."""
        with self._plane.store.reading() as session:
            try:
                row = find_provider(session, provider, path=path)
                return row, row.base_url
            except LookupError:
                pass
        try:
            get_adapter(provider)
        except ConfigurationError as error:
            raise InvalidRequestError(error.reason, path=path) from None
        return None, None

    def create(
        self, provider: str, body: Mapping[str, Any], *, validate: bool | None, path: str
    ) -> ProviderKey:
        """Validate, then store a new key (creating a known provider on first use), in one transaction."""
        meta = parse_key_meta(body, path=path)
        if "name" not in meta:
            raise InvalidRequestError("a provider key needs a 'name' (unique)", path=f"{path}.name")
        spec = parse_credential(body, path=path)
        active = body.get("is_active", True)
        row, base_url = self._provider_for(provider, f"{path}.provider")
        with self._plane.store.reading() as session:
            self._plane.vault._check_name_free(session, meta["name"])
        region, api_format = (row.region, row.api_format) if row is not None else (None, None)
        name = provider if row is None else row.name
        outcome = self._validate(name, base_url, spec, validate, region=region, api_format=api_format)
        with self._plane.store.changing() as session:
            if row is not None:
                stored = find_provider(session, row.id)
            else:  # the first key of a known provider: atomic, as other threads may add one now
                stored = get_or_create_provider(session, provider)
            created = self._plane.vault.create(session, stored, spec, meta, outcome)
            created.active = created.active and active
            record = credential_record(created)
        self._plane.refresh()
        return provider_key(record)

    def update(self, ref: str, body: Mapping[str, Any], *, validate: bool | None, path: str) -> ProviderKey:
        """Change a key; a new secret (or re-activation) is validated first."""
        meta = parse_key_meta(body, path=path)
        with self._plane.store.reading() as session:
            row = self._plane.vault.find(session, ref)
            provider, base_url, credential_type, region, api_format = (
                row.provider.name,
                row.provider.base_url,
                row.credential_type,
                row.provider.region,
                row.provider.api_format,
            )
        spec: CredentialSpec | None = None
        if any(key in body for key in _SECRET_FIELDS):
            spec = parse_credential({"credential_type": credential_type, **body}, path=path)
        outcome: TestOutcome | None = None
        if spec is not None:
            outcome = self._validate(provider, base_url, spec, validate, region=region, api_format=api_format)
        elif body.get("is_active") is True and (
            self._plane.validate_credentials if validate is None else validate
        ):
            outcome = self._check_stored(ref)
            if not outcome.success:
                raise CredentialRejectedError(f"the key stays inactive: {outcome.message}", provider=provider)
        with self._plane.store.changing() as session:
            row = self._plane.vault.find(session, ref)
            updated = self._plane.vault.update(session, row, spec, meta, outcome)
            if "is_active" in body:
                updated.active = body["is_active"]
                updated.error = None if body["is_active"] else updated.error
            record = credential_record(updated)
        self._plane.refresh()
        return provider_key(record)

    def _check_stored(self, ref: str) -> TestOutcome:
        with self._plane.store.reading() as session:
            row = self._plane.vault.find(session, ref)
            _ = row.provider
            plane = self._plane
            return run_sync(lambda: plane.check(row))

    def test(self, ref: str) -> ProviderKeyTestResult:
        """Re-validate a stored key; success re-activates it, an authentication refusal deactivates it."""
        outcome = self._check_stored(ref)
        with self._plane.store.changing() as session:
            row = self._plane.vault.find(session, ref)
            self._plane.vault.record_test(session, row, outcome)
        self._plane.refresh()
        return test_result(outcome)

    def delete(self, ref: str) -> dict[str, Any]:
        """Delete a key."""
        with self._plane.store.changing() as session:
            row = self._plane.vault.find(session, ref)
            key_id = row.id
            session.delete(row)
        self._plane.refresh()
        return {"id": key_id, "deleted": True}

    def retrieve(self, ref: str) -> ProviderKey:
        """One key, masked."""
        self._plane.flush_usage()
        with self._plane.store.reading() as session:
            return provider_key(credential_record(self._plane.vault.find(session, ref)))


class ProviderKeys:
    """``gw.ai.provider_keys``: the spec's provider-keys API over the local vault.

    Acts as ``actor`` (default: the user of ``STRANDS_PORTKEY_USER``, as an admin: on one's own
    machine every key is one's own). New keys belong to the actor unless an admin names another
    ``owner``. An actor without ``admin`` (a member's key on the server) sees and manages only
    the keys it owns; another user's key is "not found" (``on_hidden`` is told its id).
    """

    def __init__(
        self,
        plane: ControlPlane,
        *,
        actor: Actor | None = None,
        on_hidden: Callable[[str], None] | None = None,
    ) -> None:
        self._plane = plane
        self._keys = KeyService(plane)
        base = actor_from_env(plane.env)
        self.actor: Actor = Actor(base.user, base.organization_id, admin=True) if actor is None else actor
        self._on_hidden = on_hidden

    def __repr__(self) -> str:
        return f"ProviderKeys({self._plane.store!r})"

    def _own(self, key_id: str) -> str:
        """The id of the key ``key_id`` (id or name) names, if the actor may see it; else not found."""
        if not isinstance(key_id, str) or not key_id:
            raise InvalidRequestError(f"expected a key id or name, got {key_id!r}", path="key_id")
        with self._plane.store.reading() as session:
            row = self._plane.vault.find(session, key_id)
            if self.actor.admin or row.owner == self.actor.user:
                return row.id
            if self._on_hidden is not None:
                self._on_hidden(row.id)
        raise ResourceNotFoundError(f"key_id: no provider key with id or name {key_id!r}")

    def _owned(self, body: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
        """``body`` with the owner set: the actor (and its organization) unless an admin names one."""
        fields = dict(body)
        if not self.actor.admin:
            for key, mine in (("owner", self.actor.user), ("organization_id", self.actor.organization_id)):
                if key in fields and fields[key] != mine:
                    raise InvalidRequestError(
                        f"a member's provider keys are its own: {key} must be {mine!r} (or left out)",
                        path=f"body.{key}",
                    )
        if creating:
            fields.setdefault("owner", self.actor.user)
            fields.setdefault("organization_id", self.actor.organization_id)
        return fields

    def list(
        self,
        *,
        provider: str | None = None,
        status: str | None = None,
        search: str | None = None,
        limit: int = 50,
    ) -> SyncPaginator[ProviderKey]:
        """Keys, oldest first, ``limit`` per page, fetched lazily while iterating."""
        if status is not None and status not in STATUSES:
            raise InvalidRequestError(
                f"unknown status {status!r}: use one of {', '.join(STATUSES)}", path="status"
            )
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= _MAX_PAGE:
            raise InvalidRequestError(f"expected a page size from 1 to {_MAX_PAGE}", path="limit")
        for name, value in (("provider", provider), ("search", search)):
            if value is not None and not isinstance(value, str):
                raise InvalidRequestError(f"expected a string, got {value!r}", path=name)
        plane = self._plane
        filters = {
            "provider": provider,
            "status": status,
            "search": search,
            "owner": None if self.actor.admin else self.actor.user,
        }

        def fetch(offset: int, size: int) -> list[ProviderKey]:
            if offset == 0:
                plane.flush_usage()
            with plane.store.reading() as session:
                rows: list[CredentialRow] = plane.vault.query(session, offset=offset, limit=size, **filters)
                return [provider_key(credential_record(row)) for row in rows]

        def count() -> int:
            with plane.store.reading() as session:
                return plane.vault.count(session, **filters)

        return SyncPaginator(fetch, limit, count=count)

    def create(self, body: Mapping[str, Any], *, validate: bool | None = None) -> ProviderKey:
        """Store a key (``name``, ``provider``, ``api_key`` ...) owned by the actor; returns it masked."""
        body = self._owned(_check_fields(body, "body"), creating=True)
        return self._keys.create(_provider_name(body, "body"), body, validate=validate, path="body")

    def retrieve(self, key_id: str) -> ProviderKey:
        """A key by id or name."""
        return self._keys.retrieve(self._own(key_id))

    def update(self, key_id: str, body: Mapping[str, Any], *, validate: bool | None = None) -> ProviderKey:
        """Change name, description, weight, ... or the key itself (re-validated)."""
        body = self._owned(_check_fields(body, "body"), creating=False)
        if "provider" in body:
            raise InvalidRequestError(
                "a key cannot move to another provider: create a new one", path="body.provider"
            )
        return self._keys.update(self._own(key_id), body, validate=validate, path="body")

    def delete(self, key_id: str) -> dict[str, Any]:
        """Delete a key: ``{"id": ..., "deleted": True}``."""
        return self._keys.delete(self._own(key_id))

    def test(self, key_id: str) -> ProviderKeyTestResult:
        """Check a key against its provider now (and re-activate it when it passes)."""
        return self._keys.test(self._own(key_id))
