"""``gw.api_keys``: the gateway's own API keys (``spk-...``) and authenticating them in microseconds.

**At rest.** A key is ``spk-`` + 12 hex characters (its public *lookup*) + 43 random URL-safe
characters, shown once by ``create`` / ``rotate``. The store keeps the lookup, the last four
characters (``hint``, for display) and HMAC-SHA256 of the whole key under a key derived from the
master key (:meth:`~strands_portkey.vault.crypto.MasterKey.derive`); never the key. A stolen
database therefore gives no usable key, and without the master key not even a way to test
guesses. During a master-key rotation, digests made under a previous key still verify.

**Authenticating** (:meth:`ApiKeys.authenticate`) reads an in-memory snapshot, never the
database on the hot path: one dict lookup by the lookup part, one HMAC and a constant-time
comparison, then the revocation and expiry checks (expiry against the wall clock, every time).

**Freshness across processes.** Every write bumps the store revision (:meth:`Store.changing`). The
snapshot checks that revision in the background at most every ``refresh_interval`` (0.5 s) while
requests arrive, and before answering at all when its last check is older than ``max_staleness``
(1 s, e.g. after an idle period). So a key revoked, rotated or changed by any process stops
working on every worker within one second; if the database cannot be read, the snapshot is kept
(logged) and the check retried after ``refresh_interval``.
"""

from __future__ import annotations

import builtins
import datetime as dt
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from ..errors import InvalidApiKeyError, InvalidRequestError, ResourceNotFoundError, StoreError
from ..limits import LimitsEngine
from ..limits.usage import limits_usage
from ..store.providers import new_id
from ..store.tables import ApiKeyRow
from .api_key_fields import (
    DEFAULT_SCOPES,
    ApiKeyPrincipal,
    ApiKeyUsage,
    CreatedApiKey,
    GatewayApiKey,
    gateway_api_key,
    parse_api_key_body,
    principal_of,
)
from .plane import ControlPlane, Spawn, spawn_daemon
from .views import SyncPaginator

__all__ = ["KEY_PREFIX", "ApiKeyPrincipal", "ApiKeyUsage", "ApiKeys", "CreatedApiKey", "GatewayApiKey"]

KEY_PREFIX = "spk-"
HMAC_PURPOSE = "gateway api keys"
_LOOKUP_CHARS = 12
_SECRET_BYTES = 32
_KEY_LENGTH = len(KEY_PREFIX) + _LOOKUP_CHARS + 43
_log = logging.getLogger("strands_portkey.controlplane")


@dataclass(frozen=True, slots=True)
class _Entry:
    """One key in the snapshot: what to compare, and who it stands for."""

    digest: bytes
    master_key_id: str
    revoked: bool
    expires_at: float | None  # epoch seconds
    principal: ApiKeyPrincipal


