"""Fixed-window counters shared by every process on the database (``test_models``' limit per user).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``action_windows`` (one row per limited key: window start and count)."""
    op.create_table(
        "action_windows",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("opened_at", sa.Float(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    """Drop ``action_windows``."""
    op.drop_table("action_windows")
