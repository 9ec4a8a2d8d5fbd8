"""``ControlPlane``: one store, one master key ring, one credential selector, shared by the APIs.

It keeps in-memory snapshots so the request path never reads the database: the selector's
decrypted keys, the providers registered under names the registry does not know, the registered
models and the chat rates. Every write made through the API
refreshes them at once. Writes by another process (a second gateway, the server, the CLI) bump
the store revision (:meth:`Store.changing`); the request path calls :meth:`ControlPlane.maybe_refresh`,
a clock read that, at most every ``refresh_interval`` seconds, starts one background check of the
revision and reloads every snapshot when it moved. It also persists what the selector learns at
run time (a key disabled by a 401/403, a key back after a re-check, usage counts) and runs the
background re-validation of disabled keys with exponential backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from ..analytics.sinks import DEFAULT_FLUSH_INTERVAL, check_flush_interval
from ..errors import MasterKeyError, ResourceNotFoundError, StoreError
from ..store.db import Store
from ..store.tables import ApiKeyRow, CredentialRow
from ..transport import AsyncHTTPTransport, TransportSettings
from ..vault.crypto import KeyRing, MasterKey, load_keyring
from ..vault.keys import KeyVault
from ..vault.selector import CredentialSelector, SelectedCredential
from .provider_routes import ProviderRoute, load_routes
from .revalidation import Revalidation

if TYPE_CHECKING:
    from ..analytics.sinks import RecordWriter
    from ..catalog.billing import PriceBook
    from ..catalog.deploy import LocalProcessDeployer
    from .prompt_snapshot import PromptSnapshot
    from .registered import RegisteredModels
    from .saved_configs import SavedConfigs

__all__ = ["DEFAULT_REFRESH_INTERVAL", "ControlPlane", "Spawn", "spawn_daemon"]

_log = logging.getLogger("strands_portkey.controlplane")
DEFAULT_REFRESH_INTERVAL = 2.0

Spawn = Callable[[Callable[[], None]], None]


def spawn_daemon(work: Callable[[], None]) -> None:
    """Run ``work`` on a new daemon thread (the default runner of the background revision check)."""
    threading.Thread(target=work, name="strands-portkey-refresh", daemon=True).start()


class ControlPlane(Revalidation):
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
        clock: Monotonic seconds (cooldowns, backoff, snapshot checks); injected in tests.
        sleep: Async sleep for the background re-validation loop; injected in tests.
        refresh_interval: Seconds between checks of the store revision, which pick up changes
            made by other processes (default 2.0; ``None`` or 0 turns the checks off: call
            :meth:`refresh` by hand then).
        spawn: Runs the background check (default: a daemon thread; tests run it inline).
        flush_interval: Seconds between writes of queued analytics records (default 1.0): the
            most a process killed without a chance to flush (SIGKILL) loses. A positive number.
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
        refresh_interval: float | None = DEFAULT_REFRESH_INTERVAL,
        spawn: Spawn = spawn_daemon,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
    ) -> None:
        self.flush_interval = check_flush_interval(flush_interval, "ControlPlane.flush_interval")
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
        self._prices: PriceBook | None = None  # chat rates for costing: loaded on first use
        self._routes: Mapping[str, ProviderRoute] = {}  # registered providers by name (refresh())
        self._saved: SavedConfigs | None = None  # saved configs (issue 15): loaded on first use
        self._prompts: PromptSnapshot | None = None  # prompts (issue 19): loaded on first use
        if refresh_interval is not None and refresh_interval < 0:
            raise ValueError(f"refresh_interval: expected seconds >= 0 or None, got {refresh_interval!r}")
        self.refresh_interval = refresh_interval or None
        self._spawn = spawn
        self.reload_lock = threading.RLock()  # one reload at a time, so an older one never lands last
        self._checking = threading.Lock()  # held while a background check runs: never two at once
        self._revision: int | None = None  # the store revision the snapshots were loaded at
        self._next_check = clock() + (self.refresh_interval or 0.0)
        self._closed = False
        self.refresh()

    def __repr__(self) -> str:
        return f"ControlPlane(store={self.store!r}, master_key={self.keyring.primary.key_id!r})"

    # ------------------------------------------------------------------ snapshot

    def refresh(self) -> None:
        """Reload every snapshot now: decrypted keys, and the registered models and rates once loaded.

        The revision is read first, so the one recorded is never newer than the data loaded.
        """
        with self.reload_lock:
            revision = self.store.revision()
            with self.store.reading() as session:
                entries = self.vault.snapshot(session)
                routes = load_routes(session)
            self.selector.load(entries)
            self._routes = routes
            if self._registered is not None:
                self._registered.refresh()
            if self._saved is not None:
                self._saved.refresh()
            if self._prompts is not None:
                self._prompts.refresh()
            self.refresh_prices()
            self._revision = revision

    def maybe_refresh(self) -> None:
        """Cheap, for the request path: when ``refresh_interval`` has passed, check the revision.

        Only a clock read until the interval is up; then one background check (never two at
        once) reads the store revision and reloads the snapshots if another process changed it.
        """
        if self.refresh_interval is None or self._closed:
            return
        now = self.clock()
        if now < self._next_check or not self._checking.acquire(blocking=False):
            return
        self._next_check = now + self.refresh_interval
        try:
            self._spawn(self._check_revision)
        except BaseException:
            self._checking.release()
            raise

    def _check_revision(self) -> None:
        """Reload if the store revision moved; a failure keeps the snapshots and retries next interval."""
        try:
            if self.store.revision() != self._revision:
                self.refresh()
        except Exception as error:  # the database may be down: requests go on with what we have
            _log.warning(
                "control plane snapshots not refreshed from %s (kept as they were; retry in %ss): %s",
                self.store.shown_url,
                self.refresh_interval,
                error if isinstance(error, StoreError) else type(error).__name__,
            )
        finally:
            self._checking.release()

    def revision_moved(self) -> bool:
        """Whether another process changed the store since the snapshots were loaded (one read)."""
        return self.store.revision() != self._revision

    @property
    def saved_configs(self) -> SavedConfigs:
        """Saved configs' current versions in memory (``Gateway(config="pc-...")`` reads these)."""
        if self._saved is None:
            from .saved_configs import SavedConfigs

            self._saved = SavedConfigs(self)
        return self._saved

    @property
    def prompts(self) -> PromptSnapshot:
        """Prompts' labels and labelled versions in memory (rendering reads these)."""
        if self._prompts is None:
            from .prompt_snapshot import PromptSnapshot

            self._prompts = PromptSnapshot(self)
        return self._prompts

    def prices(self) -> PriceBook:
        """The chat rates in memory (loaded on first use; the analytics writer costs requests with it)."""
        self.maybe_refresh()
        book = self._prices
        return book if book is not None else self._load_prices()

    def refresh_prices(self) -> None:
        """Reload the rates snapshot if loaded (after a rate change made here; others' via the revision)."""
        if self._prices is not None:
            self._load_prices()

    def _load_prices(self) -> PriceBook:
        from ..catalog.billing import PriceBook
        from ..catalog.rates import all_rates

        with self.reload_lock:
            with self.store.reading() as session:
                self._prices = PriceBook(all_rates(session))
            return self._prices

    def pick(self, provider: str) -> SelectedCredential:
        """The next credential of ``provider`` (smooth weighted round-robin; no database)."""
        self.maybe_refresh()
        return self.selector.pick(provider)

    def report(
        self, credential_id: str, status_code: int, retry_after: float | None = None, error: str | None = None
    ) -> None:
        """How a request with ``credential_id`` went; see :meth:`CredentialSelector.report`.

        ``error`` (kept when the key is disabled) must already be free of secrets: pass the
        gateway error's message, which the upstream boundary has scrubbed.
        """
        self.selector.report(credential_id, status_code, retry_after, error)

    def provider_routes(self, wanted: str | None = None) -> Mapping[str, ProviderRoute]:
        """The registered providers the registry does not know by name (a snapshot, no database).

        ``wanted``: a name a config is being built with. When it is missing, the store revision is
        read once and the snapshots reloaded if another process changed it, so a gateway built
        right after another process registered the provider finds it (construction time only).
        """
        self.maybe_refresh()
        routes = self._routes
        if wanted is not None and wanted not in routes and not self._closed:
            try:
                if self.store.revision() != self._revision:
                    self.refresh()
                    routes = self._routes
            except StoreError as error:  # keep the snapshot; the caller reports the unknown name
                _log.warning("control plane snapshots not refreshed from %s: %s", self.store.shown_url, error)
        return routes

    def has_credentials(self, provider: str) -> bool:
        """Whether the vault holds keys for ``provider`` (leaves naming it then rotate over them)."""
        self.maybe_refresh()
        return self.selector.has_credentials(provider)

    def resolve_virtual_key(self, ref: str) -> SelectedCredential | None:
        """The stored key whose id or name is ``ref`` (``None`` when the local vault has no such key)."""
        self.maybe_refresh()
        try:
            return self.selector.credential(ref)
        except ResourceNotFoundError:
            return None

    # ------------------------------------------------------------------ listener (selector -> database)

    def credential_disabled(self, credential_id: str, error: str) -> None:
        """Persist a 401/403 disable and make sure the re-validation loop runs."""
        with self.store.changing() as session:
            self.vault.set_status(session, credential_id, active=False, error=error)
        _log.warning("provider key %s disabled: %s", credential_id, error)
        self._ensure_revalidation()

    def credential_restored(self, credential_id: str) -> None:
        """Persist a key's return to the rotation."""
        with self.store.changing() as session:
            self.vault.set_status(session, credential_id, active=True, error=None)
        _log.info("provider key %s is active again", credential_id)

    def flush_usage(self) -> None:
        """Write request counts and last-used times gathered in memory."""
        usage = self.selector.drain_usage()
        if usage:
            with self.store.transaction() as session:  # counts only: no snapshot depends on them
                self.vault.record_usage(session, usage)

    # ------------------------------------------------------------------ analytics (issue 7)

    @property
    def records(self) -> RecordWriter:
        """The analytics writer of this store (created on first use; its thread on first record)."""
        if self._records is None:
            from ..analytics.sinks import RecordWriter

            # price_refresh=0: each batch asks prices(), which is the snapshot (kept fresh here)
            self._records = RecordWriter(
                self.store, self.prices, price_refresh=0.0, flush_interval=self.flush_interval
            )
        return self._records

    @property
    def registered_models(self) -> RegisteredModels:
        """The registered models in memory (requests naming one resolve here, not in the database)."""
        if self._registered is None:
            from .registered import RegisteredModels

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

    def rewrap(self, *, on_progress: Callable[[int, int], None] | None = None) -> int:
        """Re-wrap every key's data key under the current master key (one transaction)."""
        with self.store.changing() as session:
            count = self.vault.rewrap_all(session, on_progress=on_progress)
        self.refresh()
        return count

    def master_key_ids(self) -> dict[str, dict[str, int]]:
        """How many provider keys and gateway API keys each master key (by id) protects."""
        found: dict[str, dict[str, int]] = {"provider_keys": {}, "gateway_keys": {}}
        with self.store.reading() as session:
            for kind, column in (
                ("provider_keys", CredentialRow.master_key_id),
                ("gateway_keys", ApiKeyRow.master_key_id),
            ):
                for key_id, count in session.execute(select(column, func.count()).group_by(column)):
                    found[kind][str(key_id)] = int(count)
        return found

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
        self._closed = True
        if self._records is not None:
            self._records.close()
        if self._deployer is not None:
            self._deployer.close()
        self.flush_usage()
        self.store.close()
