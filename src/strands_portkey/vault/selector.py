"""Which credential serves the next request: smooth weighted round-robin (the nginx algorithm).

Per pick, over the provider's usable credentials: add each one's effective weight to its running
``current``; choose the largest ``current`` (ties: the earlier credential); subtract the total of
the effective weights from the chosen one. Weights 5, 1, 1 give ``a a b a c a a`` and repeat;
100, 100 alternate. One pick is O(n) over an in-memory snapshot under a lock: no database, no I/O.

Outcomes are reported back with :meth:`CredentialSelector.report`:

- **429**: the credential's effective weight drops to ``throttled_weight`` (10) for the cooldown
  (3 minutes, or the provider's ``Retry-After`` when longer), then returns to its weight;
- **401 / 403**: the credential is disabled with the error kept, leaves the rotation, and is due
  for re-validation after ``5 + 2**n`` seconds (n = failed re-checks so far) until that delay
  exceeds ``max_backoff_s`` (3 hours); then it waits for a manual check;
- **2xx** on a throttled or disabled credential restores it.

When a provider has no usable credential, :meth:`pick` raises
:class:`~strands_portkey.errors.CredentialsUnavailableError` listing each key's reason.
The clock is injected (seconds, monotonic), so tests never sleep.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from ..errors import CredentialsUnavailableError, ResourceNotFoundError
from ..wire import Secret
from .fields import CredentialSecret
from .keys import CredentialEntry

__all__ = ["CredentialSelector", "SelectedCredential", "SelectorListener"]


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


class _Slot:
    """Mutable rotation state of one credential."""

    __slots__ = (
        "current",
        "disabled",
        "entry",
        "error",
        "failures",
        "last_used",
        "next_check",
        "selected",
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
        self.uses = 0
        self.last_used: float | None = None
        self.selected = (
            SelectedCredential(
                entry.id, entry.name, entry.provider, entry.secret, entry.base_url, entry.region
            )
            if entry.secret is not None
            else None
        )


class CredentialSelector:
    """Smooth weighted round-robin over each provider's credentials, with cooldown and disable."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        cooldown_s: float = 180.0,
        throttled_weight: int = 10,
        backoff_base_s: float = 5.0,
        max_backoff_s: float = 10_800.0,
        listener: SelectorListener | None = None,
    ) -> None:
        self._clock = clock
        self._wall_clock = wall_clock
        self._cooldown_s = cooldown_s
        self._throttled_weight = throttled_weight
        self._backoff_base_s = backoff_base_s
        self._max_backoff_s = max_backoff_s
        self.listener = listener
        self._lock = threading.Lock()
        self._slots: dict[str, _Slot] = {}
        self._by_provider: dict[str, list[_Slot]] = {}
        self._by_name: dict[str, _Slot] = {}

    def __repr__(self) -> str:
        return f"CredentialSelector(providers={sorted(self._by_provider)}, credentials={len(self._slots)})"

    # ------------------------------------------------------------------ snapshot

    def load(self, entries: Iterable[CredentialEntry]) -> None:
        """Replace the snapshot; rotation, cooldown and re-check state carry over by credential id."""
        slots: dict[str, _Slot] = {}
        by_provider: dict[str, list[_Slot]] = {}
        with self._lock:
            for entry in entries:
                slot = _Slot(entry)
                old = self._slots.get(entry.id)
                if old is not None:
                    slot.current, slot.throttled_until = old.current, old.throttled_until
                    slot.uses, slot.last_used = old.uses, old.last_used
                    if old.disabled and slot.disabled:
                        slot.failures, slot.next_check = old.failures, old.next_check
                        slot.error = slot.error or old.error
                slots[entry.id] = slot
                by_provider.setdefault(entry.provider, []).append(slot)
            self._slots, self._by_provider = slots, by_provider
            self._by_name = {slot.entry.name: slot for slot in slots.values()}

    # ------------------------------------------------------------------ hot path

    def pick(self, provider: str) -> SelectedCredential:
        """The next credential of ``provider`` by smooth weighted round-robin."""
        with self._lock:
            slots = self._by_provider.get(provider)
            if slots:
                now = self._clock()
                best: _Slot | None = None
                total = 0
                for slot in slots:
                    if slot.disabled:
                        continue
                    weight = slot.weight
                    if slot.throttled_until is not None:
                        if now >= slot.throttled_until:
                            slot.throttled_until = None
                        else:
                            weight = min(weight, self._throttled_weight)
                    slot.current += weight
                    total += weight
                    if best is None or slot.current > best.current:
                        best = slot
                if best is not None and best.selected is not None:
                    best.current -= total
                    best.uses += 1
                    best.last_used = now
                    return best.selected
        raise self._unavailable(provider)

    def has_credentials(self, provider: str) -> bool:
        """Whether ``provider`` has stored credentials (active or not): its leaves rotate over them."""
        return bool(self._by_provider.get(provider))

    def credential(self, ref: str) -> SelectedCredential:
        """A specific credential by id or name (a virtual key), if it is usable."""
        slot = self._slots.get(ref) or self._by_name.get(ref)
        if slot is None:
            raise ResourceNotFoundError(f"no provider key with id or name {ref!r} in the local vault")
        if slot.disabled or slot.selected is None:
            raise CredentialsUnavailableError(
                f"provider key {slot.entry.name!r} is disabled ({slot.error or 'inactive'}): fix it with "
                "provider_keys.update(...) or re-check it with provider_keys.test(...)",
                provider=slot.entry.provider,
            )
        return slot.selected

    def _unavailable(self, provider: str) -> CredentialsUnavailableError:
        slots = self._by_provider.get(provider) or []
        if not slots:
            return CredentialsUnavailableError(
                f"no credential is stored for provider {provider!r}: add one with "
                f"gw.ai.provider_keys.create({{'name': ..., 'provider': {provider!r}, 'api_key': ...}})",
                provider=provider,
            )
        reasons = "; ".join(f"{slot.entry.name!r}: {slot.error or 'inactive'}" for slot in slots)
        return CredentialsUnavailableError(
            f"every credential of provider {provider!r} is disabled ({reasons}). Fix a key with "
            "gw.ai.provider_keys.update(key_id, {'api_key': ...}) or re-check it with "
            "gw.ai.provider_keys.test(key_id)",
            provider=provider,
        )

    # ------------------------------------------------------------------ outcomes

    def report(
        self, credential_id: str, status_code: int, retry_after: float | None = None, error: str | None = None
    ) -> None:
        """Record how a request with ``credential_id`` went (HTTP status; ``Retry-After`` seconds)."""
        notify: Callable[[], None] | None = None
        with self._lock:
            slot = self._slots.get(credential_id)
            if slot is None:
                return
            now = self._clock()
            if status_code == 429:
                slot.throttled_until = now + max(self._cooldown_s, retry_after or 0.0)
            elif status_code in (401, 403):
                if not slot.disabled:
                    slot.disabled = True
                    slot.error = error or f"the provider refused this key (HTTP {status_code})"
                    slot.failures = 0
                    slot.next_check = now + self._backoff(0)
                    message = slot.error
                    notify = self._disabled_callback(credential_id, message)
            elif 200 <= status_code < 300 and (slot.throttled_until is not None or slot.disabled):
                notify = self._restore(slot)
        if notify is not None:
            notify()

    def _disabled_callback(self, credential_id: str, error: str) -> Callable[[], None] | None:
        listener = self.listener
        return (lambda: listener.credential_disabled(credential_id, error)) if listener is not None else None

    def _restore(self, slot: _Slot) -> Callable[[], None] | None:
        was_disabled = slot.disabled and slot.selected is not None
        slot.throttled_until = None
        if not was_disabled:
            return None
        slot.disabled, slot.error, slot.failures, slot.next_check = False, None, 0, None
        listener, credential_id = self.listener, slot.entry.id
        return (lambda: listener.credential_restored(credential_id)) if listener is not None else None

    def _backoff(self, failures: int) -> float:
        return self._backoff_base_s + 2.0**failures

    # ------------------------------------------------------------------ re-validation

    def due_revalidations(self) -> list[str]:
        """Ids of disabled credentials whose next re-check time has come."""
        now = self._clock()
        with self._lock:
            return [
                slot.entry.id
                for slot in self._slots.values()
                if slot.disabled and slot.next_check is not None and slot.next_check <= now
            ]

    def next_revalidation_in(self) -> float | None:
        """Seconds until the earliest scheduled re-check (``None`` when none is scheduled)."""
        now = self._clock()
        with self._lock:
            times = [
                slot.next_check
                for slot in self._slots.values()
                if slot.disabled and slot.next_check is not None
            ]
        return max(0.0, min(times) - now) if times else None

    def revalidated(self, credential_id: str, ok: bool, message: str | None = None) -> None:
        """The result of a re-check: back into rotation, or the next, longer wait."""
        notify: Callable[[], None] | None = None
        with self._lock:
            slot = self._slots.get(credential_id)
            if slot is None or not slot.disabled:
                return
            if ok:
                notify = self._restore(slot)
            else:
                slot.failures += 1
                slot.error = message or slot.error
                delay = self._backoff(slot.failures)
                slot.next_check = None if delay > self._max_backoff_s else self._clock() + delay
        if notify is not None:
            notify()

    # ------------------------------------------------------------------ introspection

    def status(self, provider: str) -> list[dict[str, object]]:
        """Each credential's rotation state (name, weight, effective weight, disabled, error)."""
        now = self._clock()
        with self._lock:
            return [
                {
                    "id": slot.entry.id,
                    "name": slot.entry.name,
                    "weight": slot.weight,
                    "effective_weight": (
                        min(slot.weight, self._throttled_weight)
                        if slot.throttled_until is not None and now < slot.throttled_until
                        else slot.weight
                    ),
                    "disabled": slot.disabled,
                    "error": slot.error,
                    "next_check_in": None if slot.next_check is None else max(0.0, slot.next_check - now),
                }
                for slot in self._by_provider.get(provider, [])
            ]

    def drain_usage(self) -> dict[str, tuple[int, dt.datetime]]:
        """Request counts and last-used times since the last drain (to persist off the hot path)."""
        now, wall = self._clock(), self._wall_clock()
        usage: dict[str, tuple[int, dt.datetime]] = {}
        with self._lock:
            for slot in self._slots.values():
                if slot.uses and slot.last_used is not None:
                    when = dt.datetime.fromtimestamp(wall - (now - slot.last_used), dt.timezone.utc)
                    usage[slot.entry.id] = (slot.uses, when)
                    slot.uses = 0
        return usage
