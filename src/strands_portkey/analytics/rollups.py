"""Writing records: the rows themselves plus their hourly sums, in one transaction.

``request_rollups`` holds, per (hour, model_id, provider), the sums the analytics need (requests,
errors, tokens, cost, priced requests, latency and time-to-first-token sums). The writer adds a
batch's sums with one upsert (``INSERT .. ON CONFLICT DO UPDATE`` on SQLite and PostgreSQL), so
several gateway processes can share one database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from ..store.tables import RequestRecordRow, RequestRollupRow
from .dashboard_rollups import store_dashboard

__all__ = ["SUMMED", "rollup", "store_rows"]

SUMMED = (
    "requests",
    "errors",
    "prompt_tokens",
    "completion_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "total_tokens",
    "cost_usd",
    "cost_credits",
    "priced",
    "latency_sum",
    "ttft_sum",
    "ttft_count",
)


def _hour(when: dt.datetime) -> dt.datetime:
    return when.astimezone(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)


def rollup(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The hourly sums of ``rows`` (``request_records`` rows), one per hour, model and provider."""
    sums: dict[tuple[dt.datetime, str, str], dict[str, Any]] = {}
    for row in rows:
        key = (_hour(row["created_at"]), row["model_id"], row["provider"])
        entry = sums.get(key)
        if entry is None:
            entry = sums[key] = {"hour": key[0], "model_id": key[1], "provider": key[2]} | dict.fromkeys(
                SUMMED, 0
            )
        entry["requests"] += 1
        entry["errors"] += row["status"] == "error"
        for name in (
            "prompt_tokens",
            "completion_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
            "total_tokens",
        ):
            entry[name] += row[name]
        if row["cost_usd"] is not None:
            entry["cost_usd"] += row["cost_usd"]
            entry["priced"] += 1
        entry["cost_credits"] += row["cost_credits"] or 0.0
        entry["latency_sum"] += row["latency_ms"]
        if row["ttft_ms"] is not None:
            entry["ttft_sum"] += row["ttft_ms"]
            entry["ttft_count"] += 1
    return list(sums.values())


def _upsert(session: Session, sums: list[dict[str, Any]]) -> None:
    table = RequestRollupRow.__table__
    keys = ["hour", "model_id", "provider"]
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        pg = postgresql.insert(RequestRollupRow)
        statement: Any = pg.on_conflict_do_update(
            index_elements=keys, set_={name: table.c[name] + pg.excluded[name] for name in SUMMED}
        )
    else:
        from sqlalchemy.dialects import sqlite

        lite = sqlite.insert(RequestRollupRow)
        statement = lite.on_conflict_do_update(
            index_elements=keys, set_={name: table.c[name] + lite.excluded[name] for name in SUMMED}
        )
    session.execute(statement, sums)


def store_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` and add their sums to both rollups (in the caller's transaction)."""
    if rows:
        session.execute(insert(RequestRecordRow), rows)
        _upsert(session, rollup(rows))
        store_dashboard(session, rows)
