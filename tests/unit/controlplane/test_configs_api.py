"""Saved configs: versions, validation with JSON paths, no secrets in clear, and gateways that run
``pc-...`` from the local store and follow later versions (at once here, within the refresh
interval from another process). Two planes on one SQLite file play two processes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from strands_portkey import Gateway
from strands_portkey.controlplane import ControlPlane
from strands_portkey.errors import (
    ConfigurationError,
    ConflictError,
    InvalidRequestError,
    ResourceNotFoundError,
)

from .conftest import MASTER, Clock, FakeProvider

BODY = {"model": "ignored", "messages": [{"role": "user", "content": "hi"}]}
ENV_KEY = {"OPENAI_API_KEY": "sk-good-from-the-environment-0001"}


def leaf(model: str) -> dict[str, Any]:
    return {"provider": "openai", "override_params": {"model": model}}


def inline(work: Callable[[], None]) -> None:
    work()


@pytest.fixture
def open_plane(tmp_path: Path) -> Iterator[Callable[..., ControlPlane]]:
    opened: list[ControlPlane] = []

    def open_plane(**options: Any) -> ControlPlane:
        options.setdefault("spawn", inline)
        options.setdefault("refresh_interval", None)
        plane = ControlPlane(
            f"sqlite:///{tmp_path / 'configs.db'}",
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
def gw(open_plane: Callable[..., ControlPlane]) -> Gateway:
    return Gateway(leaf("unused"), control_plane=open_plane(), env=ENV_KEY)


def test_create_update_retrieve_versions_delete(gw: Gateway) -> None:
    saved = gw.configs.create("team", leaf("gpt-4o-mini"), description="the team's route")
    assert saved.id.startswith("pc-")
    assert (saved.version, saved.latest_version, saved.owner) == (1, 1, "ana")
    second = gw.configs.update(saved.id, config=json.dumps(leaf("gpt-4o")))
    assert (second.version, second.config["override_params"]) == (2, {"model": "gpt-4o"})
    assert gw.configs.update(saved.id, config=leaf("gpt-4o")).version == 2  # unchanged: no new version
    assert gw.configs.retrieve("team").config == leaf("gpt-4o")
    old = gw.configs.retrieve(saved.id, version=1)
    assert (old.version, old.latest_version, old.config) == (1, 2, leaf("gpt-4o-mini"))
    assert [v.version for v in gw.configs.versions(saved.id)] == [1, 2]
    renamed = gw.configs.update(saved.id, name="team-b")
    assert (renamed.name, renamed.version) == ("team-b", 2)
    with pytest.raises(ResourceNotFoundError, match="no version 3"):
        gw.configs.retrieve(saved.id, version=3)
    assert gw.configs.delete("team-b") == {"id": saved.id, "deleted": True}
    with pytest.raises(ResourceNotFoundError):
        gw.configs.retrieve(saved.id)


def test_list_pages_and_searches(gw: Gateway) -> None:
    for name in ["c", "a", "b_x", "bx"]:
        gw.configs.create(name, leaf(name))
    assert [c.name for c in gw.configs.list(limit=1)] == ["a", "b_x", "bx", "c"]
    assert [c.name for c in gw.configs.list(search="b_")] == ["b_x"]  # '_' is literal
    with pytest.raises(ConflictError, match="saved config"):
        gw.configs.create("a", leaf("again"))


@pytest.mark.parametrize(
    ("config", "path"),
    [
        (
            {"strategy": {"mode": "fallback"}, "targets": [leaf("a"), {**leaf("b"), "weight": "x"}]},
            "config.targets[1].weight",
        ),
        ({"strategy": {"mode": "sideways"}, "targets": [leaf("a")]}, "config.strategy.mode"),
        ("{not json", "config"),
        ({**leaf("a"), "colour": "blue"}, "config"),
        ({"provider": "openai", "api_key": "sk-live-secret-0123456789"}, "config.api_key"),
        (
            {
                "strategy": {"mode": "fallback"},
                "targets": [leaf("a"), {"provider": "bedrock", "aws_secret_access_key": "s"}],
            },
            "config.targets[1].aws_secret_access_key",
        ),
        (
            {
                **leaf("a"),
                "before_request_hooks": [
                    {
                        "id": "h",
                        "checks": [
                            {
                                "id": "default.webhook",
                                "parameters": {
                                    "webhookURL": "https://x",
                                    "headers": {"Authorization": "Bearer s"},
                                },
                            }
                        ],
                    }
                ],
            },
            "config.before_request_hooks[0].checks[0].parameters.headers.Authorization",
        ),
    ],
)
def test_bad_or_secret_holding_configs_are_refused_with_their_path(
    gw: Gateway, config: Any, path: str
) -> None:
    with pytest.raises(InvalidRequestError) as info:
        gw.configs.create("bad", config)
    assert info.value.path == path
    assert "sk-live-secret" not in str(info.value)
    assert list(gw.configs.list()) == []


def test_a_secret_refusal_says_where_keys_belong(gw: Gateway) -> None:
    with pytest.raises(InvalidRequestError, match="virtual_key"):
        gw.configs.create("bad", {"provider": "openai", "api_key": "sk-x"})
    saved = gw.configs.create("ok", {"virtual_key": "prod-openai"})
    with pytest.raises(InvalidRequestError, match="credential"):
        gw.configs.update(saved.id, config={"provider": "openai", "api_key": "sk-x"})
    assert gw.configs.retrieve(saved.id).version == 1


async def test_a_gateway_runs_a_saved_config_and_follows_its_versions(
    gw: Gateway, fake_provider: FakeProvider
) -> None:
    saved = gw.configs.create("team", leaf("gpt-4o-mini"))
    plane = gw._plane(create=False)
    for ref in [{"config": saved.id}, {"client_args": {"config": saved.id}}]:
        fake_provider.requests.clear()
        runner = Gateway(
            **ref, control_plane=plane, env=ENV_KEY, transport=httpx.MockTransport(fake_provider.handler)
        )
        await runner.chat(BODY)
        sent = json.loads(fake_provider.requests[-1].content)
        assert sent["model"] == "gpt-4o-mini"
        assert fake_provider.requests[-1].headers["authorization"] == f"Bearer {ENV_KEY['OPENAI_API_KEY']}"
    gw.configs.update(saved.id, config=leaf("gpt-4o"))
    await runner.chat(BODY)
    assert json.loads(fake_provider.requests[-1].content)["model"] == "gpt-4o"
    gw.configs.delete(saved.id)  # deleted: the last version keeps running
    await runner.chat(BODY)
    assert json.loads(fake_provider.requests[-1].content)["model"] == "gpt-4o"
    runner.reconfigure(leaf("gpt-4.1"))
    await runner.chat(BODY)
    assert json.loads(fake_provider.requests[-1].content)["model"] == "gpt-4.1"


async def test_another_process_s_new_version_takes_effect_within_the_refresh_interval(
    open_plane: Callable[..., ControlPlane], fake_provider: FakeProvider
) -> None:
    clock = Clock()
    admin = Gateway(leaf("unused"), control_plane=open_plane(), env=ENV_KEY)
    saved = admin.configs.create("team", leaf("gpt-4o-mini"))
    worker_plane = open_plane(clock=clock, refresh_interval=2.0)
    worker = Gateway(
        saved.id,
        control_plane=worker_plane,
        env=ENV_KEY,
        transport=httpx.MockTransport(fake_provider.handler),
    )
    admin.configs.update(saved.id, config=leaf("gpt-4o"))
    await worker.chat(BODY)
    assert json.loads(fake_provider.requests[-1].content)["model"] == "gpt-4o-mini"  # not yet
    clock.now += 2.0
    await worker.chat(BODY)
    assert json.loads(fake_provider.requests[-1].content)["model"] == "gpt-4o"


def test_a_saved_config_made_by_another_process_is_found_when_a_gateway_is_built(
    open_plane: Callable[..., ControlPlane],
) -> None:
    worker_plane = open_plane(refresh_interval=60.0)
    assert repr(worker_plane.saved_configs) == "SavedConfigs(configs=0)"
    admin = Gateway(leaf("unused"), control_plane=open_plane(), env=ENV_KEY)
    saved = admin.configs.create("team", leaf("gpt-4o-mini"))
    worker = Gateway(saved.id, control_plane=worker_plane, env=ENV_KEY)
    assert worker._saved_config == (saved.id, 1)


def test_a_saved_config_this_store_lacks_goes_to_portkey_as_before(gw: Gateway) -> None:
    plane = gw._plane(create=False)
    with pytest.raises(ConfigurationError, match="stored at Portkey") as info:
        Gateway("pc-unknown", control_plane=plane, env={})
    assert info.value.path == "client_args.config"
    hosted = Gateway(client_args={"config": "pc-unknown", "api_key": "pk-test"}, control_plane=plane, env={})
    assert hosted._saved_config is None
    assert "portkey" in repr(hosted)
