"""Self-hosted lifecycle with the local-process deployer: two real SmolLM2 replicas on loopback."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import local_model as local_model_lib  # scripts/ is on pytest's pythonpath
from strands_portkey import Gateway
from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.models_api import AIModelStatus

pytestmark = pytest.mark.integ

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"
MASTER = base64.urlsafe_b64encode(bytes(range(50, 82))).decode()


def wait_for(
    check: Callable[[], AIModelStatus], done: Callable[[AIModelStatus], bool], timeout: float
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        status = check()
        if done(status) or time.monotonic() > deadline:
            return status
        time.sleep(0.5)


@pytest.fixture
def gateway(local_model: Any, tmp_path: Path) -> Iterator[Gateway]:  # local_model: installed (or skip/fail)
    plane = ControlPlane(f"sqlite:///{tmp_path / 'cp.db'}", master_key=MASTER, validate_credentials=False)
    gw = Gateway({"provider": "openai", "api_key": "unused"}, control_plane=plane, balance="round_robin")
    yield gw
    asyncio.run(gw.aclose())
    plane.close()


def test_two_replicas_start_route_lose_one_and_stop(gateway: Gateway) -> None:
    env = local_model_lib.installed_env()
    assert env is not None
    command = [part if part != "65000" else "{port}" for part in env.server_command(65000, n_threads=1)]
    models = gateway.ai.models
    model = models.create(
        {
            "name": "SmolLM2 replicas",
            "type": "self-hosted",
            "provider": "llama-cpp",
            "vendor_model_id": local_model_lib.MODEL_ALIAS,
            "max_tokens": 12,
            "config": {"command": command, "replicas": 2, "default_temperature": 0},
        }
    )
    assert models.deploy(model.id) == {"id": model.id, "status": "deploying", "replicas": 2}
    status = wait_for(lambda: models.status(model.id), lambda s: s.ready_replicas == 2, timeout=180)
    assert (status.status, status.replicas, status.ready_replicas) == ("active", 2, 2), status
    assert [m.name for m in models.list(status="active")] == ["SmolLM2 replicas"]

    body = {"model": model.name, "messages": [{"role": "user", "content": "Say hi."}]}

    async def ask(times: int) -> list[str]:
        return [(await gateway.chat(body)).text for _ in range(times)]

    assert all(asyncio.run(ask(4)))
    ports = {c["port"] for c in status.conditions}
    # round-robin over the two ready replicas: each one served requests
    logs = models.logs(model.id, lines=200)["logs"]
    assert sorted(logs) == ["replica-0", "replica-1"]
    assert all("chat/completions" in text for text in logs.values()), logs
    assert len(ports) == 2
    # each line carries the UTC time it arrived; since="1h" keeps this run's server output
    recent = models.logs(model.id, since="1h", lines=200)
    assert re.fullmatch(STAMP, recent["since"])
    for text in recent["logs"].values():
        assert "chat/completions" in text, recent
        assert all(re.match(STAMP + " ", line) for line in text.splitlines()), text
    future = models.logs(model.id, since="2999-01-01T00:00:00Z", container="replica-1")
    assert future["logs"] == {"replica-1": ""}

    victim = status.conditions[0]["pid"]
    os.kill(victim, signal.SIGKILL)
    status = wait_for(lambda: models.status(model.id), lambda s: s.ready_replicas == 1, timeout=30)
    assert (status.status, status.ready_replicas) == ("active", 1)
    assert [c["reason"] for c in status.conditions] == ["Exited", "Healthy"]
    assert all(asyncio.run(ask(2)))  # the survivor serves

    assert models.stop(model.id) == {"id": model.id, "status": "stopped"}
    assert models.status(model.id).ready_replicas == 0
    with pytest.raises(ProcessLookupError):
        os.kill(status.conditions[1]["pid"], 0)


def test_a_command_that_exits_at_once_is_failed_with_the_reason(gateway: Gateway) -> None:
    models = gateway.ai.models
    model = models.create(
        {
            "name": "broken",
            "type": "self-hosted",
            "provider": "llama-cpp",
            "vendor_model_id": "none",
            "config": {"command": [sys.executable, "-c", "print('no model file'); raise SystemExit(3)"]},
        }
    )
    models.deploy(model.id)
    status = wait_for(lambda: models.status(model.id), lambda s: s.status == "failed", timeout=30)
    assert status.status == "failed"
    assert "exited with code 3" in status.conditions[0]["message"]
    assert "no model file" in status.conditions[0]["message"]
    assert "no model file" in models.logs(model.id, container="replica-0")["logs"]["replica-0"]
    assert models.overview().failed == 1
