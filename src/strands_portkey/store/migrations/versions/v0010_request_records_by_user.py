"""Analytics of one user's requests: an index on ``request_records (user, latency_ms, created_at)``.

A member's analytics on the server read only their own records (the hourly rollups have no
user); this index lets those queries find them, and walk their latencies in order for the
percentiles, without scanning everyone's records.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``ix_request_records_user_latency``."""
    op.create_index(
        "ix_request_records_user_latency", "request_records", ["user", "latency_ms", "created_at"]
    )


def downgrade() -> None:
    """Drop ``ix_request_records_user_latency``."""
    op.drop_index("ix_request_records_user_latency", table_name="request_records")
