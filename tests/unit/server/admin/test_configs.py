"""``/api/configs`` over ASGI: create, versions, update, delete; members read their own; bad input.

A real control plane on SQLite (the admin conftest). The saved configs a request runs come from
the same store, so a version saved here is what ``x-portkey-config`` runs next.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from strands_portkey.controlplane.configs_api import Configs
from tests.unit.server.admin.conftest import Keys, call

FALLBACK = {"strategy": {"mode": "fallback"}, "targets": [{"provider": "openai"}, {"provider": "anthropic"}]}
SINGLE = {"provider": "openai", "override_params": {"model": "gpt-4o-mini"}}


def _stored(app: Any) -> list[dict[str, Any]]:
    """Every config at every version, as the store has them."""
    configs = Configs(app.state.server.plane)
    out = []
    for config in configs.list(limit=1000):
        for version in configs.versions(config.id):
            out.append(configs.retrieve(config.id, version.version).to_dict())
    return out


async def _create(app: Any, key: str, name: str, config: dict[str, Any] = FALLBACK) -> dict[str, Any]:
    answer = await call(app, "POST", "/api/configs", key=key, json={"name": name, "config": config})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def test_an_admin_saves_versions_and_deletes(app: Any, keys: Keys) -> None:
    made = await _create(app, keys.admin, "team-route")
    assert made["id"].startswith("pc-")
    assert (made["version"], made["latest_version"], made["owner"]) == (1, 1, "root")
    assert made["config"] == FALLBACK

    same = await call(app, "PATCH", f"/api/configs/{made['id']}", key=keys.admin, json={"config": FALLBACK})
    assert same.json()["version"] == 1  # an identical config adds no version
    second = await call(
        app, "PATCH", "/api/configs/team-route", key=keys.admin, json={"config": SINGLE, "description": "v2"}
    )
    assert (second.json()["version"], second.json()["description"]) == (2, "v2")

    current = await call(app, "GET", f"/api/configs/{made['id']}", key=keys.member)
    first = await call(app, "GET", f"/api/configs/{made['id']}?version=1", key=keys.member)
    assert (current.json()["config"], first.json()["config"]) == (SINGLE, FALLBACK)
    versions = await call(app, "GET", f"/api/configs/{made['id']}/versions", key=keys.member)
    assert [(v["version"], v["created_by"]) for v in versions.json()["data"]] == [(1, "root"), (2, "root")]
    assert versions.json()["total"] == 2
    assert app.state.server.plane.saved_configs.get(made["id"]).version == 2  # what requests run now

    await _create(app, keys.admin, "another")
    listed = await call(app, "GET", "/api/configs?search=team", key=keys.admin)
    assert [c["name"] for c in listed.json()["data"]] == ["team-route"]
    everything = await call(app, "GET", "/api/configs?limit=1&offset=1", key=keys.admin)
    assert everything.json()["total"] == 2
    assert [c["name"] for c in everything.json()["data"]] == ["team-route"]

    deleted = await call(app, "DELETE", f"/api/configs/{made['id']}", key=keys.admin)
    assert deleted.json() == {"id": made["id"], "deleted": True}
    gone = await call(app, "GET", f"/api/configs/{made['id']}", key=keys.admin)
    assert gone.status_code == 404


async def test_members_read_their_organizations_configs_only(
    app: Any, keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    ours = await _create(app, keys.admin, "acme-route")  # the admin is in acme, as the member
    globex = Configs(app.state.server.plane, actor=_actor("gus", "globex")).create("globex-route", SINGLE)
    member = await call(app, "GET", "/api/configs", key=keys.member)
    outsider = await call(app, "GET", "/api/configs", key=keys.outsider)
    assert [c["name"] for c in member.json()["data"]] == ["acme-route"]
    assert member.json()["total"] == 1
    assert [c["name"] for c in outsider.json()["data"]] == ["globex-route"]

    caplog.set_level(logging.INFO, logger="strands_portkey.server.admin")
    paths = (f"/api/configs/{ours['id']}", f"/api/configs/{ours['id']}/versions", "/api/configs/acme-route")
    for path in paths:
        hidden = await call(app, "GET", path, key=keys.outsider)
        assert hidden.status_code == 404
    unknown = await call(app, "GET", "/api/configs/acme-rout", key=keys.outsider)
    assert hidden.json() == unknown.json() | {
        "error": {**unknown.json()["error"], "message": "no saved config with id or name 'acme-route'"}
    }
    assert unknown.json()["error"]["message"] == "no saved config with id or name 'acme-rout'"
    probes = [r.getMessage() for r in caplog.records if "answered 404" in r.getMessage()]
    assert len(probes) == 3
    assert f"/api/configs/{ours['id']}" in probes[0]
    assert globex.id != ours["id"]


async def test_a_key_with_an_allow_list_reads_what_it_names(app: Any, keys: Keys) -> None:
    allowed = await _create(app, keys.admin, "allowed")
    await _create(app, keys.admin, "not-named")
    api_keys = app.state.server.authenticator.api_keys
    narrow = api_keys.create(
        {"name": "n", "user": "eve", "organization_id": "globex", "allowed_configs": [allowed["id"]]}
    )
    listed = await call(app, "GET", "/api/configs", key=narrow.key)
    assert [c["name"] for c in listed.json()["data"]] == ["allowed"]
    assert (await call(app, "GET", "/api/configs/not-named", key=narrow.key)).status_code == 404


async def test_members_may_not_write_configs(app: Any, keys: Keys) -> None:
    made = await _create(app, keys.admin, "route")
    before = _stored(app)
    create = await call(app, "POST", "/api/configs", key=keys.member, json={"name": "x", "config": SINGLE})
    update = await call(app, "PATCH", f"/api/configs/{made['id']}", key=keys.member, json={"config": SINGLE})
    delete = await call(app, "DELETE", f"/api/configs/{made['id']}", key=keys.member)
    assert [r.status_code for r in (create, update, delete)] == [403, 403, 403]
    assert _stored(app) == before


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "param"),
    [
        ("POST", "/api/configs", {"name": "x", "config": SINGLE, "colour": "red"}, 400, "body.colour"),
        ("POST", "/api/configs", {"name": "x", "config": "not an object"}, 400, "body.config"),
        ("POST", "/api/configs", {"name": "x"}, 400, "body.config"),
        ("POST", "/api/configs", {"name": 7, "config": SINGLE}, 400, "body.name"),
        (
            "POST",
            "/api/configs",
            {
                "name": "x",
                "config": {
                    "strategy": {"mode": "fallback"},
                    "targets": [{"provider": "openai"}, {"provider": "anthropic", "weight": -1}],
                },
            },
            400,
            "body.config.targets[1].weight",
        ),
        (
            "POST",
            "/api/configs",
            {"name": "x", "config": {"provider": "openai", "api_key": "sk-live-123"}},
            400,
            "body.config.api_key",
        ),
        (
            "POST",
            "/api/configs",
            {"name": "x", "config": {"provider": "openai", "colour": 1}},
            400,
            "body.config",
        ),
        ("POST", "/api/configs", {"name": "existing", "config": SINGLE}, 409, "body.name"),
        ("PATCH", "/api/configs/existing", {"name": "other"}, 409, "body.name"),
        ("PATCH", "/api/configs/existing", {"config": {"targets": "x"}}, 400, "body.config.targets"),
        ("PATCH", "/api/configs/pc-nothing", {"description": "x"}, 404, None),
        ("GET", "/api/configs/existing?version=9", None, 404, None),
        ("GET", "/api/configs/existing?version=0", None, 400, "query.version"),
        ("GET", "/api/configs?limit=0", None, 400, "query.limit"),
        ("DELETE", "/api/configs/pc-nothing", None, 404, None),
    ],
)
async def test_bad_input_names_the_json_path_and_writes_nothing(  # noqa: PLR0917
    app: Any, keys: Keys, method: str, path: str, body: Any, status: int, param: str | None
) -> None:
    await _create(app, keys.admin, "existing")
    await _create(app, keys.admin, "other", SINGLE)
    before = _stored(app)
    answer = await call(app, method, path, key=keys.admin, json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["param"] == param
    assert _stored(app) == before


async def test_an_oversized_config_is_413(app: Any, keys: Keys) -> None:
    huge = {"name": "big", "config": {"provider": "openai", "metadata": {"x": "y" * (1024 * 1024)}}}
    answer = await call(app, "POST", "/api/configs", key=keys.admin, json=huge)
    assert answer.status_code == 413
    assert _stored(app) == []


def _actor(user: str, organization: str) -> Any:
    from strands_portkey.catalog.models import Actor

    return Actor(user, organization)
