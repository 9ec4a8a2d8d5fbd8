"""The dashboard's request log: recorded requests, newest first, filtered; and one request whole.

Reads ``request_records`` through its indexes: ``created_at`` for the newest page, ``(key_user,
created_at)`` for a member's own requests, ``trace_id`` for a trace, ``(model_id, created_at)``
and ``(provider, created_at)`` for a model's or a provider's. ``total`` is counted up to
:data:`COUNT_CAP` (counting a million filtered rows on every page would cost more than the page):
past it the answer says ``total_capped``. ``owner`` narrows every read to requests made with that
user's keys; a request of someone else is *not found*, as if it did not exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import Session

from ..store.tables import RequestRecordRow

__all__ = ["COUNT_CAP", "LogFilters", "find_request", "list_requests"]

R = RequestRecordRow
COUNT_CAP = 10_000
_COLUMNS = {
    "model": R.model_id,
    "provider": R.provider,
    "status": R.status,
    "key": R.api_key_id,
    "user": R.user,
    "trace_id": R.trace_id,
    "cache": R.cache_status,
}


@dataclass(frozen=True, slots=True)
class LogFilters:
    """Which requests the log lists: equality filters and a time range.

    ``fields`` by name (``model``, ``provider``, ``status``, ``key``, ``user``, ``trace_id``,
    ``cache``); ``since <= created_at < until``.
    """

    fields: dict[str, str]
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def _filtered(statement: Select[Any], filters: LogFilters, owner: str | None) -> Select[Any]:
    for name, value in filters.fields.items():
        statement = statement.where(_COLUMNS[name] == value)
    if filters.since is not None:
        statement = statement.where(R.created_at >= filters.since)
    if filters.until is not None:
        statement = statement.where(R.created_at < filters.until)
    if owner is not None:  # a member: its key user's requests (an empty user owns none)
        statement = statement.where(R.key_user == owner if owner else false())
    return statement


def _summary(row: RequestRecordRow) -> dict[str, Any]:
    """One line of the log: what happened, how long it took, what it cost."""
    return {
        "id": row.id,
        "created_at": row.created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "trace_id": row.trace_id,
        "model": row.model_id,
        "provider": row.provider,
        "status": row.status,
        "status_code": row.status_code,
        "latency_ms": round(row.latency_ms, 1),
        "total_tokens": row.total_tokens,
        "cost_usd": row.cost_usd,
        "cache_status": row.cache_status,
        "retries": row.retries,
        "rescued": bool(row.rescued),
        "guard_verdict": row.guard_verdict or "none",
        "key": row.api_key_id,
        "user": row.user,
        "streamed": row.streamed,
    }


def list_requests(
    session: Session, filters: LogFilters, owner: str | None, limit: int, offset: int
) -> dict[str, Any]:
    """A page of the log (the listing envelope, plus ``total_capped``)."""
    page = _filtered(select(R), filters, owner).order_by(R.created_at.desc(), R.id.desc())
    rows = session.scalars(page.limit(limit).offset(offset)).all()
    counted = _filtered(select(R.id), filters, owner).limit(COUNT_CAP + 1).subquery()
    total = int(session.execute(select(func.count()).select_from(counted)).scalar_one())
    return {
        "data": [_summary(row) for row in rows],
        "total": min(total, COUNT_CAP),
        "total_capped": total > COUNT_CAP,
        "limit": limit,
        "offset": offset,
    }


def find_request(session: Session, request_id: str, owner: str | None) -> dict[str, Any] | None:
    """One request whole (its route, tokens, cost, guardrails), or None if absent or not the owner's."""
    row = session.get(R, request_id)
    if row is None or (owner is not None and (not owner or row.key_user != owner)):
        return None
    detail = row.route_detail or {}
    metadata = {k: v for k, v in (row.request_metadata or {}).items() if not k.startswith("_")}
    return _summary(row) | {
        "requested_model": row.requested_model,
        "served_model": row.served_model,
        "option_path": row.option_path,
        "error_type": row.error_type,
        "ttft_ms": row.ttft_ms,
        "prompt_tokens": row.prompt_tokens,
        "completion_tokens": row.completion_tokens,
        "cache_read_tokens": row.cache_read_tokens,
        "cache_write_tokens": row.cache_write_tokens,
        "cost_credits": row.cost_credits,
        "saved_usd": row.saved_usd,
        "credential_id": row.credential_id,
        "organization_id": row.organization_id,
        "metadata": metadata,
        "attempts": detail.get("attempts", []),
        "retry_attempt_count": detail.get("retry_attempt_count", row.retries),
        "hooks": detail.get("hooks", []),
        "prompt": {"id": row.prompt_id, "version": row.prompt_version} if row.prompt_id else None,
    }
