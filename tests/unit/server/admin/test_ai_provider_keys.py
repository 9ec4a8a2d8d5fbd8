"""``/api/ai/provider-keys`` over HTTP: members manage their own keys, secrets never come back.

Behaviour shared with ``gw.ai.provider_keys`` is in tests/unit/remote/test_provider_keys_faces.py.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import select

from strands_portkey.controlplane import ControlPlane
from strands_portkey.server.admin.body_limit import ADMIN_MAX_BODY_BYTES
from strands_portkey.store.tables import CredentialRow
from tests.unit.server.admin.conftest import Keys, call

BASE = "/api/ai/provider-keys"
SECRET = "sk-ant-canary-0123456789abcdefghij"
KEY = {"name": "Anthropic Production Key", "provider": "anthropic", "api_key": SECRET, "description": "prod"}


def stored(plane: ControlPlane) -> list[tuple[Any, ...]]:
    with plane.store.reading() as session:
        rows = session.scalars(select(CredentialRow).order_by(CredentialRow.id)).all()
        return [
            (r.id, r.name, r.description, r.owner, r.organization_id, r.ciphertext, r.active) for r in rows
        ]


async def test_a_members_key_is_its_own_masked_and_invisible_to_others(
    app: Any, keys: Keys, plane: ControlPlane, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    created = await call(app, "POST", BASE, key=keys.member, json=KEY)
    assert created.status_code == 201, created.text
    key = created.json()
    assert (key["owner"], key["organization_id"], key["provider"]) == ("ana", "acme", "anthropic")
    assert SECRET not in created.text
    assert key["masked_key"].startswith("sk-")
    mine = (await call(app, "GET", BASE, key=keys.member)).json()
    assert (mine["total"], [k["id"] for k in mine["data"]]) == (1, [key["id"]])
    theirs = (await call(app, "GET", BASE, key=keys.outsider)).json()
    assert (theirs["total"], theirs["data"]) == (0, [])
    everyone = (await call(app, "GET", BASE, key=keys.admin)).json()
    assert [k["id"] for k in everyone["data"]] == [key["id"]]
    before = stored(plane)
    missing = await call(app, "GET", f"{BASE}/key-missing", key=keys.outsider)
    for method, path, body in (
        ("GET", f"{BASE}/{key['id']}", None),
        ("GET", f"{BASE}/{key['name']}", None),
        ("PUT", f"{BASE}/{key['id']}", {"description": "mine"}),
        ("DELETE", f"{BASE}/{key['id']}", None),
        ("POST", f"{BASE}/{key['id']}/test", None),
    ):
        answer = await call(app, method, path, key=keys.outsider, json=body)
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.json()["error"]["message"].replace(
            path.rsplit("/", 2)[-1 if method != "POST" else -2], "X"
        ) == (missing.json()["error"]["message"].replace("key-missing", "X"))
    assert stored(plane) == before
    probes = [r.getMessage() for r in caplog.records if "not visible to it" in r.getMessage()]
    assert len(probes) == 5
    assert all(f"provider key {key['id']!r}" in text for text in probes)
    assert f"POST /api/ai/provider-keys/{key['id']}/test:" in probes[-1]
    assert SECRET not in caplog.text
    assert keys.outsider not in caplog.text
    # the admin may read and change it
    assert (await call(app, "GET", f"{BASE}/{key['id']}", key=keys.admin)).json()["owner"] == "ana"
    renamed = await call(app, "PUT", f"{BASE}/{key['id']}", key=keys.admin, json={"name": "Renamed"})
    assert renamed.json()["name"] == "Renamed"
    assert (await call(app, "DELETE", f"{BASE}/{key['id']}", key=keys.member)).json()["deleted"] is True


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({**KEY, "colour": "red"}, "body.colour"),
        ({**KEY, "weight": "heavy"}, "body.weight"),
        ({**KEY, "is_active": "yes"}, "body.is_active"),
        ({**KEY, "owner": "eve"}, "body.owner"),
        ({**KEY, "organization_id": "globex"}, "body.organization_id"),
        ({key: value for key, value in KEY.items() if key != "provider"}, "body.provider"),
        ({**KEY, "provider": "no-such-provider"}, "body.provider"),
    ],
)
async def test_a_bad_key_body_is_400_naming_the_field_and_writes_nothing(
    app: Any, keys: Keys, plane: ControlPlane, body: dict[str, Any], param: str
) -> None:
    answer = await call(app, "POST", BASE, key=keys.member, json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["param"] == param
    assert SECRET not in answer.text
    assert stored(plane) == []


async def test_duplicates_queries_and_an_admin_naming_the_owner(
    app: Any, keys: Keys, plane: ControlPlane
) -> None:
    assert (await call(app, "POST", BASE, key=keys.member, json=KEY)).status_code == 201
    before = stored(plane)
    assert (await call(app, "POST", BASE, key=keys.outsider, json=KEY)).status_code == 409
    for params, param in (
        ({"limit": 0}, "query.limit"),
        ({"limit": 5000}, "query.limit"),
        ({"status": "sleeping"}, "query.status"),
    ):
        answer = await call(app, "GET", BASE, key=keys.member, params=params)
        assert (answer.status_code, answer.json()["error"]["param"]) == (400, param)
    huge = {**KEY, "name": "big", "description": "x" * (ADMIN_MAX_BODY_BYTES + 1)}
    assert (await call(app, "POST", BASE, key=keys.member, json=huge)).status_code == 413
    assert stored(plane) == before
    theirs = await call(app, "POST", BASE, key=keys.admin, json={**KEY, "name": "for eve", "owner": "eve"})
    assert (theirs.json()["owner"], theirs.json()["organization_id"]) == ("eve", "acme")
    listed = (await call(app, "GET", BASE, key=keys.outsider)).json()
    assert [k["name"] for k in listed["data"]] == ["for eve"]
