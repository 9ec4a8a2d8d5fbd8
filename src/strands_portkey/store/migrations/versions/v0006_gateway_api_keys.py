"""Gateway API keys (``spk-...``): a keyed hash per key, its owner, role, scopes and limits.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from strands_portkey.store.tables import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``gateway_api_keys``."""
    op.create_table(
        "gateway_api_keys",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("lookup", sa.String(32), nullable=False, unique=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("master_key_id", sa.String(32), nullable=False),
        sa.Column("hint", sa.String(8), nullable=False),
        sa.Column("user", sa.String(200), nullable=False),
        sa.Column("organization_id", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("allowed_models", sa.JSON(), nullable=True),
        sa.Column("allowed_configs", sa.JSON(), nullable=True),
        sa.Column("default_config", sa.String(40), nullable=True),
        sa.Column("rate_limits", sa.JSON(), nullable=False),
        sa.Column("usage_limits", sa.JSON(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("rotated_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_gateway_api_keys_user", "gateway_api_keys", ["user"])
    op.create_index("ix_gateway_api_keys_organization_id", "gateway_api_keys", ["organization_id"])


def downgrade() -> None:
    """Drop ``gateway_api_keys``."""
    op.drop_table("gateway_api_keys")
