"""Re-validation of disabled provider keys: the background loop a 401/403 starts, with backoff.

A mixin of :class:`~strands_portkey.controlplane.plane.ControlPlane`, apart so the plane stays
about its snapshots. The selector decides when each disabled key is due (``5 + 2**n`` seconds);
this checks it against its provider and writes the outcome.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from ..store.db import Store
from ..store.tables import CredentialRow
from ..transport import AsyncHTTPTransport, TransportSettings
from ..vault.keys import KeyVault, TestOutcome
from ..vault.selector import CredentialSelector
from .validation import validate_credential

__all__ = ["Revalidation"]

_log = logging.getLogger("strands_portkey.controlplane")


class Revalidation:
    """Checks disabled keys again when they are due; the plane's attributes it relies on are typed here."""

    store: Store
    vault: KeyVault
    selector: CredentialSelector
    transport: AsyncHTTPTransport | None
    transport_settings: TransportSettings | None
    _sleep: Callable[[float], Awaitable[None]]
    _revalidation: asyncio.Task[None] | None

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
            api_format=row.provider.api_format,
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
            with self.store.changing() as session:
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
