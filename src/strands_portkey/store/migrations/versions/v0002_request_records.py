"""Analytics: one row per gateway request (route, outcome, timings, tokens, cost) and hourly sums.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from strands_portkey.store.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``request_records``, its indexes, and the hourly ``request_rollups``."""
    op.create_table(
        "request_records",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("trace_id", sa.String(200), nullable=False),
        sa.Column("request_metadata", sa.JSON(), nullable=True),
        sa.Column("user", sa.String(200), nullable=True),
        sa.Column("model_id", sa.String(200), nullable=False),
        sa.Column("requested_model", sa.String(200), nullable=False),
        sa.Column("served_model", sa.String(200), nullable=True),
        sa.Column("provider", sa.String(100), nullable=False),
        sa.Column("credential_id", sa.String(40), nullable=True),
        sa.Column("option_path", sa.String(300), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error_type", sa.String(100), nullable=True),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("ttft_ms", sa.Float(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_read_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_write_tokens", sa.Integer(), nullable=False),
        sa.Column("total_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("cost_credits", sa.Float(), nullable=True),
        sa.Column("cache_status", sa.String(20), nullable=False),
        sa.Column("streamed", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_request_records_created_at", "request_records", ["created_at"])
    op.create_index("ix_request_records_latency", "request_records", ["latency_ms", "created_at"])
    op.create_index(
        "ix_request_records_model_latency", "request_records", ["model_id", "latency_ms", "created_at"]
    )
    op.create_index(
        "ix_request_records_provider_latency", "request_records", ["provider", "latency_ms", "created_at"]
    )
    op.create_table(
        "request_rollups",
        sa.Column("hour", UTCDateTime(), primary_key=True),
        sa.Column("model_id", sa.String(200), primary_key=True),
        sa.Column("provider", sa.String(100), primary_key=True),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        *[
            sa.Column(name, sa.BigInteger(), nullable=False)
            for name in ("prompt_tokens", "completion_tokens", "cache_read_tokens", "cache_write_tokens")
        ],
        sa.Column("total_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("cost_credits", sa.Float(), nullable=False),
        sa.Column("priced", sa.Integer(), nullable=False),
        sa.Column("latency_sum", sa.Float(), nullable=False),
        sa.Column("ttft_sum", sa.Float(), nullable=False),
        sa.Column("ttft_count", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    """Drop ``request_rollups`` and ``request_records``."""
    op.drop_table("request_rollups")
    op.drop_table("request_records")