def _new_key() -> tuple[str, str]:
    lookup = secrets.token_hex(_LOOKUP_CHARS // 2)
    return lookup, f"{KEY_PREFIX}{lookup}{secrets.token_urlsafe(_SECRET_BYTES)}"


class ApiKeys:
    """``gw.api_keys``: create, list, retrieve, update, rotate, revoke; and :meth:`authenticate`.

    Args:
        plane: The control plane (its store, master key ring and acting user).
        clock: Monotonic seconds for the snapshot's freshness (default the plane's clock).
        wall_clock: Epoch seconds for expiry (injected in tests).
        refresh_interval: Seconds between background checks of the store revision.
        max_staleness: A snapshot older than this is checked before it answers (at most 1 s
            keeps the promise that revocations take effect within a second everywhere).
        spawn: Runs the background check (default a daemon thread; tests run it inline).
        limits: The limits engine that counts the keys (:meth:`usage` reads it back). Default:
            the keys' Redis when ``STRANDS_PORTKEY_REDIS_URL`` is set (what servers share), else
            none (an in-process gateway counts no key).
    """

    def __init__(
        self,
        plane: ControlPlane,
        *,
        clock: Callable[[], float] | None = None,
        wall_clock: Callable[[], float] = time.time,
        refresh_interval: float = 0.5,
        max_staleness: float = 1.0,
        spawn: Spawn = spawn_daemon,
        limits: LimitsEngine | None = None,
    ) -> None:
        if not 0 < refresh_interval <= max_staleness:
            raise ValueError("expected 0 < refresh_interval <= max_staleness")
        self._plane = plane
        self._clock = clock or plane.clock
        self._wall_clock = wall_clock
        self.refresh_interval = refresh_interval
        self.max_staleness = max_staleness
        self._spawn = spawn
        self.limits = limits
        self._hmac_keys = plane.keyring.derived(HMAC_PURPOSE)
        self._entries: dict[str, _Entry] = {}
        self._revision: int | None = None
        self._checked_at = -float("inf")  # clock time of the last revision read that succeeded
        self._next_check = -float("inf")
        self._checking = threading.Lock()  # held while a background check runs
        self._stale_lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self.reload()

    def __repr__(self) -> str:
        return f"ApiKeys(keys={len(self._entries)})"

    # ------------------------------------------------------------------ snapshot

    def reload(self) -> None:
        """Reload the snapshot now (the revision read first, so it is never newer than the rows)."""
        started = self._clock()
        with self._reload_lock:
            revision = self._plane.store.revision()
            with self._plane.store.reading() as session:
                rows = list(session.scalars(select(ApiKeyRow)))
            self._entries = {row.lookup: self._entry(row) for row in rows}
            self._revision = revision
            self._checked_at = started
            self._next_check = max(self._next_check, started + self.refresh_interval)

    def _entry(self, row: ApiKeyRow) -> _Entry:
        return _Entry(
            digest=bytes.fromhex(row.digest),
            master_key_id=row.master_key_id,
            revoked=row.revoked_at is not None,
            expires_at=None if row.expires_at is None else row.expires_at.timestamp(),
            principal=principal_of(row),
        )

    def _check(self) -> None:
        """Reload when the store revision moved; a failure keeps the snapshot (logged)."""
        started = self._clock()
        try:
            if self._plane.store.revision() != self._revision:
                self.reload()
            else:
                self._checked_at = started
        except StoreError as error:
            _log.warning("gateway API keys not refreshed (kept as they were): %s", error)

    def _background_check(self) -> None:
        try:
            self._check()
        finally:
            self._checking.release()

    def _freshen(self) -> None:
        now = self._clock()
        if now < self._next_check:
            return
        if now - self._checked_at >= self.max_staleness:  # idle for a while: check before answering
            with self._stale_lock:  # one thread checks; the others then find it fresh
                if self._clock() - self._checked_at >= self.max_staleness:
                    self._check()
            self._next_check = now + self.refresh_interval
            return
        if self._checking.acquire(blocking=False):
            self._next_check = now + self.refresh_interval
            try:
                self._spawn(self._background_check)
            except BaseException:
                self._checking.release()
                raise

    def authenticate(self, presented: str) -> ApiKeyPrincipal:
        """The principal of a presented ``spk-...`` key (from the snapshot; no database read).

        Raises:
            InvalidApiKeyError: the key is malformed, unknown, revoked or expired (the message
                says which, never the key).
        """
        self._freshen()
        if not isinstance(presented, str) or len(presented) != _KEY_LENGTH or presented[:4] != KEY_PREFIX:
            raise InvalidApiKeyError(
                f"not a gateway API key (expected '{KEY_PREFIX}' and {_KEY_LENGTH - 4} more characters)"
            )
        entry = self._entries.get(presented[len(KEY_PREFIX) : len(KEY_PREFIX) + _LOOKUP_CHARS])
        key = self._hmac_keys.get(entry.master_key_id) if entry is not None else None
        digest = hmac.new(key or b"\0" * 32, presented.encode(), hashlib.sha256).digest()
        if entry is None or key is None or not hmac.compare_digest(digest, entry.digest):
            raise InvalidApiKeyError("unknown gateway API key (or it was rotated)")
        if entry.revoked:
            raise InvalidApiKeyError(f"gateway API key {entry.principal.id} was revoked")
        if entry.expires_at is not None and entry.expires_at <= self._wall_clock():
            raise InvalidApiKeyError(f"gateway API key {entry.principal.id} has expired")
        return entry.principal

    def active(self, key_id: str) -> tuple[ApiKeyPrincipal, str] | None:
        """Key ``key_id``'s principal and a fingerprint of its current secret, while it is usable.

        For sessions opened with a key (the dashboard's sign-in): they keep the id and the
        fingerprint, never the key, and end when this answers None or another fingerprint
        (the key was revoked, expired, deleted or rotated). From the snapshot, like
        :meth:`authenticate`.
        """
        self._freshen()
        for entry in self._entries.values():
            if entry.principal.id != key_id:
                continue
            if entry.revoked or (entry.expires_at is not None and entry.expires_at <= self._wall_clock()):
                return None
            return entry.principal, entry.digest[:8].hex()
        return None

    # ------------------------------------------------------------------ the API

    def _now(self) -> dt.datetime:
        now = dt.datetime.fromtimestamp(self._wall_clock(), dt.timezone.utc)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)  # what the store keeps

    def _sealed(self, row: ApiKeyRow) -> str:
        """Give ``row`` a new key; return it (the one time it exists outside the caller's hands)."""
        lookup, key = _new_key()
        primary = self._plane.keyring.primary.key_id
        row.lookup = lookup
        row.digest = hmac.new(self._hmac_keys[primary], key.encode(), hashlib.sha256).hexdigest()
        row.master_key_id = primary
        row.hint = key[-4:]
        return key

    def _find(self, session: Session, key_id: str) -> ApiKeyRow:
        if not isinstance(key_id, str) or not key_id:
            raise InvalidRequestError(f"expected a key id, got {key_id!r}", path="key_id")
        row = session.get(ApiKeyRow, key_id)
        if row is None:
            raise ResourceNotFoundError(f"no gateway API key with id {key_id!r}")
        return row

    @staticmethod
    def _check_default(row: ApiKeyRow) -> None:
        allowed, default = row.allowed_configs, row.default_config
        if default is not None and allowed is not None and default not in allowed:
            raise InvalidRequestError(
                f"{default!r} is not in allowed_configs {allowed}", path="default_config"
            )

    def create(self, body: Mapping[str, Any]) -> CreatedApiKey:
        """Create a key; the returned ``.key`` (``spk-...``) is shown this once and never again.

        ``user`` / ``organization_id`` default to the acting user (``STRANDS_PORTKEY_USER``),
        ``role`` to ``member``, ``scopes`` to ``["completions.write"]``.
        """
        now = self._now()
        fields = parse_api_key_body(body, partial=False, now=now)
        from ..catalog.models import actor_from_env

        actor = actor_from_env(self._plane.env)
        row = ApiKeyRow(
            id=new_id("ak"),
            user=actor.user,
            organization_id=actor.organization_id,
            role="member",
            scopes=list(DEFAULT_SCOPES),
            rate_limits=[],
            usage_limits=[],
            created_at=now,
            updated_at=now,
        )
        for name, value in fields.items():
            setattr(row, name, value)
        self._check_default(row)
        key = self._sealed(row)
        with self._plane.store.changing() as session:
            session.add(row)
        self.reload()
        return CreatedApiKey(gateway_api_key(row, now), key)

    def list(
        self,
        *,
        user: str | None = None,
        organization_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
    ) -> SyncPaginator[GatewayApiKey]:
        """Keys by creation time, ``limit`` per page; filters by owner, organization, status."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
            raise InvalidRequestError(f"expected a positive integer, got {limit!r}", path="limit")
        if status not in (None, "active", "expired", "revoked"):
            raise InvalidRequestError(f"expected active, expired or revoked, got {status!r}", path="status")
        now = self._now()

        where: builtins.list[ColumnElement[bool]] = []
        if user is not None:
            where.append(ApiKeyRow.user == user)
        if organization_id is not None:
            where.append(ApiKeyRow.organization_id == organization_id)
        if status == "revoked":
            where.append(ApiKeyRow.revoked_at.is_not(None))
        elif status == "expired":
            where += [ApiKeyRow.revoked_at.is_(None), ApiKeyRow.expires_at <= now]
        elif status == "active":
            where += [
                ApiKeyRow.revoked_at.is_(None),
                (ApiKeyRow.expires_at.is_(None)) | (ApiKeyRow.expires_at > now),
            ]

        def fetch(offset: int, size: int) -> builtins.list[GatewayApiKey]:
            statement = select(ApiKeyRow).where(*where).order_by(ApiKeyRow.created_at, ApiKeyRow.id)
            with self._plane.store.reading() as session:
                rows = session.scalars(statement.offset(offset).limit(size))
                return [gateway_api_key(row, now) for row in rows]

        def count() -> int:
            with self._plane.store.reading() as session:
                return int(session.scalar(select(func.count()).select_from(ApiKeyRow).where(*where)) or 0)

        return SyncPaginator(fetch, limit, count=count)

    def retrieve(self, key_id: str) -> GatewayApiKey:
        """One key by id (masked)."""
        with self._plane.store.reading() as session:
            return gateway_api_key(self._find(session, key_id), self._now())

    def _change(
        self, key_id: str, change: Callable[[ApiKeyRow, dt.datetime], str | None]
    ) -> tuple[ApiKeyRow, str | None]:
        now = self._now()
        with self._plane.store.changing() as session:
            row = self._find(session, key_id)
            key = change(row, now)
            row.updated_at = now
        self.reload()
        return row, key

    def update(self, key_id: str, body: Mapping[str, Any]) -> GatewayApiKey:
        """Change a key's fields (any subset of those of ``create``); in force everywhere within 1 s."""
        fields = parse_api_key_body(body, partial=True, now=self._now())

        def apply(row: ApiKeyRow, now: dt.datetime) -> None:
            if row.revoked_at is not None:
                raise InvalidRequestError(f"gateway API key {row.id} is revoked", path="key_id")
            for name, value in fields.items():
                setattr(row, name, value)
            self._check_default(row)

        row, _ = self._change(key_id, apply)
        return gateway_api_key(row, row.updated_at)

    def rotate(self, key_id: str) -> CreatedApiKey:
        """A new secret for the key (same id, fields and limits); the old secret stops working."""

        def apply(row: ApiKeyRow, now: dt.datetime) -> str:
            if row.revoked_at is not None:
                raise InvalidRequestError(f"gateway API key {row.id} is revoked", path="key_id")
            row.rotated_at = now
            return self._sealed(row)

        row, key = self._change(key_id, apply)
        assert key is not None
        return CreatedApiKey(gateway_api_key(row, row.updated_at), key)

    def revoke(self, key_id: str) -> GatewayApiKey:
        """Stop the key for good (kept, as ``revoked``, for the record); idempotent."""

        def apply(row: ApiKeyRow, now: dt.datetime) -> None:
            row.revoked_at = row.revoked_at or now

        row, _ = self._change(key_id, apply)
        return gateway_api_key(row, row.updated_at)

    def usage(self, key_id: str) -> ApiKeyUsage:
        """The key's limits and what it has used of them now (rate limits' buckets, budgets' periods).

        Read from :attr:`limits` without changing anything; see :class:`ApiKeyUsage` for whose
        counts they are.

        Raises:
            ResourceNotFoundError: no such key.
            LimitsUnavailableError: the limits' Redis is unreachable.
        """
        with self._plane.store.reading() as session:
            principal = principal_of(self._find(session, key_id))
        engine = self._engine()
        if engine is None:
            return ApiKeyUsage.of(
                principal.id, None, limits_usage(principal.limits, None, None, self._wall_clock())
            )
        return ApiKeyUsage.of(principal.id, engine.counted_in, engine.usage(principal))

    def _engine(self) -> LimitsEngine | None:
        if self.limits is None:
            url = self._plane.env.get("STRANDS_PORTKEY_REDIS_URL")
            if url:
                from ..limits.redis import RedisLimits

                self.limits = RedisLimits(url)
        return self.limits
