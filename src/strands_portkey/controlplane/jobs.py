"""``test_models``: a background job checking that every rated model is offered by its provider.

For each provider with rates, one credential is picked and the provider's models are listed (the
same non-billed call as key validation); each rated model is reported available or not, with the
reason. Starting the job is limited to 5 runs per 10 minutes per user (a fixed window from the
user's first run); over the limit, :class:`~strands_portkey.errors.LimitExceededError` says how
many seconds to wait (``retry_after``).
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any, cast

from ..catalog.rates import RateRecord
from ..errors import CredentialsUnavailableError, LimitExceededError
from ..limits.windows import WindowCounter
from ..store.jobs import find_job, finish_job, start_job
from .plane import ControlPlane
from .validation import list_models

__all__ = ["JOB_KIND", "FixedWindowLimiter", "TestModelsJob", "run_test_models", "stored_job"]

JOB_KIND = "test_models"
_log = logging.getLogger("strands_portkey.controlplane")


class FixedWindowLimiter:
    """At most ``limit`` starts per ``window_s`` per user, the window opening at the user's first start.

    The count lives in ``counter`` (:class:`~strands_portkey.limits.windows.WindowCounter`): in the
    database by default, so every process sharing it (server workers, the CLI) shares the limit.
    """

    def __init__(self, counter: WindowCounter, *, limit: int = 5, window_s: float = 600.0) -> None:
        self._counter = counter
        self._limit = limit
        self._window_s = window_s

    def acquire(self, user: str) -> None:
        """Count one start for ``user``, or raise :class:`LimitExceededError` with the wait."""
        wait = self._counter.take(f"test_models:{user}", limit=self._limit, window_s=self._window_s)
        if wait is not None:
            seconds = max(1, math.ceil(wait))
            raise LimitExceededError(
                f"test_models may run {self._limit} times per {self._window_s / 60:g} minutes per user; "
                f"user {user!r} must wait {seconds} s",
                retry_after=seconds,
            )


@dataclass
class TestModelsJob:
    """A running or finished ``test_models`` job: ``status`` and, when done, ``results``."""

    id: str
    user: str
    status: str = "running"
    results: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    _done: threading.Event = field(default_factory=threading.Event, repr=False)

    def wait(self, timeout: float | None = None) -> list[dict[str, Any]]:
        """Block until the job ends (or ``timeout`` seconds); the results so far."""
        self._done.wait(timeout)
        return list(self.results)

    @property
    def done(self) -> bool:
        """Whether the job has ended."""
        return self._done.is_set()


def _format_of(plane: ControlPlane, provider: str) -> str | None:
    """The API format of a registered provider the registry does not know (else its name decides)."""
    route = plane.provider_routes().get(provider)
    return route.api_format if route is not None else None


async def _test_provider(plane: ControlPlane, provider: str, rates: list[RateRecord]) -> list[dict[str, Any]]:
    try:
        chosen = plane.selector.pick(provider)
    except CredentialsUnavailableError as error:
        return [_result(rate, False, error.message) for rate in rates]
    listing = await list_models(
        provider,
        chosen.base_url,
        chosen.credential,
        transport=plane.transport,
        settings=plane.transport_settings,
        region=chosen.region,
        api_format=_format_of(plane, provider),
    )
    plane.selector.report(
        chosen.id, 200 if listing.outcome.success else 401 if listing.outcome.auth_failed else 0
    )
    if not listing.outcome.success:
        return [_result(rate, False, listing.outcome.message) for rate in rates]
    return [
        _result(rate, True, "listed by the provider")
        if rate.model in listing.model_ids
        else _result(rate, False, f"{provider} does not list {rate.model!r}")
        for rate in rates
    ]


def _result(rate: RateRecord, ok: bool, message: str) -> dict[str, Any]:
    return {"provider": rate.provider, "model": rate.model, "type": rate.type, "ok": ok, "message": message}


def run_test_models(plane: ControlPlane, rates: list[RateRecord], user: str) -> TestModelsJob:
    """Start the job on a background thread (its own event loop) and return its handle at once.

    The job is recorded in the store when it starts and when it ends, so any process sharing the
    database can read it (:func:`stored_job`).
    """
    job = TestModelsJob(id=f"job-{secrets.token_hex(6)}", user=user)
    by_provider: dict[str, list[RateRecord]] = {}
    for rate in rates:
        by_provider.setdefault(rate.provider, []).append(rate)
    with plane.store.transaction() as session:
        start_job(session, job.id, JOB_KIND, user)

    async def run() -> None:
        for provider, provider_rates in sorted(by_provider.items()):
            job.results.extend(await _test_provider(plane, provider, provider_rates))

    def main() -> None:
        status, error = "failed", cast("str | None", "interrupted")
        try:
            asyncio.run(run())
            status, error = "done", None
        except Exception as failure:  # the job reports its failure instead of dying silently
            status, error = "failed", f"{type(failure).__name__}: {failure}"
        try:
            with plane.store.transaction() as session:
                finish_job(session, job.id, status, list(job.results), error)
        except Exception as failure:  # the store is down: the job's handle still says how it went
            _log.warning("test_models job %s not recorded: %s", job.id, type(failure).__name__)
        finally:
            job.status, job.error = status, error
            job._done.set()

    threading.Thread(target=main, name=job.id, daemon=True).start()
    return job


def stored_job(plane: ControlPlane, job_id: str) -> TestModelsJob:
    """A ``test_models`` job as recorded in the store (started by any process); ended ones are done."""
    with plane.store.reading() as session:
        record = find_job(session, job_id, JOB_KIND)
    job = TestModelsJob(id=record.id, user=record.user, status=record.status, results=record.results)
    job.error = record.error
    if record.status != "running":
        job._done.set()
    return job
