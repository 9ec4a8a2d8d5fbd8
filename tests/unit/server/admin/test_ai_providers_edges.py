"""The AI Providers API at its edges: public discovery and health, the test-models job and its
limit, bad input (nothing written), and a canary key that never leaves the vault.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import pytest

from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.providers_api import Providers
from tests.unit.server.admin import provider_fixtures as fx
from tests.unit.server.admin.conftest import Keys, call

validating_plane, validating_app, validating_keys = fx.validating_plane, fx.validating_app, fx.validating_keys
RATE = {"model": "gpt-4o", "type": "chatCompletion", "inputRate": 3, "outputRate": 15}


def _seed(plane: ControlPlane, *, key: str = fx.GOOD_KEY) -> Providers:
    """openai with two keys (one paused) and a chat rate; groq with a rate and no key."""
    providers = Providers(plane)
    providers.create({"name": "openai", "displayName": "OpenAI", "baseUrl": "https://api.openai.com/v1"})
    providers.create({"name": "groq"})
    providers.create_credential("openai", {"name": "Primary Key", "value": key})
    providers.create_credential("openai", {"name": "Secondary Key", "value": key + "2", "is_active": False})
    providers.rates.create({**RATE, "modelMetadata": {"maxTokens": 4096}, "providers": ["openai", "groq"]})
    return providers


async def test_discovery_is_public_in_litellm_format_with_an_etag(app: Any, plane: ControlPlane) -> None:
    providers = _seed(plane)
    listed = await call(app, "GET", "/api/ai-providers/models")
    assert listed.status_code == 200
    assert [(m["key"], m["type"], m["status"]) for m in listed.json()] == [
        ("groq/gpt-4o", "chat", "unavailable"), ("openai/gpt-4o", "chat", "available")
    ]  # fmt: skip
    assert listed.json()[1]["input_credits_per_token"] == 3.0
    assert listed.headers["cache-control"] == "public, max-age=5"
    etag = listed.headers["etag"]
    unchanged = await call(app, "GET", "/api/ai-providers/models", headers={"if-none-match": etag})
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    providers.rates.create(
        {**RATE, "model": "text-embedding-3-small", "type": "embedding", "providers": ["openai"]}
    )
    changed = await call(app, "GET", "/api/ai-providers/models", headers={"if-none-match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert len(changed.json()) == 3
    embeddings = await call(app, "GET", "/api/ai-providers/models?type=embedding")
    assert [m["key"] for m in embeddings.json()] == ["openai/text-embedding-3-small"]
    grouped = await call(app, "GET", "/api/ai-providers/chat/models")
    assert grouped.status_code == 200
    assert [(g["model"], [p["name"] for p in g["providers"]]) for g in grouped.json()] == [
        ("gpt-4o", ["groq", "openai"])
    ]
    assert json.loads(changed.content) == providers.models()


async def test_the_discovery_snapshot_follows_keys_going_out_of_rotation(
    app: Any, plane: ControlPlane
) -> None:
    _seed(plane)
    before = await call(app, "GET", "/api/ai-providers/models")
    primary = plane.resolve_virtual_key("Primary Key")
    assert primary is not None
    plane.report(primary.id, 401)  # the provider refused it: out of rotation
    after = await call(app, "GET", "/api/ai-providers/models")
    assert [m["status"] for m in before.json()] == ["unavailable", "available"]
    assert [m["status"] for m in after.json()] == ["unavailable", "unavailable"]


async def test_health_is_public_and_has_the_seeds_shape(app: Any, plane: ControlPlane) -> None:
    _seed(plane)
    health = await call(app, "GET", "/api/ai-providers/health")
    assert health.status_code == 200
    body = health.json()
    assert body["providers"] == {
        "groq": {},
        "openai": {"Primary Key": {"running": True}, "Secondary Key": {"running": False}},
    }
    assert body["timestamp"].endswith("Z")
    # the seed's alert check: jq '.providers[].[] | select(.running == false)'
    down = [
        state
        for credentials in body["providers"].values()
        for state in credentials.values()
        if not state["running"]
    ]
    assert down == [{"running": False}]


async def test_test_models_starts_a_job_and_the_sixth_start_answers_429(
    validating_app: Any, validating_keys: Keys, validating_plane: ControlPlane
) -> None:
    _seed(validating_plane)
    started = []
    for _ in range(5):
        answer = await call(validating_app, "GET", "/api/ai-providers/test-models", key=validating_keys.admin)
        assert answer.status_code == 202, answer.text
        started.append(answer.json())
    assert started[0]["status"] in {"running", "done"}  # the work goes on after the answer
    assert started[0]["user"] == "root"
    assert len({job["jobId"] for job in started}) == 5
    refused = await call(validating_app, "GET", "/api/ai-providers/test-models", key=validating_keys.admin)
    assert refused.status_code == 429
    wait = int(refused.headers["retry-after"])
    assert 590 <= wait <= 600
    assert refused.json()["retryAfter"] == wait
    assert refused.json()["error"]["type"] == "rate_limit_error"
    other_admin = validating_app.state.server.authenticator.api_keys.create(
        {"name": "admin2", "user": "zoe", "organization_id": "acme", "role": "admin"}
    ).key
    elsewhere = await call(validating_app, "GET", "/api/ai-providers/test-models", key=other_admin)
    assert elsewhere.status_code == 202  # the limit is per user
    job = started[0]["jobId"]
    _join(job)
    followed = await call(
        validating_app, "GET", f"/api/ai-providers/test-models/{job}", key=validating_keys.admin
    )
    assert followed.status_code == 200
    assert followed.json()["status"] == "done"
    assert {(r["provider"], r["model"], r["ok"]) for r in followed.json()["results"]} == {
        ("openai", "gpt-4o", True), ("groq", "gpt-4o", False)
    }  # fmt: skip
    missing = await call(
        validating_app, "GET", "/api/ai-providers/test-models/job-nope", key=validating_keys.admin
    )
    assert missing.status_code == 404


def _join(job_id: str) -> None:
    """Wait for a job's thread (named after the job) to end: the job runs in this process."""
    for thread in threading.enumerate():
        if thread.name == job_id:
            thread.join(timeout=30)


