"""A control plane on a temporary SQLite file (offline: no key validation)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from strands_portkey.controlplane import ControlPlane
from strands_portkey.store.tables import RequestRecordRow

MASTER = base64.urlsafe_b64encode(bytes(range(32))).decode()


@pytest.fixture
def plane(tmp_path: Path) -> Iterator[ControlPlane]:
    cp = ControlPlane(
        f"sqlite:///{tmp_path / 'cp.db'}",
        env={"STRANDS_PORTKEY_HOME": str(tmp_path)},
        master_key=MASTER,
        validate_credentials=False,
    )
    yield cp
    cp.close()


def rows(plane: ControlPlane) -> list[dict[str, Any]]:
    """Every stored record (after writing what is queued), oldest first."""
    plane.records.flush()
    with plane.store.reading() as session:
        found = session.scalars(select(RequestRecordRow).order_by(RequestRecordRow.created_at))
        return [{c.name: getattr(r, c.key) for c in RequestRecordRow.__mapper__.columns} for r in found]
