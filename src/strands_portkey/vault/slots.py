"""The selector's records: the credential handed to one request, and one credential's rotation state.

Kept apart from :mod:`.selector` (the algorithm) so each stays short. ``SelectedCredential`` holds
the secret for the one request that uses it; its ``repr`` never shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ..wire import Secret
from .fields import CredentialSecret
from .keys import CredentialEntry

__all__ = ["SelectedCredential", "SelectorListener", "Slot"]


@dataclass(frozen=True, slots=True)
class SelectedCredential:
    """The credential chosen for one request: use ``api_key`` (or ``credential``) in that request only."""

    id: str
    name: str
    provider: str
    credential: CredentialSecret = field(repr=False)
    base_url: str | None = None
    region: str | None = None

    @property
    def api_key(self) -> Secret | None:
        """The bearer-style key, for ``api_key`` credentials."""
        return self.credential.api_key


class SelectorListener(Protocol):
    """Told (outside the selector's lock) when a credential leaves or rejoins the rotation."""

    def credential_disabled(self, credential_id: str, error: str) -> None:
        """A 401/403 disabled it (persist ``active=False`` and the error)."""
        ...

    def credential_restored(self, credential_id: str) -> None:
        """A success or a passed re-check brought it back (persist ``active=True``)."""
        ...


class Slot:
    """Mutable rotation state of one credential (guarded by the selector's lock)."""

    __slots__ = (
        "current",
        "disabled",
        "entry",
        "error",
        "failures",
        "last_used",
        "next_check",
        "selected",
        "shared_throttled",
        "throttled_until",
        "uses",
        "weight",
    )

    def __init__(self, entry: CredentialEntry) -> None:
        self.entry = entry
        self.weight = entry.weight
        self.current = 0
        self.throttled_until: float | None = None
        self.disabled = not entry.active or entry.secret is None
        self.error = entry.error
        self.failures = 0
        self.next_check: float | None = None
        self.shared_throttled = False  # last picked while the shared state had it cooling down
        self.uses = 0
        self.last_used: float | None = None
        self.selected = (
            SelectedCredential(
                entry.id, entry.name, entry.provider, entry.secret, entry.base_url, entry.region
            )
            if entry.secret is not None
            else None
        )
