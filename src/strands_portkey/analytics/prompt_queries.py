"""Requests made through prompts, per prompt version: so two versions can be compared side by side.

Read from ``request_records`` (the hourly rollups carry no prompt), through the
``(prompt_id, prompt_version, created_at)`` index. Definitions as in :mod:`.queries`: error rate
is ``error`` records over all; the p50 latency is the nearest rank.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from ..store.tables import RequestRecordRow as R
from .window import Window

__all__ = ["prompt_versions"]


def _filters(window: Window, prompt_id: str | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [R.prompt_id.is_not(None)]
    if prompt_id is not None:
        where.append(R.prompt_id == prompt_id)
    if window.start is not None:
        where.append(R.created_at >= window.start)
    if window.end is not None:
        where.append(R.created_at < window.end)
    if window.user is not None:
        where.append(R.user == window.user)
    return where


def _p50(session: Session, where: list[ColumnElement[bool]], count: int) -> float | None:
    if not count:
        return None
    rank = max(math.ceil(0.5 * count), 1) - 1
    found = session.execute(
        select(R.latency_ms).where(*where).order_by(R.latency_ms).offset(rank).limit(1)
    ).scalar()
    return float(found) if found is not None else None


def prompt_versions(session: Session, window: Window, prompt_id: str | None = None) -> list[dict[str, Any]]:
    """Per ``(prompt_id, prompt_version)``: requests, errors, error rate, latency, tokens, cost."""
    where = _filters(window, prompt_id)
    statement = (
        select(
            R.prompt_id,
            R.prompt_version,
            func.count().label("requests"),
            func.coalesce(func.sum(case((R.status == "error", 1), else_=0)), 0).label("errors"),
            func.coalesce(func.sum(R.latency_ms), 0.0).label("latency_sum"),
            func.coalesce(func.sum(R.total_tokens), 0).label("total_tokens"),
            func.coalesce(func.sum(R.cost_usd), 0.0).label("cost"),
        )
        .where(*where)
        .group_by(R.prompt_id, R.prompt_version)
        .order_by(R.prompt_id, R.prompt_version)
    )
    entries = []
    for row in session.execute(statement):
        requests = int(row.requests)
        group = [*where, R.prompt_id == row.prompt_id, R.prompt_version == row.prompt_version]
        entries.append(
            {
                "prompt_id": row.prompt_id,
                "prompt_version": row.prompt_version,
                "requests": requests,
                "errors": int(row.errors),
                "error_rate": int(row.errors) / requests if requests else 0.0,
                "avg_latency_ms": float(row.latency_sum) / requests if requests else 0.0,
                "p50_latency_ms": _p50(session, group, requests),
                "total_tokens": int(row.total_tokens),
                "cost": float(row.cost),
            }
        )
    return entries
