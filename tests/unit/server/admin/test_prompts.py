"""/api/prompts through the app (ASGI): CRUD, versions, labels, publish / rollback, diff, render
preview; members read and render, admins write (as themselves); bad input is a 400 naming the
field with nothing written; an unknown prompt, version or label is a 404.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.server.admin.conftest import Keys, call

MESSAGES = [{"role": "system", "content": "You are {{persona}}."}, {"role": "user", "content": "{{q}}"}]
BOT = {"name": "bot", "messages": MESSAGES, "model": "gpt-4o", "params": {"temperature": 0.2}, "note": "v1"}


async def _create(app: Any, keys: Keys, body: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = await call(app, "POST", "/api/prompts", key=keys.admin, json=body or BOT)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


async def test_an_admin_creates_and_a_member_lists_and_reads_by_any_reference(app: Any, keys: Keys) -> None:
    created = await _create(app, keys)
    assert created["id"].startswith("pp-")
    assert (created["version"], created["created_by"], created["model"]) == (1, "root", "gpt-4o")
    assert created["labels"] == {"production": 1, "staging": 1, "development": 1}
    await _create(app, keys, {"name": "sig", "template": "-- {{team}}"})

    listed = await call(app, "GET", "/api/prompts?limit=1&offset=1", key=keys.member)
    assert listed.status_code == 200
    page = listed.json()
    assert (page["total"], page["limit"], page["offset"]) == (2, 1, 1)
    assert [p["name"] for p in page["data"]] == ["sig"]
    searched = await call(app, "GET", "/api/prompts?search=bo", key=keys.outsider)
    assert [p["name"] for p in searched.json()["data"]] == ["bot"]

    for ref in ("bot", created["id"], "bot@1", "bot@staging", "bot@latest"):
        answer = await call(app, "GET", f"/api/prompts/{ref}", key=keys.member)
        assert answer.status_code == 200, ref
        assert answer.json()["template"] == MESSAGES


async def test_versions_labels_publish_rollback_and_diff(app: Any, keys: Keys) -> None:
    await _create(app, keys)
    added = await call(
        app, "POST", "/api/prompts/bot/versions", key=keys.admin, json={"params": {"temperature": 0.7}}
    )
    assert added.status_code == 201
    assert (added.json()["version"], added.json()["model"]) == (2, "gpt-4o")  # copied from version 1

    staged = await call(app, "PUT", "/api/prompts/bot/labels/staging", key=keys.admin, json={"version": 2})
    assert staged.json()["labels"]["staging"] == 2
    canary = await call(app, "PUT", "/api/prompts/bot/labels/canary", key=keys.admin, json={"version": 1})
    assert canary.json()["labels"]["canary"] == 1

    published = await call(app, "POST", "/api/prompts/bot/publish", key=keys.admin)
    assert (published.json()["version"], published.json()["labels"]["production"]) == (2, 2)
    rolled = await call(app, "POST", "/api/prompts/bot/rollback", key=keys.admin, json={})
    assert rolled.json()["labels"]["production"] == 1

    versions = await call(app, "GET", "/api/prompts/bot/versions", key=keys.member)
    assert versions.json()["total"] == 2
    assert [v["labels"] for v in versions.json()["data"]] == [
        ["canary", "development", "production"],
        ["latest", "staging"],
    ]
    diff = await call(app, "GET", "/api/prompts/bot/diff?a=1&b=staging", key=keys.member)
    assert diff.status_code == 200
    assert diff.json()["changed"] == {
        "params.temperature": {"a": 0.2, "b": 0.7},
        "note": {"a": "v1", "b": None},
    }


async def test_render_preview_fills_the_prompt_and_sends_nothing(app: Any, keys: Keys) -> None:
    await _create(app, keys)
    body = {"variables": {"persona": "kind", "q": "why?"}, "overrides": {"temperature": 0}}
    answer = await call(app, "POST", "/api/prompts/bot@production/render", key=keys.member, json=body)
    assert answer.status_code == 200, answer.text
    rendered = answer.json()
    assert rendered["messages"] == [
        {"role": "system", "content": "You are kind."},
        {"role": "user", "content": "why?"},
    ]
    assert (rendered["version"], rendered["model"], rendered["temperature"]) == (1, "gpt-4o", 0)

    missing = await call(app, "POST", "/api/prompts/bot/render", key=keys.member, json={"variables": {}})
    assert missing.status_code == 400
    assert missing.json()["error"]["param"] == "body.variables.persona"
    empty = await call(
        app, "POST", "/api/prompts/bot/render", key=keys.member, json={"missing": "empty", "variables": {}}
    )
    assert empty.json()["messages"][0]["content"] == "You are ."


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/prompts", {"name": "x", "messages": MESSAGES}),
        ("DELETE", "/api/prompts/bot", None),
        ("POST", "/api/prompts/bot/versions", {"note": "n"}),
        ("PUT", "/api/prompts/bot/labels/staging", {"version": 1}),
        ("POST", "/api/prompts/bot/publish", {}),
        ("POST", "/api/prompts/bot/rollback", {}),
    ],
)
async def test_members_may_not_write(
    app: Any, keys: Keys, method: str, path: str, body: dict[str, Any] | None
) -> None:
    await _create(app, keys)
    answer = await call(app, method, path, key=keys.member, **({"json": body} if body is not None else {}))
    assert answer.status_code == 403
    after = await call(app, "GET", "/api/prompts/bot/versions", key=keys.admin)
    assert after.json()["total"] == 1
    assert [p["name"] for p in (await call(app, "GET", "/api/prompts", key=keys.admin)).json()["data"]] == [
        "bot"
    ]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({**BOT, "messages": [{"role": "robot", "content": "x"}]}, "body.messages[0].role"),
        ({**BOT, "messages": [{"role": "user", "content": "{{#open}} x"}]}, "body.messages[0].content"),
        (
            {**BOT, "params": {"extra_headers": {"Authorization": "Bearer sk-1"}}},
            "body.params.extra_headers.Authorization",
        ),
        ({**BOT, "name": "no/slash"}, "body.name"),
        ({**BOT, "template": "also"}, "body.messages"),
        ({**BOT, "surprise": 1}, "body.surprise"),
        ({**BOT, "params": {"temperature": "hot"}}, "body.params.temperature"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field_and_nothing_is_written(
    app: Any, keys: Keys, body: dict[str, Any], param: str
) -> None:
    answer = await call(app, "POST", "/api/prompts", key=keys.admin, json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["param"] == param
    assert "sk-1" not in answer.text
    assert (await call(app, "GET", "/api/prompts", key=keys.admin)).json()["total"] == 0


async def test_bad_input_on_the_other_writes_names_the_field(app: Any, keys: Keys) -> None:
    await _create(app, keys)
    cases = [
        ("POST", "/api/prompts/bot/versions", {"messages": []}, "body.messages"),
        ("POST", "/api/prompts/bot/versions", {"template": "x"}, "body.messages"),
        ("PUT", "/api/prompts/bot/labels/latest", {"version": 1}, "path.label"),
        ("PUT", "/api/prompts/bot/labels/Staging", {"version": 1}, "path.label"),
        ("PUT", "/api/prompts/bot/labels/staging", {"version": 0}, "body.version"),
        ("PUT", "/api/prompts/bot/labels/staging", {"version": True}, "body.version"),
        ("POST", "/api/prompts/bot/rollback", {"label": "staging"}, "body.label"),
        (
            "POST",
            "/api/prompts/bot/render",
            {"variables": {"persona": "p", "q": "q"}, "overrides": {"messages": "hi"}},
            "body.overrides.messages",
        ),
    ]
    for method, path, body, param in cases:
        answer = await call(app, method, path, key=keys.admin, json=body)
        assert answer.status_code == 400, (path, body, answer.text)
        assert answer.json()["error"]["param"] == param, (path, body)
    bad_ref = await call(app, "GET", "/api/prompts/bot@0", key=keys.member)
    assert (bad_ref.status_code, bad_ref.json()["error"]["param"]) == (400, "path.prompt_id")
    bad_side = await call(app, "GET", "/api/prompts/bot/diff?a=1&b=x@y", key=keys.member)
    assert (bad_side.status_code, bad_side.json()["error"]["param"]) == (400, "query.b")
    versions = await call(app, "GET", "/api/prompts/bot/versions", key=keys.admin)
    assert versions.json()["total"] == 1
    assert (await call(app, "GET", "/api/prompts/bot", key=keys.admin)).json()["labels"]["staging"] == 1


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/prompts/nope", None),
        ("GET", "/api/prompts/bot@7", None),
        ("GET", "/api/prompts/bot@canary", None),
        ("DELETE", "/api/prompts/nope", None),
        ("GET", "/api/prompts/nope/versions", None),
        ("POST", "/api/prompts/nope/versions", {"note": "x"}),
        ("PUT", "/api/prompts/bot/labels/staging", {"version": 9}),
        ("POST", "/api/prompts/nope/publish", {}),
        ("GET", "/api/prompts/bot/diff?a=1&b=5", None),
        ("POST", "/api/prompts/nope/render", {}),
    ],
)
async def test_an_unknown_prompt_version_or_label_is_a_404(
    app: Any, keys: Keys, method: str, path: str, body: dict[str, Any] | None
) -> None:
    await _create(app, keys)
    answer = await call(app, method, path, key=keys.admin, **({"json": body} if body is not None else {}))
    assert answer.status_code == 404, answer.text


async def test_delete_removes_the_prompt_for_the_data_plane_too(app: Any, keys: Keys) -> None:
    created = await _create(app, keys)
    deleted = await call(app, "DELETE", "/api/prompts/bot", key=keys.admin)
    assert deleted.json() == {"id": created["id"], "deleted": True}
    assert (await call(app, "GET", f"/api/prompts/{created['id']}", key=keys.member)).status_code == 404
    rendered = await call(app, "POST", "/v1/prompts/bot/render", key=keys.admin, json={"variables": {}})
    assert rendered.status_code == 404
