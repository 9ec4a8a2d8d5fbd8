"""The AI model registry: registered models, their defaults and permissions.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from strands_portkey.store.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``ai_models``."""
    op.create_table(
        "ai_models",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("provider", sa.String(100), nullable=False),
        sa.Column("vendor_model_id", sa.String(200), nullable=False),
        sa.Column("model_type", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("capabilities", sa.JSON(), nullable=False),
        sa.Column("max_tokens", sa.Integer(), nullable=True),
        sa.Column("context_window", sa.Integer(), nullable=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("organization_id", sa.String(200), nullable=False),
        sa.Column("is_shared", sa.Boolean(), nullable=False),
        sa.Column("shared_with", sa.JSON(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_ai_models_type", "ai_models", ["type"])
    op.create_index("ix_ai_models_provider", "ai_models", ["provider"])
    op.create_index("ix_ai_models_status", "ai_models", ["status"])


def downgrade() -> None:
    """Drop ``ai_models``."""
    op.drop_table("ai_models")
