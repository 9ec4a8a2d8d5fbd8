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

**Shared between processes** (:meth:`CredentialSelector.share`, ``Gateway(shared_state=...)``):
the round-robin counters, 429 cooldowns and 401/403 disables then live in a
:class:`~strands_portkey.shared_state.SharedState` (Redis for several workers): each pick is one
atomic step there, a 429 seen by one process throttles the key for all, and a 401/403 takes it
out of every process's rotation at once (for ``shared_disable_s``, or until a success, a passed
re-check or a fixed key restores it). The durable disable (``active=False`` in the database, via
the listener) and the re-check schedule stay as they are; the shared state is the fast path.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable, Mapping

from ..errors import CredentialsUnavailableError, ResourceNotFoundError
from ..shared_state import MemberStatus, SharedState
from .keys import CredentialEntry
from .slots import SelectedCredential, SelectorListener, Slot

__all__ = ["CredentialSelector", "SelectedCredential", "SelectorListener"]


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
        shared_disable_s: float = 3_600.0,
    ) -> None:
        self._clock = clock
        self._wall_clock = wall_clock
        self._cooldown_s = cooldown_s
        self._throttled_weight = throttled_weight
        self._backoff_base_s = backoff_base_s
        self._max_backoff_s = max_backoff_s
        self.listener = listener
        self._shared: SharedState | None = None
        self._shared_disable_s = shared_disable_s
        self._lock = threading.Lock()
        self._slots: dict[str, Slot] = {}
        self._by_provider: dict[str, list[Slot]] = {}
        self._by_name: dict[str, Slot] = {}

    def __repr__(self) -> str:
        return f"CredentialSelector(providers={sorted(self._by_provider)}, credentials={len(self._slots)})"

    def share(self, state: SharedState | None) -> None:
        """Keep round-robin positions, cooldowns and disables in ``state`` from now on (None: here)."""
        self._shared = state

    # ------------------------------------------------------------------ snapshot

    def load(self, entries: Iterable[CredentialEntry]) -> None:
        """Replace the snapshot; rotation, cooldown and re-check state carry over by credential id."""
        slots: dict[str, Slot] = {}
        by_provider: dict[str, list[Slot]] = {}
        fixed: list[str] = []  # disabled here, active in the new snapshot: fixed or re-checked
        with self._lock:
            for entry in entries:
                slot = Slot(entry)
                old = self._slots.get(entry.id)
                if old is not None:
                    slot.current, slot.throttled_until = old.current, old.throttled_until
                    slot.uses, slot.last_used = old.uses, old.last_used
                    if old.disabled and slot.disabled:
                        slot.failures, slot.next_check = old.failures, old.next_check
                        slot.error = slot.error or old.error
                    elif old.disabled and old.selected is not None:
                        fixed.append(entry.id)
                slots[entry.id] = slot
                by_provider.setdefault(entry.provider, []).append(slot)
            self._slots, self._by_provider = slots, by_provider
            self._by_name = {slot.entry.name: slot for slot in slots.values()}
        shared = self._shared
        if shared is not None:
            for credential_id in fixed:
                shared.restore(credential_id)

    # ------------------------------------------------------------------ hot path

    def pick(self, provider: str) -> SelectedCredential:
        """The next credential of ``provider`` by smooth weighted round-robin."""
        if self._shared is not None:
            return self._pick_shared(provider, self._shared)
        with self._lock:
            slots = self._by_provider.get(provider)
            if slots:
                now = self._clock()
                best: Slot | None = None
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

    def _pick_shared(self, provider: str, shared: SharedState) -> SelectedCredential:
        """One atomic step in the shared state over the credentials usable here (I/O off the lock)."""
        with self._lock:
            members = [
                (slot.entry.id, slot.weight)
                for slot in self._by_provider.get(provider, ())
                if not slot.disabled and slot.selected is not None
            ]
        choice = None
        if members:
            choice = shared.swrr_pick(f"cred:{provider}", members, throttled_weight=self._throttled_weight)
        if choice is not None:
            with self._lock:
                slot = self._slots.get(choice.member)
                if slot is not None and slot.selected is not None:
                    slot.uses += 1
                    slot.last_used = self._clock()
                    slot.shared_throttled = choice.throttled
                    return slot.selected
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
        reasons = "; ".join(f"{slot.entry.name!r}: {_reason(slot)}" for slot in slots)
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
        shared: Callable[[], None] | None = None
        with self._lock:
            slot = self._slots.get(credential_id)
            if slot is None:
                return
            now = self._clock()
            if status_code == 429:
                seconds = max(self._cooldown_s, retry_after or 0.0)
                slot.throttled_until = now + seconds
                shared = self._shared_step("throttle", credential_id, seconds)
            elif status_code in (401, 403):
                if not slot.disabled:
                    slot.disabled = True
                    slot.error = error or f"the provider refused this key (HTTP {status_code})"
                    slot.failures = 0
                    slot.next_check = now + self._backoff(0)
                    message = slot.error
                    notify = self._disabled_callback(credential_id, message)
                    shared = self._shared_step("disable", credential_id, self._shared_disable_s)
            elif 200 <= status_code < 300 and (
                slot.throttled_until is not None or slot.disabled or slot.shared_throttled
            ):
                notify = self._restore(slot)
                shared = self._shared_step("restore", credential_id)
        if shared is not None:  # I/O outside the lock
            shared()
        if notify is not None:
            notify()

    def _shared_step(self, step: str, credential_id: str, seconds: float = 0.0) -> Callable[[], None] | None:
        """The shared state's ``throttle`` / ``disable`` / ``restore`` of ``credential_id``, to run later."""
        state = self._shared
        if state is None:
            return None
        if step == "restore":
            return lambda: state.restore(credential_id)
        action = state.throttle if step == "throttle" else state.disable
        return lambda: action(credential_id, seconds)

    def _disabled_callback(self, credential_id: str, error: str) -> Callable[[], None] | None:
        listener = self.listener
        return (lambda: listener.credential_disabled(credential_id, error)) if listener is not None else None

    def _restore(self, slot: Slot) -> Callable[[], None] | None:
        was_disabled = slot.disabled and slot.selected is not None
        slot.throttled_until, slot.shared_throttled = None, False
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
        shared: Callable[[], None] | None = None
        with self._lock:
            slot = self._slots.get(credential_id)
            if slot is None or not slot.disabled:
                return
            if ok:
                notify = self._restore(slot)
                shared = self._shared_step("restore", credential_id)
            else:
                slot.failures += 1
                slot.error = message or slot.error
                delay = self._backoff(slot.failures)
                slot.next_check = None if delay > self._max_backoff_s else self._clock() + delay
        if shared is not None:
            shared()
        if notify is not None:
            notify()

    # ------------------------------------------------------------------ introspection

    def providers(self) -> list[str]:
        """The providers this selector holds keys for (the metrics list their keys' states)."""
        with self._lock:
            return sorted(self._by_provider)

    def status(self, provider: str) -> list[dict[str, object]]:
        """Each credential's rotation state (name, weight, effective weight, disabled, error).

        With a shared state, its cooldowns and disables (set by any process) count too.
        """
        shared: Mapping[str, MemberStatus] = {}
        if self._shared is not None:
            shared = self._shared.status([slot.entry.id for slot in self._by_provider.get(provider, [])])
        now = self._clock()
        with self._lock:
            return [
                self._row(slot, now, shared.get(slot.entry.id))
                for slot in self._by_provider.get(provider, [])
            ]

    def _row(self, slot: Slot, now: float, shared: MemberStatus | None) -> dict[str, object]:
        if shared is None:  # without a shared state, this process's own cooldown
            throttled = slot.throttled_until is not None and now < slot.throttled_until
        else:
            throttled = shared.throttled_for is not None
        shared_off = shared is not None and shared.disabled_for is not None and not slot.disabled
        return {
            "id": slot.entry.id,
            "name": slot.entry.name,
            "weight": slot.weight,
            "effective_weight": (min(slot.weight, self._throttled_weight) if throttled else slot.weight),
            "disabled": slot.disabled or shared_off,
            "error": slot.error or (_SHARED_DISABLED if shared_off else None),
            "next_check_in": None if slot.next_check is None else max(0.0, slot.next_check - now),
        }

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


_SHARED_DISABLED = "refused by the provider (HTTP 401/403) in another gateway process"


def _reason(slot: Slot) -> str:
    """Why ``slot`` is out of the rotation (locally, else through the shared state)."""
    if slot.error:
        return slot.error
    return "inactive" if slot.disabled else _SHARED_DISABLED
