"""Prompt library (``pp-...``): prompts and partials, immutable versions, labels.

Also which prompt version a recorded request was made through (``request_records.prompt_id``,
``prompt_version``).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from strands_portkey.store.tables import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``prompts``, ``prompt_versions`` and ``prompt_labels``."""
    op.create_table(
        "prompts",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("organization_id", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "prompt_versions",
        sa.Column(
            "prompt_id", sa.String(40), sa.ForeignKey("prompts.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("template", sa.JSON(), nullable=False),
        sa.Column("model", sa.String(300), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("config_id", sa.String(200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "prompt_labels",
        sa.Column(
            "prompt_id", sa.String(40), sa.ForeignKey("prompts.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("label", sa.String(100), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("previous_version", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    with op.batch_alter_table("request_records") as batch:
        batch.add_column(sa.Column("prompt_id", sa.String(40), nullable=True))
        batch.add_column(sa.Column("prompt_version", sa.Integer(), nullable=True))
    op.create_index(
        "ix_request_records_prompt", "request_records", ["prompt_id", "prompt_version", "created_at"]
    )


def downgrade() -> None:
    """Drop the three tables and the two columns."""
    op.drop_index("ix_request_records_prompt", table_name="request_records")
    with op.batch_alter_table("request_records") as batch:
        batch.drop_column("prompt_version")
        batch.drop_column("prompt_id")
    op.drop_table("prompt_labels")
    op.drop_table("prompt_versions")
    op.drop_table("prompts")