def _snapshot(plane: ControlPlane) -> Any:
    providers = Providers(plane)
    return providers.list(), providers.rates.list().to_list()


BAD_INPUT: list[tuple[str, str, dict[str, Any] | None, int, str | None]] = [
    ("POST", "/api/ai-providers", {"name": "x", "colour": "red"}, 400, "body.colour"),
    ("POST", "/api/ai-providers", {"name": 7}, 400, "body.name"),
    ("POST", "/api/ai-providers", {"name": "x", "enabled": "yes"}, 400, "body.enabled"),
    ("POST", "/api/ai-providers", {"name": "Not A Slug"}, 400, "body.name"),
    ("POST", "/api/ai-providers", {"name": "x", "baseUrl": "ftp://x"}, 400, "body.baseUrl"),
    ("POST", "/api/ai-providers", {"name": "openai"}, 409, None),
    ("PUT", "/api/ai-providers/openai", {"name": "groq"}, 409, None),
    ("PUT", "/api/ai-providers/nobody", {"region": "eu"}, 404, None),
    ("PUT", "/api/ai-providers/openai", {"displayName": ["x"]}, 400, "body.displayName"),
    ("DELETE", "/api/ai-providers/nobody", None, 404, None),
    ("POST", "/api/ai-providers/openai/credentials", {"name": "k", "value": 5}, 400, "body.value"),
    ("POST", "/api/ai-providers/openai/credentials", {"name": "k"}, 400, "body.value"),
    (
        "POST",
        "/api/ai-providers/openai/credentials",
        {"name": "k", "value": "sk-x", "credentialType": "pgp"},
        400,
        "body.credentialType",
    ),
    (
        "POST",
        "/api/ai-providers/openai/credentials",
        {"name": "Primary Key", "value": fx.GOOD_KEY},
        409,
        None,
    ),
    ("POST", "/api/ai-providers/nobody/credentials", {"name": "k", "value": fx.GOOD_KEY}, 404, None),
    ("PUT", "/api/ai-providers/openai/credentials/nope", {"weight": 2}, 404, None),
    ("PUT", "/api/ai-providers/openai/credentials/Primary%20Key", {"weight": 0}, 400, "body.weight"),
    ("DELETE", "/api/ai-providers/groq/credentials/Primary%20Key", None, 404, None),
    ("GET", "/api/ai-providers/openai/credentials/nope/check", None, 404, None),
    ("POST", "/api/ai-providers/model-rates", {**RATE, "providers": []}, 400, "body.providers"),
    (
        "POST",
        "/api/ai-providers/model-rates",
        {**RATE, "inputRate": "3", "providers": ["openai"]},
        400,
        "body.inputRate",
    ),
    (
        "POST",
        "/api/ai-providers/model-rates",
        {**RATE, "outputRate": -1, "providers": ["openai"]},
        400,
        "body.outputRate",
    ),
    (
        "POST",
        "/api/ai-providers/model-rates",
        {**RATE, "type": "chat-ish", "providers": ["openai"]},
        400,
        "body.type",
    ),
    ("POST", "/api/ai-providers/model-rates", {**RATE, "providers": ["groq", "nobody"]}, 404, None),
    ("POST", "/api/ai-providers/model-rates", {**RATE, "providers": ["groq", "openai"]}, 409, None),
    ("PUT", "/api/ai-providers/openai/model-rates/rate-nope", {"inputRate": 1}, 404, None),
    (
        "POST",
        "/api/ai-providers/bulk-rate-update",
        {"profitMargin": 20, "creditPrice": 0},
        400,
        "body.creditPrice",
    ),
    ("POST", "/api/ai-providers/bulk-rate-update", {"profitMargin": 20}, 400, "body.creditPrice"),
    ("GET", "/api/ai-providers/model-rates?limit=0", None, 400, "query.limit"),
    ("GET", "/api/ai-providers/model-rates?limit=1001", None, 400, "query.limit"),
    ("GET", "/api/ai-providers/model-rates?offset=-1", None, 400, "query.offset"),
    ("GET", "/api/ai-providers?limit=5000", None, 400, "query.limit"),
]


