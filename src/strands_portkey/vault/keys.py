"""Provider keys (credentials) at rest: encrypt on write, decrypt only for a request or a test.

Functions take the caller's :class:`~sqlalchemy.orm.Session`, so a multi-row change (a provider
created with its first key; a master-key rotation over every row) is one transaction. Records
returned to callers hold the masked display only, never the secret.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..errors import ConflictError, InvalidRequestError, ResourceNotFoundError, VaultError
from ..store.providers import new_id
from ..store.tables import CredentialRow, ProviderRow, utcnow
from ..wire import Secret
from .crypto import Envelope, KeyRing
from .fields import CredentialSecret, CredentialSpec

__all__ = [
    "DEFAULT_WEIGHT",
    "STATUSES",
    "CredentialEntry",
    "CredentialRecord",
    "KeyVault",
    "TestOutcome",
    "parse_key_meta",
]

DEFAULT_WEIGHT = 100
STATUSES = ("active", "inactive")
_META_FIELDS = ("name", "description", "provider_organization", "owner", "organization_id", "weight")
_log = logging.getLogger("strands_portkey.vault")


@dataclass(frozen=True, slots=True)
class TestOutcome:
    """The result of validating a credential against its provider."""

    success: bool
    message: str
    tested_at: dt.datetime
    auth_failed: bool = False


@dataclass(frozen=True, slots=True)
class CredentialRecord:
    """A stored credential as callers may see it: masked, never the secret."""

    id: str
    name: str
    provider_id: str
    provider: str
    credential_type: str
    description: str | None
    provider_organization: str | None
    owner: str | None
    organization_id: str | None
    identifiers: Mapping[str, str]
    masked: str
    weight: int
    active: bool
    error: str | None
    usage_count: int
    last_used_at: dt.datetime | None
    last_tested_at: dt.datetime | None
    test_success: bool | None
    test_message: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class CredentialEntry:
    """One credential in the selector's in-memory snapshot (secret decrypted, held as Secret)."""

    id: str
    name: str
    provider: str
    weight: int
    active: bool
    secret: CredentialSecret | None = field(repr=False)
    error: str | None = None
    base_url: str | None = None
    region: str | None = None


def parse_key_meta(body: Mapping[str, Any], *, path: str = "body") -> dict[str, Any]:
    """The non-secret fields of a key body (name, description, weight, ...), validated."""
    meta: dict[str, Any] = {}
    for key in _META_FIELDS:
        if key not in body:
            continue
        value = body[key]
        if key == "weight":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 1_000_000:
                raise InvalidRequestError(
                    "expected a whole number from 1 to 1000000 (default 100)", path=f"{path}.weight"
                )
        elif key == "name":
            if not isinstance(value, str) or not value.strip():
                raise InvalidRequestError("expected a non-empty string", path=f"{path}.name")
            value = value.strip()
        elif value is not None and not isinstance(value, str):
            raise InvalidRequestError(f"expected a string, got {type(value).__name__}", path=f"{path}.{key}")
        meta[key] = value
    return meta


def _aad(credential_id: str, credential_type: str) -> bytes:
    return f"strands-portkey/credential/{credential_id}/{credential_type}".encode()


def _envelope(row: CredentialRow) -> Envelope:
    return Envelope(row.master_key_id, row.wrapped_key, row.ciphertext)


def _what(row: CredentialRow) -> str:
    return f"provider key {row.name!r} ({row.id})"


