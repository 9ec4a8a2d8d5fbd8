"""Alembic environment: runs on the connection :meth:`Store.migrate` hands over (no alembic.ini)."""

from __future__ import annotations

from alembic import context

from strands_portkey.store.dashboard_tables import DashboardRollupRow
from strands_portkey.store.prompt_tables import PromptRow
from strands_portkey.store.tables import Base

assert PromptRow.metadata is Base.metadata  # the prompt tables, declared in their own module, are in it
assert DashboardRollupRow.metadata is Base.metadata
connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=context.config.attributes.get("version_table", "alembic_version"),
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
