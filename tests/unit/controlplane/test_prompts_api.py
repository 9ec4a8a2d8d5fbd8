"""gw.prompts: versions, labels, publish / rollback, diff, render from the snapshot, completions
through the gateway, bad input (nothing written), concurrent versions and a second process that
sees a moved label. Two planes on one SQLite file play two processes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from strands_portkey import Gateway
from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.prompts_api import Prompts
from strands_portkey.errors import ConflictError, InvalidRequestError, ResourceNotFoundError

from .conftest import MASTER, Clock

SYSTEM = [{"role": "system", "content": "You are {{persona}}."}, {"role": "user", "content": "{{question}}"}]
VARS = {"persona": "terse", "question": "why?"}


def inline(work: Callable[[], None]) -> None:
    work()


@pytest.fixture
def open_plane(tmp_path: Path) -> Iterator[Callable[..., ControlPlane]]:
    opened: list[ControlPlane] = []

    def open_plane(**options: Any) -> ControlPlane:
        options.setdefault("spawn", inline)
        options.setdefault("refresh_interval", None)
        plane = ControlPlane(
            f"sqlite:///{tmp_path / 'prompts.db'}",
            env={"STRANDS_PORTKEY_HOME": str(tmp_path), "STRANDS_PORTKEY_USER": "ana"},
            master_key=MASTER,
            validate_credentials=False,
            **options,
        )
        opened.append(plane)
        return plane

    yield open_plane
    for plane in opened:
        plane.close()


@pytest.fixture
def prompts(open_plane: Callable[..., ControlPlane]) -> Prompts:
    return Prompts(open_plane())


def test_create_labels_versions_and_references(prompts: Prompts) -> None:
    created = prompts.create("bot", SYSTEM, model="gpt-4o", params={"temperature": 0.2}, note="first")
    assert created.id.startswith("pp-")
    assert created.version == 1
    assert created.kind == "prompt"
    assert created.labels == {"production": 1, "staging": 1, "development": 1}
    second = prompts.update("bot", params={"temperature": 0.9}, note="warmer")
    assert second.version == 2
    assert second.model == "gpt-4o"
    assert second.template == SYSTEM
    assert prompts.retrieve("bot").version == 1  # production did not move
    assert prompts.retrieve("bot@latest").version == 2
    assert prompts.retrieve("bot@2").params == {"temperature": 0.9}
    assert prompts.retrieve(created.id).version == 1
    prompts.label("bot", "staging", 2)
    assert prompts.retrieve("bot@staging").version == 2
    prompts.label("bot", "canary", 2)
    assert [(v.version, v.labels) for v in prompts.versions("bot")] == [
        (1, ["development", "production"]),
        (2, ["canary", "latest", "staging"]),
    ]


def test_publish_and_rollback_move_production(prompts: Prompts) -> None:
    prompts.create("bot", SYSTEM, model="gpt-4o")
    prompts.update("bot", model="gpt-4o-mini")
    assert prompts.publish("bot").version == 2
    assert prompts.render("bot", VARS).model == "gpt-4o-mini"
    assert prompts.rollback("bot").version == 1
    assert prompts.render("bot", VARS).model == "gpt-4o"


def test_render_fills_the_request_and_applies_overrides(prompts: Prompts) -> None:
    prompts.create("sig", template="-- {{team}}")
    prompts.create("bot", [*SYSTEM[:1], {"role": "user", "content": "{{question}} {{>sig}}"}], model="m1",
                   params={"temperature": 0.1, "max_tokens": 50})  # fmt: skip
    rendered = prompts.render(
        "bot",
        {**VARS, "team": "ops"},
        {"temperature": 0.5, "messages": [{"role": "user", "content": "more"}]},
    )
    assert rendered.body() == {
        "model": "m1",
        "temperature": 0.5,
        "max_tokens": 50,
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "why? -- ops"},
            {"role": "user", "content": "more"},
        ],
    }
    assert rendered.version == 1
    assert rendered.name == "bot"


def test_diff_names_changed_fields(prompts: Prompts) -> None:
    prompts.create("bot", SYSTEM, model="a", params={"temperature": 0.1})
    prompts.update("bot", model="b", params={"temperature": 0.1, "top_p": 0.5})
    diff = prompts.diff("bot@1", "bot@2")
    assert set(diff.changed) == {"model", "params.top_p"}
    assert '-  "model": "a"' in diff.text
    assert '+  "model": "b"' in diff.text


def test_list_paginates_and_searches(prompts: Prompts) -> None:
    for name in ("alpha", "beta", "alphabet"):
        prompts.create(name, SYSTEM)
    assert [p.name for p in prompts.list(limit=2)] == ["alpha", "alphabet", "beta"]
    assert [p.name for p in prompts.list(search="alpha")] == ["alpha", "alphabet"]


@pytest.mark.parametrize(
    ("call", "error", "says"),
    [
        (lambda p: p.retrieve("nope"), ResourceNotFoundError, "nope"),
        (lambda p: p.retrieve("bot@9"), ResourceNotFoundError, "no version 9"),
        (lambda p: p.retrieve("bot@qa"), ResourceNotFoundError, "no label 'qa'"),
        (lambda p: p.render("bot@qa", VARS), ResourceNotFoundError, "no label 'qa'"),
        (lambda p: p.render("bot", {"persona": "x"}), InvalidRequestError, "question"),
        (lambda p: p.label("bot", "staging", 5), ResourceNotFoundError, "no version 5"),
        (lambda p: p.create("bot", SYSTEM), ConflictError, "already exists"),
        (
            lambda p: p.update("bot", messages=[{"role": "user", "content": "{{#a}}"}]),
            InvalidRequestError,
            "line 1",
        ),
        (lambda p: p.create("x", SYSTEM, params={"temperature": "hot"}), InvalidRequestError, "temperature"),
        (
            lambda p: p.update("bot", params={"extra_headers": {"Authorization": "Bearer sk-1"}}),
            InvalidRequestError,
            "params.extra_headers.Authorization",
        ),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    prompts: Prompts, call: Callable[[Prompts], Any], error: type[Exception], says: str
) -> None:
    prompts.create("bot", SYSTEM)
    with pytest.raises(error, match=says):
        call(prompts)
    assert [v.version for v in prompts.versions("bot")] == [1]
    assert [p.name for p in prompts.list()] == ["bot"]


def test_a_label_may_only_name_a_version_of_its_own_prompt(prompts: Prompts) -> None:
    prompts.create("a", SYSTEM)
    other = prompts.create("b", SYSTEM)
    prompts.update("b", note="v2")
    with pytest.raises(ResourceNotFoundError, match="no version 2"):
        prompts.label("a", "staging", 2)  # version 2 exists, but of 'b'
    assert prompts.retrieve(other.id + "@latest").version == 2
    assert prompts.retrieve("a@staging").version == 1


def test_concurrent_updates_never_share_a_version_number(open_plane: Callable[..., ControlPlane]) -> None:
    first = Prompts(open_plane())
    first.create("bot", SYSTEM)
    writers = [Prompts(open_plane()) for _ in range(3)]
    errors: list[BaseException] = []

    def write(api: Prompts, index: int) -> None:
        for step in range(4):
            try:
                api.update("bot", note=f"{index}-{step}")
            except BaseException as error:
                errors.append(error)

    threads = [threading.Thread(target=write, args=(api, i)) for i, api in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    versions = first.versions("bot")
    assert [v.version for v in versions] == list(range(1, 14))
    assert len({v.note for v in versions[1:]}) == 12


def test_a_label_moved_by_another_process_is_seen_within_the_refresh_interval(
    open_plane: Callable[..., ControlPlane],
) -> None:
    clock = Clock()
    reader = open_plane(refresh_interval=2.0, clock=clock)
    writer = Prompts(open_plane())
    writer.create("bot", SYSTEM, model="old")
    assert Prompts(reader).render("bot", VARS).model == "old"  # created elsewhere: found at once
    writer.update("bot", model="new")
    writer.publish("bot")
    assert Prompts(reader).render("bot", VARS).model == "old"  # the snapshot, until the interval is up
    clock.now += 2.5
    assert Prompts(reader).render("bot", VARS).model == "new"


def chat_ok(request: httpx.Request) -> httpx.Response:
    import json

    body = json.loads(request.content)
    text = f"{body['model']}|{body['messages'][0]['content']}|{body.get('temperature')}"
    if body.get("stream"):
        delta = {
            "choices": [
                {"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ]
        }
        sse = f"data: {json.dumps(delta)}\n\ndata: [DONE]\n\n"
        return httpx.Response(200, text=sse, headers={"content-type": "text/event-stream"})
    return httpx.Response(
        200,
        json={
            "id": "r1",
            "model": body["model"],
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        },
    )


async def test_completions_go_through_the_gateway(open_plane: Callable[..., ControlPlane]) -> None:
    plane = open_plane()
    gw = Gateway(
        config={"provider": "openai", "api_key": "sk-test"},
        control_plane=plane,
        transport=httpx.MockTransport(chat_ok),
    )
    gw.prompts.create("bot", SYSTEM, model="gpt-4o", params={"temperature": 0.3})
    response = await gw.prompts.completions("bot", VARS)
    assert response.choices[0].message.content == "gpt-4o|You are terse.|0.3"
    async with gw.prompts.completions("bot", VARS, {"model": "gpt-4o-mini"}, stream=True) as stream:
        texts = [choice.delta.content async for chunk in stream for choice in chunk.choices]
    assert "".join(t or "" for t in texts) == "gpt-4o-mini|You are terse.|0.3"
    await gw.aclose()


def fails_for_bad_model(request: httpx.Request) -> httpx.Response:
    import json

    if json.loads(request.content)["model"] == "bad":
        return httpx.Response(400, json={"error": {"message": "bad model"}})
    return chat_ok(request)


async def test_analytics_compare_prompt_versions_side_by_side(
    open_plane: Callable[..., ControlPlane],
) -> None:
    plane = open_plane()
    gw = Gateway(
        config={"provider": "openai", "api_key": "sk-test"},
        control_plane=plane,
        transport=httpx.MockTransport(fails_for_bad_model),
    )
    bot = gw.prompts.create("bot", SYSTEM, model="good")
    gw.prompts.create("other", SYSTEM, model="good")
    gw.prompts.update("bot", model="bad")
    for _ in range(3):
        await gw.prompts.completions("bot@1", VARS)
    with pytest.raises(Exception, match="bad model"):
        await gw.prompts.completions("bot@2", VARS)
    await gw.prompts.completions("other", VARS)
    await gw.chat({"model": "good", "messages": [{"role": "user", "content": "no prompt"}]})

    stats = gw.ai.analytics.prompts(prompt_id="bot")
    assert stats.prompt_id == bot.id
    assert stats.total_requests == 4
    by_version = {entry["prompt_version"]: entry for entry in stats.versions}
    assert by_version[1]["requests"] == 3
    assert by_version[1]["error_rate"] == 0.0
    assert by_version[2]["requests"] == 1
    assert by_version[2]["error_rate"] == 1.0
    assert by_version[1]["p50_latency_ms"] is not None
    everything = gw.ai.analytics.prompts()
    assert sorted((e["prompt_id"] == bot.id, e["prompt_version"]) for e in everything.versions) == [
        (False, 1),
        (True, 1),
        (True, 2),
    ]
    with pytest.raises(ResourceNotFoundError):
        gw.ai.analytics.prompts(prompt_id="nope")
    await gw.aclose()


async def test_a_versions_config_id_routes_its_completions(open_plane: Callable[..., ControlPlane]) -> None:
    plane = open_plane()
    gw = Gateway(
        config={"provider": "openai", "api_key": "sk-test"},
        control_plane=plane,
        transport=httpx.MockTransport(chat_ok),
        env={"OPENAI_API_KEY": "sk-from-env"},
    )
    saved = gw.configs.create("routed", {"provider": "openai", "override_params": {"model": "routed-model"}})
    gw.prompts.create("bot", SYSTEM, model="gpt-4o")
    gw.prompts.update("bot", config_id=saved.id)
    plain = await gw.prompts.completions("bot@1", VARS)
    assert plain.choices[0].message.content.startswith("gpt-4o|")
    routed = await gw.prompts.completions("bot@2", VARS)
    assert routed.choices[0].message.content.startswith("routed-model|")
    async with gw.prompts.completions("bot@2", VARS, stream=True) as stream:
        texts = [choice.delta.content async for chunk in stream for choice in chunk.choices]
    assert "".join(t or "" for t in texts).startswith("routed-model|")
    await gw.aclose()


async def test_a_provider_slug_model_goes_to_that_provider(open_plane: Callable[..., ControlPlane]) -> None:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return chat_ok(request)

    gw = Gateway(
        config={"provider": "anthropic", "api_key": "sk-ant-unused"},
        control_plane=open_plane(),
        transport=httpx.MockTransport(record),
        env={"OPENAI_API_KEY": "sk-openai-env"},
    )
    gw.prompts.create("bot", SYSTEM, model="@openai/gpt-4.1")
    answer = await gw.prompts.completions("bot", VARS)
    assert answer.choices[0].message.content.startswith("gpt-4.1|")
    assert seen[-1].url.host == "api.openai.com"
    assert seen[-1].headers["authorization"] == "Bearer sk-openai-env"
    await gw.aclose()
