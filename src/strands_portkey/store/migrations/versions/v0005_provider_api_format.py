"""A provider's API format: how a provider the gateway does not know by name is spoken to.

``NULL`` means the default: the registry's own adapter for a provider it knows by name, else
OpenAI-compatible. Other values name a native format of the registry (``anthropic``, ``google``).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the nullable ``providers.api_format`` (existing rows keep the default).

    A plain ``ADD COLUMN`` on both SQLite and PostgreSQL: no table copy, so no foreign-key
    cascade can touch the providers' credentials and rates.
    """
    op.add_column("providers", sa.Column("api_format", sa.String(length=40), nullable=True))


def downgrade() -> None:
    """Drop ``providers.api_format`` (SQLite 3.35+ drops a column in place)."""
    op.drop_column("providers", "api_format")
