"""Control plane: providers, credentials (encrypted), model rates.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from strands_portkey.store.tables import ExactDecimal, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    ]


def upgrade() -> None:
    """Create the three tables."""
    op.create_table(
        "providers",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("base_url", sa.String(500), nullable=True),
        sa.Column("region", sa.String(100), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        *_timestamps(),
    )
    op.create_table(
        "credentials",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "provider_id", sa.String(40), sa.ForeignKey("providers.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("credential_type", sa.String(20), nullable=False),
        sa.Column("identifiers", sa.JSON(), nullable=False),
        sa.Column("masked", sa.String(200), nullable=False),
        sa.Column("master_key_id", sa.String(32), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("provider_organization", sa.String(200), nullable=True),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("organization_id", sa.String(200), nullable=True),
        sa.Column("usage_count", sa.Integer(), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.Column("last_tested_at", UTCDateTime(), nullable=True),
        sa.Column("test_success", sa.Boolean(), nullable=True),
        sa.Column("test_message", sa.Text(), nullable=True),
        *_timestamps(),
    )
    op.create_index("ix_credentials_provider_id", "credentials", ["provider_id"])
    op.create_table(
        "model_rates",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "provider_id", sa.String(40), sa.ForeignKey("providers.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("input_rate", ExactDecimal(), nullable=False),
        sa.Column("output_rate", ExactDecimal(), nullable=False),
        sa.Column("cache_read_rate", ExactDecimal(), nullable=True),
        sa.Column("cache_write_rate", ExactDecimal(), nullable=True),
        sa.Column("unit_costs", sa.JSON(), nullable=True),
        sa.Column("model_metadata", sa.JSON(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        *_timestamps(),
        sa.UniqueConstraint("provider_id", "model", "type", name="uq_model_rates_provider_model_type"),
    )
    op.create_index("ix_model_rates_provider_id", "model_rates", ["provider_id"])
    op.create_index("ix_model_rates_model", "model_rates", ["model"])


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_table("model_rates")
    op.drop_table("credentials")
    op.drop_table("providers")