class KeyVault:
    """Encrypted credential storage over the store's session."""

    def __init__(self, keyring: KeyRing) -> None:
        self._keyring = keyring

    def __repr__(self) -> str:
        return f"KeyVault({self._keyring!r})"

    # ------------------------------------------------------------------ lookups

    @staticmethod
    def find(session: Session, ref: str, *, path: str = "key_id") -> CredentialRow:
        """The credential whose id or name is ``ref``."""
        row = session.scalars(
            select(CredentialRow).where(or_(CredentialRow.id == ref, CredentialRow.name == ref))
        ).first()
        if row is None:
            raise ResourceNotFoundError(f"{path}: no provider key with id or name {ref!r}")
        return row

    @staticmethod
    def _filtered(
        statement: Any,
        *,
        provider: str | None = None,
        status: str | None = None,
        search: str | None = None,
        owner: str | None = None,
    ) -> Any:
        statement = statement.join(ProviderRow, CredentialRow.provider_id == ProviderRow.id)
        if provider is not None:
            statement = statement.where(or_(ProviderRow.name == provider, ProviderRow.id == provider))
        if status is not None:
            statement = statement.where(CredentialRow.active.is_(status == "active"))
        if owner is not None:
            statement = statement.where(CredentialRow.owner == owner)
        if search:
            pattern = f"%{search.lower()}%"
            statement = statement.where(
                or_(
                    func.lower(CredentialRow.name).like(pattern),
                    func.lower(func.coalesce(CredentialRow.description, "")).like(pattern),
                    func.lower(ProviderRow.name).like(pattern),
                )
            )
        return statement

    @staticmethod
    def query(
        session: Session, *, offset: int = 0, limit: int = 50, **filters: str | None
    ) -> list[CredentialRow]:
        """One page of credentials, oldest first (``filters``: provider, status, search, owner)."""
        statement = KeyVault._filtered(select(CredentialRow), **filters)
        statement = statement.order_by(CredentialRow.created_at, CredentialRow.id).offset(offset).limit(limit)
        return list(session.scalars(statement))

    @staticmethod
    def count(session: Session, **filters: str | None) -> int:
        """How many credentials match the filters of :meth:`query`."""
        return int(
            session.scalar(KeyVault._filtered(select(func.count()).select_from(CredentialRow), **filters))
            or 0
        )

    # ------------------------------------------------------------------ writes

    def _check_name_free(self, session: Session, name: str, own_id: str | None = None) -> None:
        taken = session.scalars(select(CredentialRow.id).where(CredentialRow.name == name)).first()
        if taken is not None and taken != own_id:
            raise ConflictError(f"a provider key named {name!r} already exists (key names are unique)")

    def _seal(self, row: CredentialRow, spec: CredentialSpec) -> None:
        plaintext = json.dumps(dict(spec.secrets), sort_keys=True).encode()
        envelope = self._keyring.encrypt(plaintext, aad=_aad(row.id, spec.credential_type))
        row.credential_type = spec.credential_type
        row.identifiers = dict(spec.identifiers)
        row.masked = spec.masked
        row.master_key_id = envelope.master_key_id
        row.wrapped_key = envelope.wrapped_key
        row.ciphertext = envelope.ciphertext

    def create(
        self,
        session: Session,
        provider: ProviderRow,
        spec: CredentialSpec,
        meta: Mapping[str, Any],
        test: TestOutcome | None,
    ) -> CredentialRow:
        """Insert an encrypted credential (active unless its test failed)."""
        name = meta.get("name")
        if not name:
            raise InvalidRequestError("a provider key needs a 'name' (unique)", path="body.name")
        self._check_name_free(session, name)
        now = utcnow()
        row = CredentialRow(
            id=new_id("key"),
            provider_id=provider.id,
            weight=DEFAULT_WEIGHT,
            active=True,
            usage_count=0,
            created_at=now,
            updated_at=now,
        )
        for key, value in meta.items():
            setattr(row, key, value)
        self._seal(row, spec)
        if test is not None:
            self._apply_test(row, test)
        session.add(row)
        session.flush()
        return row

    def update(
        self,
        session: Session,
        row: CredentialRow,
        spec: CredentialSpec | None,
        meta: Mapping[str, Any],
        test: TestOutcome | None,
    ) -> CredentialRow:
        """Change metadata and/or the secret; a new secret that passed its test re-activates."""
        if "name" in meta:
            self._check_name_free(session, meta["name"], row.id)
        for key, value in meta.items():
            setattr(row, key, value)
        if spec is not None:
            self._seal(row, spec)
            row.error = None
        if test is not None:
            self._apply_test(row, test)
        row.updated_at = utcnow()
        session.flush()
        return row

    @staticmethod
    def _apply_test(row: CredentialRow, test: TestOutcome) -> None:
        row.last_tested_at = test.tested_at
        row.test_success = test.success
        row.test_message = test.message
        if test.success:
            row.active, row.error = True, None
        elif test.auth_failed:
            row.active, row.error = False, test.message

    def record_test(self, session: Session, row: CredentialRow, test: TestOutcome) -> None:
        """Store a test result: success re-activates; an authentication refusal deactivates."""
        self._apply_test(row, test)
        row.updated_at = utcnow()
        session.flush()

    @staticmethod
    def set_status(session: Session, credential_id: str, *, active: bool, error: str | None) -> None:
        """Activate or deactivate (with the reason) a credential, if it still exists."""
        row = session.get(CredentialRow, credential_id)
        if row is not None:
            row.active, row.error, row.updated_at = active, error, utcnow()

    @staticmethod
    def record_usage(session: Session, usage: Mapping[str, tuple[int, dt.datetime]]) -> None:
        """Add request counts and last-used times collected in memory (flushed off the hot path)."""
        for credential_id, (count, last_used) in usage.items():
            row = session.get(CredentialRow, credential_id)
            if row is not None:
                row.usage_count += count
                row.last_used_at = max(filter(None, (row.last_used_at, last_used)))

    # ------------------------------------------------------------------ secrets

    def decrypt(self, row: CredentialRow) -> CredentialSecret:
        """The decrypted credential (for a request or a test); never logged, never shown."""
        plaintext = self._keyring.decrypt(
            _envelope(row), aad=_aad(row.id, row.credential_type), what=_what(row)
        )
        try:
            values = json.loads(plaintext)
        except ValueError:
            values = None
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            raise VaultError(f"{_what(row)}: the decrypted secret is not in the expected format")
        return CredentialSecret(
            row.credential_type,
            {name: Secret(value) for name, value in values.items()},
            dict(row.identifiers or {}),
        )

    def rewrap_all(self, session: Session, *, on_progress: Callable[[int, int], None] | None = None) -> int:
        """Re-wrap every data key not under the primary master key; the number re-wrapped.

        ``on_progress(done, total)`` is called after each key is looked at (the CLI's progress bar).
        """
        count = 0
        rows = list(session.scalars(select(CredentialRow)))
        for done, row in enumerate(rows, start=1):
            envelope = _envelope(row)
            if self._keyring.needs_rewrap(envelope):
                fresh = self._keyring.rewrap(envelope, aad=_aad(row.id, row.credential_type), what=_what(row))
                row.master_key_id, row.wrapped_key = fresh.master_key_id, fresh.wrapped_key
                count += 1
            if on_progress is not None:
                on_progress(done, len(rows))
        session.flush()
        return count

    def snapshot(self, session: Session) -> list[CredentialEntry]:
        """Every credential with its decrypted secret (None and an error when it cannot be decrypted)."""
        rows: Sequence[CredentialRow] = list(
            session.scalars(
                select(CredentialRow).join(ProviderRow).order_by(CredentialRow.created_at, CredentialRow.id)
            )
        )
        return [self._entry(row) for row in rows]

    def _entry(self, row: CredentialRow) -> CredentialEntry:
        provider = row.provider
        secret: CredentialSecret | None = None
        error = row.error
        active = row.active and provider.enabled
        if active:
            try:
                secret = self.decrypt(row)
            except VaultError as problem:
                _log.error("%s", problem)
                active, error = False, problem.message
        if not provider.enabled:
            error = error or f"provider {provider.name!r} is disabled"
        return CredentialEntry(
            row.id,
            row.name,
            provider.name,
            row.weight,
            active,
            secret,
            error,
            provider.base_url,
            provider.region,
        )


def credential_record(row: CredentialRow) -> CredentialRecord:
    """The masked record of a row."""
    return CredentialRecord(
        id=row.id,
        name=row.name,
        provider_id=row.provider_id,
        provider=row.provider.name,
        credential_type=row.credential_type,
        description=row.description,
        provider_organization=row.provider_organization,
        owner=row.owner,
        organization_id=row.organization_id,
        identifiers=dict(row.identifiers or {}),
        masked=row.masked,
        weight=row.weight,
        active=row.active,
        error=row.error,
        usage_count=row.usage_count,
        last_used_at=row.last_used_at,
        last_tested_at=row.last_tested_at,
        test_success=row.test_success,
        test_message=row.test_message,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def iter_records(rows: Iterable[CredentialRow]) -> list[CredentialRecord]:
    """Masked records of rows."""
    return [credential_record(row) for row in rows]
