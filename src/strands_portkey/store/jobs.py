"""Background jobs' records (``background_jobs``): what a job is doing or found, for every process.

A job (``test_models``) runs on a thread of the process that started it; its row lets any process
sharing the database (another server worker, the CLI) read its state and results by id. Results
are plain JSON (provider, model, ok, message); a message has been scrubbed of keys already.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..errors import ResourceNotFoundError
from .tables import Base, UTCDateTime, utcnow

__all__ = ["JobRecord", "JobRow", "find_job", "finish_job", "start_job"]


class JobRow(Base):
    """One background job: its kind, who started it, its state and, once it ended, its results."""

    __tablename__ = "background_jobs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    user: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))  # running | done | failed
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


@dataclass(frozen=True, slots=True)
class JobRecord:
    """A job as stored."""

    id: str
    kind: str
    user: str
    status: str
    results: list[dict[str, Any]]
    error: str | None


def start_job(session: Session, job_id: str, kind: str, user: str) -> None:
    """Record a job that has started."""
    session.add(JobRow(id=job_id, kind=kind, user=user, status="running", results=[], created_at=utcnow()))


def finish_job(
    session: Session, job_id: str, status: str, results: list[dict[str, Any]], error: str | None
) -> None:
    """Record how a job ended (a row that is gone stays gone)."""
    row = session.get(JobRow, job_id)
    if row is not None:
        row.status, row.results, row.error, row.finished_at = status, results, error, utcnow()


def find_job(session: Session, job_id: str, kind: str) -> JobRecord:
    """The job ``job_id`` of ``kind``; :class:`ResourceNotFoundError` otherwise."""
    row = session.get(JobRow, job_id)
    if row is None or row.kind != kind:
        raise ResourceNotFoundError(f"job_id: no {kind} job {job_id!r}")
    return JobRecord(row.id, row.kind, row.user, row.status, list(row.results or []), row.error)
