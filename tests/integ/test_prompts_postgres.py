"""Prompt versions on PostgreSQL: concurrent updates from several control planes (several
"processes") never share a version number (the row lock of the atomic increment), and a label
moved by one plane is seen by another within its refresh interval.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

import postgres_server  # scripts/ is on pytest's pythonpath
from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.prompts_api import Prompts
from strands_portkey.store.db import Store
from tests.integ.test_store_postgres import server  # noqa: F401 - the module's PostgreSQL fixture

pytestmark = pytest.mark.integ

MASTER = base64.urlsafe_b64encode(bytes(range(40, 72))).decode()
SYSTEM = [{"role": "system", "content": "You are {{persona}}."}]


@pytest.fixture
def url(server: postgres_server.PostgresServer) -> str:  # noqa: F811 - uses the imported fixture
    store = Store(server.url, migrate=False)
    with store.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    store.close()
    return server.url


@pytest.fixture
def planes(url: str) -> Iterator[list[ControlPlane]]:
    opened = [
        ControlPlane(url, master_key=MASTER, validate_credentials=False, refresh_interval=None, env={})
        for _ in range(4)
    ]
    yield opened
    for plane in opened:
        plane.close()


def test_concurrent_updates_never_share_a_version_number(planes: list[ControlPlane]) -> None:
    first = Prompts(planes[0])
    first.create("bot", SYSTEM)

    def write(index: int) -> list[int]:
        api = Prompts(planes[1 + index % 3])
        return [api.update("bot", note=f"{index}-{step}").version for step in range(5)]

    with ThreadPoolExecutor(max_workers=6) as pool:
        numbers = [n for batch in pool.map(write, range(6)) for n in batch]
    assert sorted(numbers) == list(range(2, 32))
    assert [v.version for v in first.versions("bot")] == list(range(1, 32))


def test_a_label_moved_by_one_plane_is_rendered_by_another(planes: list[ControlPlane]) -> None:
    writer, reader = Prompts(planes[0]), Prompts(planes[1])
    writer.create("bot", SYSTEM, model="old")
    assert reader.render("bot", {"persona": "x"}).model == "old"
    writer.update("bot", model="new")
    writer.publish("bot")
    assert reader.render("bot", {"persona": "x"}).model == "old"  # its snapshot, until it refreshes
    planes[1].refresh()  # what the refresh interval's background check does when the revision moved
    assert reader.render("bot", {"persona": "x"}).model == "new"
