"""The local-process deployer leaves no temporary folder behind (short real processes, no sockets)."""

from __future__ import annotations

import base64
import sys
import tempfile
from pathlib import Path

import pytest

from strands_portkey.catalog.deploy import DeploySpec, LocalProcessDeployer
from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.models_api import AIModels
from strands_portkey.errors import InvalidRequestError

PRINTS = "print('hello', flush=True)"
SLEEPS = "import time; print('up', flush=True); time.sleep(60)"
PREFIX = "strands-portkey-deploy-"
MASTER = base64.urlsafe_b64encode(bytes(range(32))).decode()


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where ``tempfile`` makes folders during the test (not the shared /tmp other runs use)."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def _folders(root: Path) -> list[Path]:
    return sorted(root.glob(f"{PREFIX}*"))


def _deploy(deployer: LocalProcessDeployer, model_id: str) -> Path:
    deployer.deploy(DeploySpec(model_id, (sys.executable, "-c", PRINTS)))
    assert deployer.wait_exited(model_id, timeout=30)
    assert "hello" in deployer.logs(model_id)["replica-0"]
    (folder,) = {Path(path).parent for path in _logs(deployer, model_id)}
    return folder


def _logs(deployer: LocalProcessDeployer, model_id: str) -> list[Path]:
    return [replica.log for replica in deployer._replicas(model_id)]


def test_a_deployer_makes_no_folder_until_it_deploys(temp_root: Path) -> None:
    deployer = LocalProcessDeployer(interval=60)
    assert deployer.endpoints("m1") == []
    assert deployer.status("m1").status == "stopped"
    assert _folders(temp_root) == []
    deployer.close()


def test_stopping_a_deployment_removes_its_folder(temp_root: Path) -> None:
    deployer = LocalProcessDeployer(interval=60)
    first = _deploy(deployer, "m1")
    second = _deploy(deployer, "m2")
    assert first != second
    assert _folders(temp_root) == sorted([first, second])
    deployer.stop("m1")
    assert not first.exists()
    assert _folders(temp_root) == [second]
    replaced = _deploy(deployer, "m2")  # a redeploy replaces the old deployment and its folder
    assert not second.exists()
    assert _folders(temp_root) == [replaced]
    deployer.close()
    assert _folders(temp_root) == []


def test_a_failed_deploy_leaves_no_folder(temp_root: Path, tmp_path: Path) -> None:
    script = tmp_path / "server"
    script.write_text("#!/no/such/interpreter\n")
    script.chmod(0o755)
    deployer = LocalProcessDeployer(interval=60)
    with pytest.raises(InvalidRequestError, match="could not start"):
        deployer.deploy(DeploySpec("m1", (str(script),), 2))
    assert _folders(temp_root) == []
    deployer.close()


def test_a_log_dir_of_the_callers_is_kept(temp_root: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    deployer = LocalProcessDeployer(log_dir=logs, interval=60)
    assert _deploy(deployer, "m1") == logs
    deployer.close()
    assert [path.name for path in logs.iterdir()] == ["m1-replica-0.log"]
    assert _folders(temp_root) == []


def test_deleting_a_deployed_model_stops_its_replicas_and_removes_its_folder(
    temp_root: Path, tmp_path: Path
) -> None:
    plane = ControlPlane(f"sqlite:///{tmp_path / 'cp.db'}", master_key=MASTER, validate_credentials=False)
    models = AIModels(plane, plane.registered_models)
    model = models.create(
        {"name": "sleeper", "type": "self-hosted", "provider": "local", "vendor_model_id": "x",
         "config": {"command": [sys.executable, "-c", SLEEPS]}}
    )  # fmt: skip
    models.deploy(model.id)
    (replica,) = plane.deployer._replicas(model.id)
    assert _folders(temp_root) == [replica.log.parent]
    models.delete(model.id)
    assert replica.process.poll() is not None  # stopped, not left running without a model
    assert plane.deployer.status(model.id).status == "stopped"
    assert _folders(temp_root) == []
    plane.close()
