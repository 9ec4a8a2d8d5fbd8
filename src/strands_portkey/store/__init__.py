"""Persistence for the control plane: one SQLAlchemy engine, the tables, Alembic migrations.

Nothing here is imported by ``import strands_portkey``; SQLAlchemy and Alembic load only when a
:class:`~strands_portkey.store.db.Store` is opened.
"""
