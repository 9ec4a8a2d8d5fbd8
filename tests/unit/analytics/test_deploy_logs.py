"""Replica logs through the local-process deployer and ``gw.ai.models.logs``, with short real processes.

Each command prints a few lines and exits (or is stopped); the tests wait on the process and the
capture thread (``wait_exited``), never by sleeping.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from strands_portkey import Gateway
from strands_portkey.catalog.deploy import DeploySpec, LocalProcessDeployer
from strands_portkey.controlplane import ControlPlane
from strands_portkey.errors import InvalidRequestError

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"
PRINTS = (
    "import sys; print('one'); print('two', flush=True); sys.stderr.write('three\\n'); "
    "sys.stderr.flush(); sys.stdout.buffer.write(b'tail'); sys.exit(4)"
)


class Clock:
    """Minute ticks, one per call; the capture thread calls it once per line."""

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            self.calls += 1
            return T0 + timedelta(minutes=self.calls - 1)


@pytest.fixture
def deployer(tmp_path: Path) -> Iterator[LocalProcessDeployer]:
    found = LocalProcessDeployer(log_dir=tmp_path, interval=60, grace=5, now=Clock())
    yield found
    found.close()


def test_output_is_stamped_per_line_and_since_then_lines_filter_it(deployer: LocalProcessDeployer) -> None:
    deployer.deploy(DeploySpec("m1", (sys.executable, "-c", PRINTS)))
    assert deployer.wait_exited("m1", timeout=30)
    everything = deployer.logs("m1", lines=None, since=None)
    assert everything == {
        "replica-0": "\n".join(
            [
                "2026-11-22T10:00:00.000000Z one",
                "2026-11-22T10:01:00.000000Z two",
                "2026-11-22T10:02:00.000000Z three",  # stderr, in order
                "2026-11-22T10:03:00.000000Z tail",  # no newline before exit: kept
            ]
        )
    }
    assert deployer.logs("m1", since=T0 + timedelta(minutes=2)) == {
        "replica-0": "2026-11-22T10:02:00.000000Z three\n2026-11-22T10:03:00.000000Z tail"
    }
    assert deployer.logs("m1", since=T0 + timedelta(minutes=1), lines=1) == {
        "replica-0": "2026-11-22T10:03:00.000000Z tail"
    }
    assert deployer.logs("m1", since=T0 + timedelta(hours=1)) == {"replica-0": ""}  # future: nothing
    assert deployer.logs("m1", lines=2)["replica-0"].split("\n")[0].endswith("three")


def test_an_exited_replica_quotes_its_last_lines_without_stamps(deployer: LocalProcessDeployer) -> None:
    deployer.deploy(DeploySpec("m1", (sys.executable, "-c", PRINTS)))
    assert deployer.wait_exited("m1", timeout=30)
    state = deployer.status("m1")
    assert state.status == "failed"
    assert state.conditions[0]["reason"] == "Exited"
    assert state.conditions[0]["message"] == "exited with code 4: one\ntwo\nthree\ntail"


def test_an_unknown_container_names_the_replicas(deployer: LocalProcessDeployer) -> None:
    deployer.deploy(DeploySpec("m1", (sys.executable, "-c", "print('x')"), replicas=2))
    assert deployer.wait_exited("m1", timeout=30)
    assert sorted(deployer.logs("m1")) == ["replica-0", "replica-1"]
    assert list(deployer.logs("m1", container="replica-1")) == ["replica-1"]
    with pytest.raises(InvalidRequestError) as raised:
        deployer.logs("m1", container="inference")
    assert raised.value.path == "container"
    assert "'inference'" in str(raised.value)
    assert "replica-0, replica-1" in str(raised.value)


def test_stop_ends_the_process_and_its_capture_thread(deployer: LocalProcessDeployer) -> None:
    waits = "print('up', flush=True); import time; time.sleep(60)"
    deployer.deploy(DeploySpec("m2", (sys.executable, "-c", waits)))
    assert any(t.name == "strands-portkey-log-m2-replica-0" for t in threading.enumerate())
    assert not deployer.wait_exited("m2", timeout=0)  # still running
    deployer.stop("m2")
    assert not any(t.name.startswith("strands-portkey-log-m2") for t in threading.enumerate())
    assert deployer.status("m2").status == "stopped"


# --------------------------------------------------------------------------- gw.ai.models.logs


def test_models_logs_applies_since_and_answers_it_as_a_utc_time(plane: ControlPlane) -> None:
    models = Gateway({"provider": "openai", "api_key": "unused"}, control_plane=plane).ai.models
    model = models.create(
        {
            "name": "printer",
            "type": "self-hosted",
            "provider": "local",
            "vendor_model_id": "x",
            "config": {"command": [sys.executable, "-c", "print('hello'); print('world')"]},
        }
    )
    models.deploy(model.id)
    assert plane.deployer.wait_exited(model.id, timeout=30)

    before = datetime.now(timezone.utc)
    answer = models.logs(model.id, since="1h")
    after = datetime.now(timezone.utc)
    assert answer["model_id"] == model.id
    since = datetime.fromisoformat(answer["since"].replace("Z", "+00:00"))
    assert before - timedelta(hours=1) <= since <= after - timedelta(hours=1)
    assert re.fullmatch(f"{STAMP} hello\n{STAMP} world", answer["logs"]["replica-0"])

    future = models.logs(model.id, since="2999-01-01T00:00:00+01:00", container="replica-0")
    assert future == {"model_id": model.id, "since": "2998-12-31T23:00:00.000000Z", "logs": {"replica-0": ""}}
    last = models.logs(model.id, since=datetime(2000, 1, 1), lines=1)
    assert last["since"] == "2000-01-01T00:00:00.000000Z"
    assert re.fullmatch(f"{STAMP} world", last["logs"]["replica-0"])
    assert models.logs(model.id)["since"] is None

    with pytest.raises(InvalidRequestError) as raised:
        models.logs(model.id, since="an hour ago")
    assert raised.value.path == "since"
    assert "'an hour ago'" in str(raised.value)
    with pytest.raises(InvalidRequestError) as raised:
        models.logs(model.id, container="inference")
    assert raised.value.path == "container"
    assert "replica-0" in str(raised.value)


def test_a_command_that_is_not_a_program_is_refused_naming_it(plane: ControlPlane, tmp_path: Path) -> None:
    models = Gateway({"provider": "openai", "api_key": "sk-x"}, control_plane=plane).ai.models
    missing = models.create(
        {"name": "gone", "type": "self-hosted", "provider": "vllm", "vendor_model_id": "x",
         "config": {"command": ["no-such-server-binary", "--port", "{port}"]}}
    )  # fmt: skip
    with pytest.raises(InvalidRequestError) as raised:
        models.deploy(missing.id)
    assert raised.value.path == "config.command[0]"
    assert "'no-such-server-binary' is not an executable file" in str(raised.value)
    assert models.status(missing.id).replicas == 0


def test_a_program_that_cannot_be_executed_is_refused_and_nothing_is_deployed(tmp_path: Path) -> None:
    script = tmp_path / "server"
    script.write_text("#!/no/such/interpreter\n")
    script.chmod(0o755)  # executable, so which() finds it; exec fails on the interpreter
    deployer = LocalProcessDeployer(log_dir=tmp_path, interval=60, grace=5)
    spec = DeploySpec("m1", (str(script),), 2, "/v1/models", {})
    with pytest.raises(InvalidRequestError, match="could not start") as raised:
        deployer.deploy(spec)
    assert raised.value.path == "config.command"
    assert deployer.endpoints("m1") == []
    deployer.close()