@pytest.mark.parametrize("case", BAD_INPUT, ids=[f"{m} {p} {s}" for m, p, _, s, _ in BAD_INPUT])
async def test_bad_input_is_a_4xx_naming_the_field_and_writes_nothing(
    app: Any, keys: Keys, plane: ControlPlane, case: tuple[str, str, dict[str, Any] | None, int, str | None]
) -> None:
    method, path, body, status, param = case
    _seed(plane)
    before = _snapshot(plane)
    answer = await call(app, method, path, key=keys.admin, **({} if body is None else {"json": body}))
    assert answer.status_code == status, answer.text
    if param is not None:
        assert answer.json()["error"]["param"] == param
    assert _snapshot(plane) == before


async def test_an_oversized_or_broken_body_is_refused_before_it_is_read(
    app: Any, keys: Keys, plane: ControlPlane
) -> None:
    huge = json.dumps({"name": "big", "displayName": "x" * (1024 * 1024)})
    too_big = await call(
        app,
        "POST",
        "/api/ai-providers",
        key=keys.admin,
        content=huge,
        headers={"content-type": "application/json"},
    )
    assert (too_big.status_code, too_big.json()["error"]["param"]) == (413, "body")

    async def chunks() -> Any:
        for _ in range(40):
            yield b"x" * 32768

    streamed = await call(
        app,
        "POST",
        "/api/ai-providers",
        key=keys.admin,
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    assert streamed.status_code == 413
    broken = await call(
        app,
        "POST",
        "/api/ai-providers",
        key=keys.admin,
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert broken.status_code == 400
    assert Providers(plane).list() == []


async def test_members_read_providers_and_rates_but_change_nothing(
    app: Any, keys: Keys, plane: ControlPlane
) -> None:
    _seed(plane)
    listed = await call(app, "GET", "/api/ai-providers", key=keys.outsider)
    rates = await call(app, "GET", "/api/ai-providers/model-rates", key=keys.member)
    assert (listed.status_code, listed.json()["total"], rates.json()["total"]) == (200, 2, 2)
    before = _snapshot(plane)
    for method, path, body in (
        ("POST", "/api/ai-providers", {"name": "mine"}),
        ("PUT", "/api/ai-providers/openai", {"enabled": False}),
        ("DELETE", "/api/ai-providers/groq", None),
        ("POST", "/api/ai-providers/bulk-rate-update", {"profitMargin": 1, "creditPrice": 1}),
    ):
        answer = await call(app, method, path, key=keys.member, **({} if body is None else {"json": body}))
        assert answer.status_code == 403
    assert _snapshot(plane) == before


CANARY = "sk-good-canary-7f3a9e1c5b2d8f4a6e0c"


async def test_a_canary_key_never_appears_in_any_answer_or_log(
    validating_app: Any,
    validating_keys: Keys,
    validating_plane: ControlPlane,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    app, admin = validating_app, validating_keys.admin
    answers = [await call(app, "POST", "/api/ai-providers", key=admin, json={"name": "openai"})]
    made = await call(
        app, "POST", "/api/ai-providers/openai/credentials", key=admin, json={"name": "c", "value": CANARY}
    )
    credential = f"/api/ai-providers/openai/credentials/{made.json()['id']}"
    answers += [made]
    answers += [
        await call(
            app, "POST", "/api/ai-providers/model-rates", key=admin, json={**RATE, "providers": ["openai"]}
        )
    ]
    rate = answers[-1].json()["data"][0]["id"]
    for method, path, body in (
        ("GET", "/api/ai-providers", None),
        ("GET", "/api/ai-providers/openai", None),
        ("PUT", "/api/ai-providers/openai", {"region": "eu"}),
        ("PUT", credential, {"weight": 3}),
        ("PUT", credential, {"value": "sk-bad-" + CANARY}),  # refused: the provider's 401 echoes the key
        ("GET", f"{credential}/check", None),
        ("GET", "/api/ai-providers/model-rates", None),
        ("PUT", f"/api/ai-providers/openai/model-rates/{rate}", {"outputRate": 9}),
        ("POST", "/api/ai-providers/bulk-rate-update", {"profitMargin": 1, "creditPrice": 1}),
        ("GET", "/api/ai-providers/models", None),
        ("GET", "/api/ai-providers/chat/models", None),
        ("GET", "/api/ai-providers/health", None),
        ("GET", "/api/ai-providers/test-models", None),
        ("GET", f"/api/ai-providers/model-rates/{rate}", None),
        ("DELETE", f"/api/ai-providers/openai/model-rates/{rate}", None),
        ("DELETE", credential, None),
        ("DELETE", "/api/ai-providers/openai", None),
    ):
        answers.append(await call(app, method, path, key=admin, **({} if body is None else {"json": body})))
    job = next(a.json()["jobId"] for a in answers if a.status_code == 202)
    _join(job)
    answers.append(await call(app, "GET", f"/api/ai-providers/test-models/{job}", key=admin))
    assert answers[-1].status_code == 200
    assert [a.status_code for a in answers if a.status_code >= 500] == []
    assert answers[7].status_code == 400  # the refused key
    for answer in answers:
        assert CANARY not in answer.text
        assert CANARY not in str(answer.headers)
    assert CANARY not in caplog.text
