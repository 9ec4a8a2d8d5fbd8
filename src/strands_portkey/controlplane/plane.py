"""``ControlPlane``: one store, one master key ring, one credential selector, shared by the APIs.

It keeps the selector's in-memory snapshot in step with the database: every write made through
the API refreshes it (call :meth:`ControlPlane.refresh` after another process changed the
database). It also persists what the selector learns at run time (a key disabled by a 401/403,
a key back after a re-check, usage counts) and runs the background re-validation of disabled
keys with exponential backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from ..errors import MasterKeyError, ResourceNotFoundError
from ..store.db import Store
from ..store.tables import CredentialRow
from ..transport import AsyncHTTPTransport, TransportSettings
from ..vault.crypto import KeyRing, MasterKey, load_keyring
from ..vault.keys import KeyVault, TestOutcome
from ..vault.selector import CredentialSelector, SelectedCredential
from .validation import validate_credential

if TYPE_CHECKING:
    from ..analytics.sinks import RecordWriter
    from ..catalog.deploy import LocalProcessDeployer
    from .models_api import RegisteredModels

__all__ = ["ControlPlane"]

_log = logging.getLogger("strands_portkey.controlplane")


class ControlPlane:
    """The vault and catalog of one or more gateways.

    Args:
        db_url: A SQLAlchemy URL; default ``STRANDS_PORTKEY_DB_URL``, else the SQLite file in the
            user's data directory.
        env: Environment to read settings from (default ``os.environ``).
        master_key: The master key (base64) instead of ``STRANDS_PORTKEY_MASTER_KEY`` / the key file.
        keyring: A ready key ring (rotation: primary plus previous keys).
        store: An open :class:`Store` instead of ``db_url``.
        validate_credentials: Check keys against the provider on create/update (default True);
            False for offline use.
        transport: An httpx async transport for validation calls (tests: ``MockTransport``).
        clock: Monotonic seconds (cooldowns, backoff, the test_models limit); injected in tests.
        sleep: Async sleep for the background re-validation loop; injected in tests.
    """

    def __init__(
        self,
        db_url: str | None = None,
        *,
        env: Mapping[str, str] | None = None,
        master_key: str | None = None,
        keyring: KeyRing | None = None,
        store: Store | None = None,
        validate_credentials: bool = True,
        transport: AsyncHTTPTransport | None = None,
        transport_settings: TransportSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.env = os.environ if env is None else env
        self.store = store or Store(db_url, env=self.env)
        if keyring is None:
            keyring = (
                KeyRing(MasterKey.from_text(master_key, source="master_key"))
                if master_key
                else load_keyring(self.env)
            )
        self.keyring = keyring
        self.vault = KeyVault(keyring)
        self.validate_credentials = validate_credentials
        self.transport = transport
        self.transport_settings = transport_settings
        self.clock = clock
        self._sleep = sleep
        self.selector = CredentialSelector(clock=clock, wall_clock=wall_clock, listener=self)
        self._revalidation: asyncio.Task[None] | None = None
        self._records: RecordWriter | None = None  # analytics (issue 7): started on first request
        self._registered: RegisteredModels | None = None  # model registry (issue 7): loaded on first use
        self._deployer: LocalProcessDeployer | None = None  # self-hosted replicas (issue 7)
        self.refresh()

    def __repr__(self) -> str:
        return f"ControlPlane(store={self.store!r}, master_key={self.keyring.primary.key_id!r})"

    # ------------------------------------------------------------------ snapshot

    def refresh(self) -> None:
        """Reload the selector's snapshot from the database (decrypting active keys)."""
        with self.store.reading() as session:
            entries = self.vault.snapshot(session)
        self.selector.load(entries)

    def pick(self, provider: str) -> SelectedCredential:
        """The next credential of ``provider`` (smooth weighted round-robin; no database)."""
        return self.selector.pick(provider)

    def report(
        self, credential_id: str, status_code: int, retry_after: float | None = None, error: str | None = None
    ) -> None:
        """How a request with ``credential_id`` went; see :meth:`CredentialSelector.report`.

        ``error`` (kept when the key is disabled) must already be free of secrets: pass the
        gateway error's message, which the upstream boundary has scrubbed.
        """
        self.selector.report(credential_id, status_code, retry_after, error)

    def has_credentials(self, provider: str) -> bool:
        """Whether the vault holds keys for ``provider`` (leaves naming it then rotate over them)."""
        return self.selector.has_credentials(provider)

    def resolve_virtual_key(self, ref: str) -> SelectedCredential | None:
        """The stored key whose id or name is ``ref`` (``None`` when the local vault has no such key)."""
        try:
            return self.selector.credential(ref)
        except ResourceNotFoundError:
            return None

    # ------------------------------------------------------------------ listener (selector -> database)

    def credential_disabled(self, credential_id: str, error: str) -> None:
        """Persist a 401/403 disable and make sure the re-validation loop runs."""
        with self.store.transaction() as session:
            self.vault.set_status(session, credential_id, active=False, error=error)
        _log.warning("provider key %s disabled: %s", credential_id, error)
        self._ensure_revalidation()

    def credential_restored(self, credential_id: str) -> None:
        """Persist a key's return to the rotation."""
        with self.store.transaction() as session:
            self.vault.set_status(session, credential_id, active=True, error=None)
        _log.info("provider key %s is active again", credential_id)

    def flush_usage(self) -> None:
        """Write request counts and last-used times gathered in memory."""
        usage = self.selector.drain_usage()
        if usage:
            with self.store.transaction() as session:
                self.vault.record_usage(session, usage)

    # ------------------------------------------------------------------ re-validation

    async def check(self, row: CredentialRow) -> TestOutcome:
        """Validate a stored credential against its provider (decrypts it for this one call)."""
        secret = self.vault.decrypt(row)
        return await validate_credential(
            row.provider.name,
            row.provider.base_url,
            secret,
            transport=self.transport,
            settings=self.transport_settings,
            region=row.provider.region,
        )

    async def revalidate_due(self) -> list[str]:
        """Re-check every disabled key whose backoff has elapsed; the ids that came back."""
        restored = []
        for credential_id in self.selector.due_revalidations():
            with self.store.reading() as session:
                row = session.get(CredentialRow, credential_id)
                if row is None:
                    continue
                _ = row.provider
                outcome = await self.check(row)
            with self.store.transaction() as session:
                fresh = session.get(CredentialRow, credential_id)
                if fresh is not None:
                    self.vault.record_test(session, fresh, outcome)
            self.selector.revalidated(credential_id, outcome.success, outcome.message)
            if outcome.success:
                restored.append(credential_id)
        return restored

    def _ensure_revalidation(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop here: revalidate_due() runs on the next async use or by hand
        if self._revalidation is None or self._revalidation.done():
            self._revalidation = loop.create_task(self._revalidation_loop())

    async def _revalidation_loop(self) -> None:
        while (wait := self.selector.next_revalidation_in()) is not None:
            await self._sleep(wait)
            try:
                await self.revalidate_due()
            except Exception as error:  # a background loop must not die silently
                _log.error("re-validation of provider keys failed: %s", error)
                await self._sleep(60.0)

    # ------------------------------------------------------------------ analytics (issue 7)

    @property
    def records(self) -> RecordWriter:
        """The analytics writer of this store (created on first use; its thread on first record)."""
        if self._records is None:
            from ..analytics.sinks import RecordWriter
            from .rates_api import ModelRates

            self._records = RecordWriter(self.store, ModelRates(self).price_book)
        return self._records

    @property
    def registered_models(self) -> RegisteredModels:
        """The registered models in memory (requests naming one resolve here, not in the database)."""
        if self._registered is None:
            from .models_api import RegisteredModels

            self._registered = RegisteredModels(self)
        return self._registered

    @property
    def deployer(self) -> LocalProcessDeployer:
        """Runs self-hosted models' replicas on this machine (stopped by :meth:`close`)."""
        if self._deployer is None:
            from ..catalog.deploy import LocalProcessDeployer

            self._deployer = LocalProcessDeployer()
        return self._deployer

    # ------------------------------------------------------------------ master key

    def rewrap(self) -> int:
        """Re-wrap every key's data key under the current master key (one transaction)."""
        with self.store.transaction() as session:
            count = self.vault.rewrap_all(session)
        self.refresh()
        return count

    def verify_master_key(self) -> None:
        """Raise :class:`MasterKeyError` now if stored keys were encrypted with an unknown master key."""
        with self.store.reading() as session:
            for row in session.query(CredentialRow).limit(1):
                if row.master_key_id not in self.keyring.key_ids:
                    raise MasterKeyError(
                        f"stored provider keys were encrypted with master key {row.master_key_id}, "
                        f"not the configured {self.keyring.primary.key_id}"
                    )

    async def aclose(self) -> None:
        """Stop background work, persist usage, release the database."""
        if self._revalidation is not None:
            self._revalidation.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._revalidation
        self.close()

    def close(self) -> None:
        """Persist usage and analytics records, release the database (sync)."""
        if self._records is not None:
            self._records.close()
        if self._deployer is not None:
            self._deployer.close()
        self.flush_usage()
        self.store.close()
