"""The prompt library's tables (issue 19): prompts (``pp-...``), immutable versions, labels.

Kept apart from :mod:`.tables` (same declarative ``Base``) so that module stays readable. A
version's ``template`` is a list of chat messages for a prompt, or one string for a partial; a
label names one version of its prompt and remembers the version it pointed to before its last move
(what ``rollback`` returns to). ``latest`` is not stored: it is always the highest version.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .tables import Base, UTCDateTime

__all__ = ["PromptLabelRow", "PromptRow", "PromptVersionRow"]


class PromptRow(Base):
    """A prompt or a partial: a unique name, its versions and labels; ``latest_version`` is the newest."""

    __tablename__ = "prompts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # "prompt" | "partial"
    description: Mapped[str | None] = mapped_column(Text)
    latest_version: Mapped[int] = mapped_column(Integer)
    owner: Mapped[str] = mapped_column(String(200))
    organization_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    versions: Mapped[list[PromptVersionRow]] = relationship(
        back_populates="prompt",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="PromptVersionRow.version",
    )
    labels: Mapped[list[PromptLabelRow]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="PromptLabelRow.label"
    )


class PromptVersionRow(Base):
    """One version: written once, never changed (an update adds the next number)."""

    __tablename__ = "prompt_versions"

    prompt_id: Mapped[str] = mapped_column(ForeignKey("prompts.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    template: Mapped[Any] = mapped_column(JSON)
    model: Mapped[str | None] = mapped_column(String(300))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    config_id: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    prompt: Mapped[PromptRow] = relationship(back_populates="versions")


class PromptLabelRow(Base):
    """A label (``production``, ``staging``, ``development`` or a custom one) on one version."""

    __tablename__ = "prompt_labels"

    prompt_id: Mapped[str] = mapped_column(ForeignKey("prompts.id", ondelete="CASCADE"), primary_key=True)
    label: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    previous_version: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
