"""The dashboard: who made each request and how it was served, plus hourly rollups per key user.

``request_records`` gains ``api_key_id``, ``key_user``, ``organization_id`` (the gateway key's
identity), ``saved_usd`` (what a cache hit would have cost), ``route_detail`` (attempts, guardrail
hooks), ``rescued`` (a fallback saved it) and ``guard_verdict``, with indexes for a member's
own records, trace ids, and the log by model or provider.
``dashboard_rollups`` and ``dashboard_latency`` (see :mod:`strands_portkey.store.dashboard_tables`)
are filled from the records already stored, so the dashboard shows history from the first load.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from strands_portkey.store.dashboard_tables import LATENCY_BOUNDS
from strands_portkey.store.tables import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_SUMS = (
    "requests", "errors", "total_tokens", "cost_usd", "cost_credits", "latency_sum", "ttft_sum",
    "ttft_count", "cache_hits", "cache_lookups", "saved_usd", "rescued", "guard_passed",
    "guard_failed", "guard_denied",
)  # fmt: skip


def _hour(dialect: str) -> str:
    if dialect == "postgresql":
        return "date_trunc('hour', created_at)"
    return "strftime('%Y-%m-%d %H:00:00.000000', created_at)"


def _bin() -> str:
    cases = " ".join(f"WHEN latency_ms < {bound!r} THEN {i}" for i, bound in enumerate(LATENCY_BOUNDS))
    return f"CASE {cases} ELSE {len(LATENCY_BOUNDS)} END"


def upgrade() -> None:
    """Add the columns and indexes, create the two rollup tables and fill them from the records."""
    with op.batch_alter_table("request_records") as batch:
        batch.add_column(sa.Column("api_key_id", sa.String(40), nullable=True))
        batch.add_column(sa.Column("key_user", sa.String(200), nullable=True))
        batch.add_column(sa.Column("organization_id", sa.String(200), nullable=True))
        batch.add_column(sa.Column("saved_usd", sa.Float(), nullable=True))
        batch.add_column(sa.Column("route_detail", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("rescued", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("guard_verdict", sa.String(10), nullable=True))
    op.create_index("ix_request_records_key_user", "request_records", ["key_user", "created_at"])
    op.create_index("ix_request_records_trace", "request_records", ["trace_id"])
    # the log filtered by model or provider, newest first (the latency indexes would need a sort)
    op.create_index("ix_request_records_model_time", "request_records", ["model_id", "created_at"])
    op.create_index("ix_request_records_provider_time", "request_records", ["provider", "created_at"])
    key = [
        sa.Column("hour", UTCDateTime(), primary_key=True),
        sa.Column("model_id", sa.String(200), primary_key=True),
        sa.Column("provider", sa.String(100), primary_key=True),
        sa.Column("key_user", sa.String(200), primary_key=True),
    ]
    floats = {"cost_usd", "cost_credits", "latency_sum", "ttft_sum", "saved_usd"}
    sums = [
        sa.Column(
            name,
            sa.Float() if name in floats else (sa.BigInteger() if name == "total_tokens" else sa.Integer()),
            nullable=False,
        )
        for name in _SUMS
    ]
    op.create_table("dashboard_rollups", *key, *sums)
    op.create_table(
        "dashboard_latency",
        sa.Column("hour", UTCDateTime(), primary_key=True),
        sa.Column("key_user", sa.String(200), primary_key=True),
        sa.Column("bin", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    hour = _hour(op.get_bind().dialect.name)
    op.execute(
        "INSERT INTO dashboard_rollups (hour, model_id, provider, key_user, " + ", ".join(_SUMS) + ") "
        f"SELECT {hour}, model_id, provider, '', count(*), "
        "sum(CASE WHEN status = 'error' THEN 1 ELSE 0 END), sum(total_tokens), "
        "coalesce(sum(cost_usd), 0), coalesce(sum(cost_credits), 0), sum(latency_ms), "
        "coalesce(sum(ttft_ms), 0), count(ttft_ms), "
        "sum(CASE WHEN cache_status IN ('HIT', 'SEMANTIC HIT') THEN 1 ELSE 0 END), "
        "sum(CASE WHEN cache_status = 'DISABLED' THEN 0 ELSE 1 END), 0, 0, 0, 0, 0 "
        f"FROM request_records GROUP BY {hour}, model_id, provider"
    )
    op.execute(
        "INSERT INTO dashboard_latency (hour, key_user, bin, count) "
        f"SELECT {hour}, '', {_bin()}, count(*) FROM request_records GROUP BY 1, 3"
    )


def downgrade() -> None:
    """Drop the rollup tables, the indexes and the columns."""
    op.drop_table("dashboard_latency")
    op.drop_table("dashboard_rollups")
    op.drop_index("ix_request_records_provider_time", table_name="request_records")
    op.drop_index("ix_request_records_model_time", table_name="request_records")
    op.drop_index("ix_request_records_trace", table_name="request_records")
    op.drop_index("ix_request_records_key_user", table_name="request_records")
    with op.batch_alter_table("request_records") as batch:
        for name in (
            "guard_verdict",
            "rescued",
            "route_detail",
            "saved_usd",
            "organization_id",
            "key_user",
            "api_key_id",
        ):
            batch.drop_column(name)
