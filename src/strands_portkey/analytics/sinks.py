"""The background writer: a bounded in-memory queue drained in batches by one thread.

The request path only appends to the queue (:meth:`RecordWriter.submit`); it never waits on the
database. A daemon thread wakes every ``flush_interval`` seconds (or as soon as a batch is full),
turns records into rows -- id, timestamp, retries, cost in USD and credits from the in-memory
:class:`~strands_portkey.catalog.billing.PriceBook` -- and inserts them in one transaction.

Nothing is lost silently: when the queue is full a record is dropped, counted in
:attr:`WriterStats.dropped` and logged (first drop, then every 1,000th); a failed batch is
counted in :attr:`WriterStats.failed` and logged with the database error. :meth:`flush` writes
everything queued so far (``Gateway.aclose()`` and ``ControlPlane.close()`` call it), and an
interpreter exit flushes too. A process killed outright (SIGKILL, power loss) loses what is
queued: at most the records of the last ``flush_interval`` seconds (plus the batch being written).
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import logging
import math
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..catalog.billing import PriceBook
from ..errors import ConfigurationError
from ..store.db import Store
from ..types import Usage
from .detail import identity_columns, rescued, route_detail, verdict
from .record import RequestRecord
from .rollups import store_rows

__all__ = ["DEFAULT_FLUSH_INTERVAL", "RecordWriter", "WriterStats", "check_flush_interval", "to_row"]

_log = logging.getLogger("strands_portkey.analytics")
_FREE = ("HIT", "SEMANTIC HIT")
_NO_USAGE = Usage()
DEFAULT_FLUSH_INTERVAL = 1.0
"""Seconds between writes: the most analytics a process killed outright (SIGKILL) can lose."""


def check_flush_interval(value: object, path: str = "flush_interval") -> float:
    """``value`` as seconds between analytics writes: a finite number > 0, else ConfigurationError."""
    if isinstance(value, str):  # from an environment variable
        with contextlib.suppress(ValueError):
            value = float(value)
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ConfigurationError(f"expected a positive number of seconds, got {value!r}", path=path)
    return float(value)


@dataclass(frozen=True, slots=True)
class WriterStats:
    """What the writer did: rows written, records dropped (queue full), records whose batch failed."""

    written: int
    dropped: int
    failed: int
    queued: int


def _retries(record: RequestRecord) -> int:
    """Retries at the leaf that answered (its attempts beyond the first)."""
    path = record.route.last_used_option_index
    return max(sum(1 for attempt in record.route.attempts if attempt.option_index == path) - 1, 0)


def _cost(record: RequestRecord, usage: Usage, prices: PriceBook) -> tuple[float | None, float | None]:
    """USD and credits; 0 for a cache hit (no provider call), ``None`` when no rate is stored."""
    if record.route.cache_status in _FREE:
        return 0.0, 0.0
    provider = record.route.provider
    for model in (record.route.model, record.requested_model):
        cost = prices.cost(provider, model, usage) if model else None
        if cost is not None:
            return (float(cost.usd) if cost.usd is not None else None), float(cost.credits)
    return None, None


def _saved(record: RequestRecord, usage: Usage, prices: PriceBook) -> float | None:
    """What a cache hit would have cost at the provider (None for a miss, or when no rate is stored)."""
    if record.route.cache_status not in _FREE:
        return None
    for model in (record.route.model, record.requested_model):
        cost = prices.cost(record.route.provider, model, usage) if model else None
        if cost is not None and cost.usd is not None:
            return float(cost.usd)
    return None


def to_row(record: RequestRecord, prices: PriceBook) -> dict[str, Any]:
    """The ``request_records`` row of a record (never a secret: the credential's id only)."""
    route, usage = record.route, record.usage or _NO_USAGE
    usd, credits = _cost(record, usage, prices)
    total = usage.total_tokens or usage.prompt_tokens + usage.completion_tokens
    return {
        "id": uuid.uuid4().hex,
        "created_at": dt.datetime.fromtimestamp(record.started_at, dt.timezone.utc),
        "trace_id": route.trace_id,
        "request_metadata": dict(record.metadata) or None,
        "user": record.user,
        "model_id": record.model_id,
        "requested_model": record.requested_model,
        "served_model": route.model or None,
        "provider": route.provider,
        "credential_id": route.credential_id,
        "option_path": route.last_used_option_index,
        "status": record.status,
        "status_code": record.status_code,
        "error_type": record.error_type,
        "retries": _retries(record),
        "latency_ms": record.latency_ms,
        "ttft_ms": record.ttft_ms,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "total_tokens": total,
        "cost_usd": usd,
        "cost_credits": credits,
        "cache_status": route.cache_status,
        "streamed": record.streamed,
        **_prompt_columns(record.metadata),
        **identity_columns(record.metadata),
        "saved_usd": _saved(record, usage, prices),
        "route_detail": route_detail(route),
        "rescued": rescued(route, record.status),
        "guard_verdict": verdict(route),
    }


def _prompt_columns(metadata: Mapping[str, str]) -> dict[str, Any]:
    """Which prompt version the request was made through (its ``prompt_id`` / ``prompt_version`` metadata)."""
    prompt_id, version = metadata.get("prompt_id"), metadata.get("prompt_version")
    if not prompt_id or not prompt_id.startswith("pp-"):
        return {"prompt_id": None, "prompt_version": None}
    return {
        "prompt_id": prompt_id[:40],
        "prompt_version": int(version) if version and version.isdigit() else None,
    }


class RecordWriter:
    """Queue records without blocking; write them in batches on a background thread.

    Args:
        store: The database the rows go to.
        prices: Loads the current rates (called on the writer thread, at most every
            ``price_refresh`` seconds).
        capacity: Most records waiting at once; beyond it records are dropped and counted.
        batch_size: Rows per insert; a full batch wakes the writer early.
        flush_interval: Seconds between writes when batches are not full (default 1.0): the
            bound on what a process killed without a chance to flush loses.
        wait: How the writer thread waits for the next write (default: the wake event's
            ``wait(timeout)``; tests inject one they step by hand).
    """

    def __init__(
        self,
        store: Store,
        prices: Callable[[], PriceBook],
        *,
        capacity: int = 100_000,
        batch_size: int = 1_000,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        price_refresh: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        self._store, self._load_prices, self._clock = store, prices, clock
        self._capacity, self._batch_size = capacity, batch_size
        self.flush_interval = check_flush_interval(flush_interval)
        self._price_refresh = price_refresh
        self._prices: PriceBook | None = None
        self._prices_at = 0.0
        self._queue: deque[RequestRecord] = deque()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._wait = wait if wait is not None else self._wake.wait
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.written = self.dropped = self.failed = 0
        self._at_exit = _closer(weakref.ref(self))
        atexit.register(self._at_exit)

    def __repr__(self) -> str:
        return f"RecordWriter(queued={len(self._queue)}, written={self.written}, dropped={self.dropped})"

    # ------------------------------------------------------------------ request path

    def submit(self, record: RequestRecord) -> None:
        """Queue ``record`` (O(1), never blocks); a full queue drops it, counted and logged."""
        queue = self._queue
        if len(queue) >= self._capacity:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                _log.warning(
                    "analytics queue full (%d records): %d record(s) dropped so far",
                    self._capacity,
                    self.dropped,
                )
            return
        queue.append(record)
        if self._thread is None:
            self._start()
        elif len(queue) >= self._batch_size:
            self._wake.set()

    # ------------------------------------------------------------------ writer thread

    def _start(self) -> None:
        with self._write_lock:
            if self._thread is None and not self._stopping:
                self._thread = threading.Thread(
                    target=self._run, name="strands-portkey-analytics", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while not self._stopping:
            self._wait(self.flush_interval)
            self._wake.clear()
            with self._write_lock:
                self._drain()

    def _price_book(self) -> PriceBook:
        now = self._clock()
        if self._prices is None or now - self._prices_at >= self._price_refresh:
            try:
                self._prices, self._prices_at = self._load_prices(), now
            except Exception as error:  # rates unreadable: costs stay unknown, rows are still written
                _log.error("analytics could not load model rates: %s", error)
                self._prices = self._prices or PriceBook()
        return self._prices

    def _drain(self) -> None:
        """Write everything queued, batch by batch (caller holds the write lock)."""
        queue = self._queue
        while queue:
            batch = [queue.popleft() for _ in range(min(self._batch_size, len(queue)))]
            prices = self._price_book()
            try:
                rows = [to_row(record, prices) for record in batch]
                with self._store.transaction() as session:
                    store_rows(session, rows)
            except Exception as error:  # the writer must survive a database outage; say what was lost
                self.failed += len(batch)
                _log.error("analytics: %d record(s) could not be written: %s", len(batch), error)
            else:
                self.written += len(batch)

    # ------------------------------------------------------------------ control

    def flush(self) -> None:
        """Write every record queued so far, on the calling thread (blocks until done)."""
        with self._write_lock:
            self._drain()

    def refresh_prices(self) -> None:
        """Reload rates before the next batch (call after changing model rates)."""
        self._prices = None

    def stats(self) -> WriterStats:
        """Counters: written, dropped, failed, and how many wait in the queue."""
        return WriterStats(self.written, self.dropped, self.failed, len(self._queue))

    def close(self) -> None:
        """Stop the thread and write what is left (idempotent)."""
        self._stopping = True
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        self.flush()
        atexit.unregister(self._at_exit)


def _closer(ref: weakref.ref[RecordWriter]) -> Callable[[], None]:
    """At interpreter exit, close a writer that was never closed (holding it only weakly)."""

    def close() -> None:
        writer = ref()
        if writer is not None:
            writer.close()

    return close
