"""Writing the dashboard's rollups: per hour, model, provider and key user, plus latency bins.

Called by :func:`~strands_portkey.analytics.rollups.store_rows` in the transaction that inserts
the records, with the same upsert (``INSERT .. ON CONFLICT DO UPDATE``) on SQLite and PostgreSQL,
so several gateway processes can share one database and the tables never disagree with the rows.
Each request is summed twice: into everyone's rows (``key_user`` ``""``, what an admin reads) and,
when a gateway key made it, into its key user's rows (what that member reads).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from ..store.dashboard_tables import DashboardLatencyRow, DashboardRollupRow, latency_bin

__all__ = ["DASHBOARD_SUMS", "EVERYONE", "dashboard_sums", "latency_counts", "store_dashboard"]

EVERYONE = ""
"""The ``key_user`` of the rows that sum every request (an admin's view): a key's user is never empty."""

DASHBOARD_SUMS = (
    "requests",
    "errors",
    "total_tokens",
    "cost_usd",
    "cost_credits",
    "latency_sum",
    "ttft_sum",
    "ttft_count",
    "cache_hits",
    "cache_lookups",
    "saved_usd",
    "rescued",
    "guard_passed",
    "guard_failed",
    "guard_denied",
)
_HITS = ("HIT", "SEMANTIC HIT")


def _hour(when: dt.datetime) -> dt.datetime:
    return when.astimezone(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)


def _add(entry: dict[str, Any], row: Mapping[str, Any]) -> None:
    entry["requests"] += 1
    entry["errors"] += row["status"] == "error"
    entry["total_tokens"] += row["total_tokens"]
    entry["cost_usd"] += row["cost_usd"] or 0.0
    entry["cost_credits"] += row["cost_credits"] or 0.0
    entry["latency_sum"] += row["latency_ms"]
    if row["ttft_ms"] is not None:
        entry["ttft_sum"] += row["ttft_ms"]
        entry["ttft_count"] += 1
    entry["cache_hits"] += row["cache_status"] in _HITS
    entry["cache_lookups"] += row["cache_status"] != "DISABLED"
    entry["saved_usd"] += row.get("saved_usd") or 0.0
    entry["rescued"] += bool(row.get("rescued"))
    verdict = row.get("guard_verdict") or "none"
    if verdict != "none":
        entry[f"guard_{verdict}"] += 1


def _owners(row: Mapping[str, Any]) -> tuple[str, ...]:
    """Where a row is summed: everyone's sums (``""``), and its key user's when it has one."""
    user = row.get("key_user")
    return (EVERYONE, user) if user else (EVERYONE,)


def dashboard_sums(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Hourly sums of ``rows`` (``to_row`` rows) per model and provider: everyone's, each key user's."""
    sums: dict[tuple[dt.datetime, str, str, str], dict[str, Any]] = {}
    names = ("hour", "model_id", "provider", "key_user")
    for row in rows:
        hour = _hour(row["created_at"])
        for owner in _owners(row):
            key = (hour, row["model_id"], row["provider"], owner)
            entry = sums.get(key)
            if entry is None:
                entry = sums[key] = dict(zip(names, key, strict=True)) | dict.fromkeys(DASHBOARD_SUMS, 0)
            _add(entry, row)
    return list(sums.values())


def latency_counts(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """How many of ``rows`` fell in each (hour, latency bin): everyone's, and each key user's."""
    counts: dict[tuple[dt.datetime, str, int], int] = {}
    for row in rows:
        hour, index = _hour(row["created_at"]), latency_bin(row["latency_ms"])
        for owner in _owners(row):
            key = (hour, owner, index)
            counts[key] = counts.get(key, 0) + 1
    return [{"hour": h, "key_user": u, "bin": b, "count": n} for (h, u, b), n in counts.items()]


def _upsert(
    session: Session, table: Any, keys: list[str], summed: tuple[str, ...], values: list[Any]
) -> None:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        statement: Any = postgresql.insert(table)
    else:
        from sqlalchemy.dialects import sqlite

        statement = sqlite.insert(table)
    columns = table.__table__.c
    statement = statement.on_conflict_do_update(
        index_elements=keys, set_={name: columns[name] + statement.excluded[name] for name in summed}
    )
    session.execute(statement, values)


def store_dashboard(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Add ``rows`` to the dashboard's rollups (in the caller's transaction)."""
    if not rows:
        return
    keys = ["hour", "model_id", "provider", "key_user"]
    _upsert(session, DashboardRollupRow, keys, DASHBOARD_SUMS, dashboard_sums(rows))
    _upsert(session, DashboardLatencyRow, ["hour", "key_user", "bin"], ("count",), latency_counts(rows))
