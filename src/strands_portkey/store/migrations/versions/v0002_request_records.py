"""Analytics: one row per gateway request (route, outcome, timings, tokens, cost).

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
    """Create ``request_records`` and the indexes the analytics queries use."""
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
    op.create_index("ix_request_records_model_created", "request_records", ["model_id", "created_at"])
    op.create_index("ix_request_records_provider_created", "request_records", ["provider", "created_at"])
    op.create_index("ix_request_records_latency", "request_records", ["latency_ms", "created_at"])


def downgrade() -> None:
    """Drop ``request_records``."""
    op.drop_table("request_records")
