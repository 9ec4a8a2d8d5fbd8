"""Self-hosted models: the :class:`Deployer` protocol and a local-process deployer.

A deployment is ``replicas`` copies of one OpenAI-compatible server command, each on its own
free port on 127.0.0.1 (``{port}`` in the command is replaced), with its output captured line
by line, each line stamped with the UTC time it arrived, in one log file per replica
(:mod:`.replica_logs`). A background thread health-checks every replica (``GET {health_path}``
answering 200 makes it ready) and notices replicas that exit. ``status`` reports ``replicas`` (desired),
``ready_replicas`` and one condition per replica; a replica that exits shows its exit code and
the last lines of its log. The gateway balances requests over :meth:`Deployer.endpoints`.

Without a ``log_dir``, each deployment writes its logs into a temporary folder of its own
(``strands-portkey-deploy-*``), created when it is deployed and removed when it is stopped,
replaced or deleted, and when the deployer closes (interpreter exit included).

Beyond one machine, a Kubernetes deployer would implement the same protocol (a Deployment, its
readiness probe on the health path, a Service as the endpoint, pod logs); it is not built.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from ..errors import InvalidRequestError
from .replica_logs import LogCapture, read_log, unstamped, utc_now

__all__ = ["DeploySpec", "Deployer", "DeploymentState", "LocalProcessDeployer", "deploy_spec"]

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True, slots=True)
class DeploySpec:
    """What to run: ``command`` (``{port}`` is replaced), how many, and how to tell it is ready."""

    model_id: str
    command: tuple[str, ...]
    replicas: int = 1
    health_path: str = "/v1/models"
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeploymentState:
    """A deployment now: ``status`` (active / deploying / stopped / failed), replicas, conditions."""

    status: str
    replicas: int
    ready_replicas: int
    conditions: list[dict[str, Any]]


class Deployer(Protocol):
    """Runs self-hosted models (local processes here; Kubernetes is the path beyond one machine)."""

    def deploy(self, spec: DeploySpec) -> None:
        """Start ``spec.replicas`` replicas (replacing a running deployment of the model)."""
        ...

    def stop(self, model_id: str) -> None:
        """Stop every replica of the model."""
        ...

    def status(self, model_id: str) -> DeploymentState:
        """Desired and ready replicas, with one condition per replica."""
        ...

    def logs(
        self, model_id: str, *, lines: int | None, since: datetime | None, container: str | None
    ) -> dict[str, str]:
        """Each replica's stamped lines at or after ``since``, the last ``lines`` of them.

        ``container`` (``replica-N``) picks one replica.
        """
        ...

    def now(self) -> datetime:
        """The deployer's clock (UTC): the time log lines are stamped with, and ``since="1h"`` counts from."""
        ...

    def endpoints(self, model_id: str) -> list[str]:
        """Base URLs (``http://127.0.0.1:N/v1``) of the ready replicas."""
        ...


def deploy_spec(model_id: str, config: Mapping[str, Any], replicas: Any = None) -> DeploySpec:
    """The spec of a model from its ``config`` (``command``, ``replicas``, ``health_path``, ``env``)."""
    command = config.get("command")
    if not isinstance(command, list) or not command or not all(isinstance(part, str) for part in command):
        raise InvalidRequestError(
            "a self-hosted model needs the server command as a list of strings, "
            "with {port} where the port goes, e.g. ['python', '-m', 'llama_cpp.server', '--port', '{port}']",
            path="config.command",
        )
    env = config.get("env", {})
    if not isinstance(env, Mapping) or not all(isinstance(v, str) for v in env.values()):
        raise InvalidRequestError(f"expected an object of strings, got {env!r}", path="config.env")
    search_path = env.get("PATH", os.environ.get("PATH"))
    if shutil.which(command[0], path=search_path) is None:
        raise InvalidRequestError(
            f"{command[0]!r} is not an executable file, nor a program found on PATH "
            "(give its full path, or a PATH in config.env)",
            path="config.command[0]",
        )
    count = config.get("replicas", 1) if replicas is None else replicas
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 16:
        raise InvalidRequestError(f"expected an integer from 1 to 16, got {count!r}", path="replicas")
    return DeploySpec(
        model_id,
        tuple(command),
        count,
        str(config.get("health_path", "/v1/models")),
        dict(env),
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_DRAIN = 0.5  # seconds to wait for an exited replica's last output before quoting it


class _Replica:
    def __init__(self, index: int, spec: DeploySpec, folder: Path, now: Callable[[], datetime]) -> None:
        self.name = f"replica-{index}"
        self.port = _free_port()
        self.log = folder / f"{spec.model_id}-{self.name}.log"
        command = [part.replace("{port}", str(self.port)) for part in spec.command]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, **spec.env},
            start_new_session=True,
        )
        assert self.process.stdout is not None  # stdout=PIPE
        try:
            self.capture = LogCapture(
                self.process.stdout,
                self.log,
                now=now,
                name=f"strands-portkey-log-{spec.model_id}-{self.name}",
            )
        except OSError:  # no log file: no replica either (nothing would drain its output)
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            raise
        self.health_url = f"http://127.0.0.1:{self.port}{spec.health_path}"
        self.ready = False

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def check(self) -> None:
        if self.process.poll() is not None:
            self.ready = False
            return
        try:
            with _NO_PROXY.open(self.health_url, timeout=2.0) as response:
                self.ready = int(response.status) == 200
        except (urllib.error.URLError, OSError, ValueError):
            self.ready = False

    def condition(self) -> dict[str, Any]:
        code = self.process.poll()
        base = {"type": "Ready", "replica": self.name, "port": self.port, "pid": self.process.pid}
        if code is not None:
            self.capture.join(_DRAIN)  # its last words are what the condition quotes
            last = unstamped(read_log(self.log, lines=5, since=None))
            reason = f"exited with code {code}: {last}".strip()
            return base | {"status": "False", "reason": "Exited", "message": reason}
        if self.ready:
            return base | {"status": "True", "reason": "Healthy", "message": f"{self.health_url} answers"}
        return base | {"status": "False", "reason": "Starting", "message": f"waiting for {self.health_url}"}

    def stop(self, grace: float) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.capture.join(grace)  # at once, unless a child it left behind still holds the pipe
        self.ready = False


@dataclass(frozen=True, slots=True)
class _Deployment:
    spec: DeploySpec
    replicas: list[_Replica]
    folder: Path | None  # the temporary folder this deployment owns (None: the caller's log_dir)


def _remove(folder: Path | None) -> None:
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


class LocalProcessDeployer:
    """Each replica a server process on 127.0.0.1, health-checked every ``interval`` seconds.

    Logs go to ``log_dir`` (kept: the caller's folder), else to a temporary folder per
    deployment, removed with it.
    """

    def __init__(
        self,
        *,
        log_dir: Path | None = None,
        interval: float = 0.5,
        grace: float = 5.0,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._log_dir = log_dir
        self._interval, self._grace, self._now = interval, grace, now
        self._deployments: dict[str, _Deployment] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._at_exit = _closer(weakref.ref(self))  # replicas never outlive the interpreter
        atexit.register(self._at_exit)

    def __repr__(self) -> str:
        return f"LocalProcessDeployer(models={sorted(self._deployments)})"

    def deploy(self, spec: DeploySpec) -> None:
        """Start the replicas (a running deployment of the model is stopped first)."""
        self.stop(spec.model_id)
        owned = (
            None if self._log_dir is not None else Path(tempfile.mkdtemp(prefix="strands-portkey-deploy-"))
        )
        folder = owned or self._log_dir
        assert folder is not None
        replicas: list[_Replica] = []
        try:
            for index in range(spec.replicas):
                replicas.append(_Replica(index, spec, folder, self._now))
        except OSError as error:  # nothing half-started is left running, nor its folder
            for started in replicas:
                started.stop(self._grace)
            _remove(owned)
            raise InvalidRequestError(
                f"could not start {spec.command[0]!r}: {error.strerror or error}", path="config.command"
            ) from None
        with self._lock:
            self._deployments[spec.model_id] = _Deployment(spec, replicas, owned)
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="strands-portkey-deployer", daemon=True)
            self._thread.start()

    def _watch(self) -> None:
        while not self._stopping.wait(self._interval):
            with self._lock:
                replicas = [
                    replica for deployment in self._deployments.values() for replica in deployment.replicas
                ]
            for replica in replicas:
                replica.check()

    def _replicas(self, model_id: str) -> list[_Replica]:
        with self._lock:
            deployment = self._deployments.get(model_id)
        return deployment.replicas if deployment is not None else []

    def stop(self, model_id: str) -> None:
        """Stop the model's replicas (SIGTERM, then SIGKILL after the grace period); drop their logs.

        The logs go with the deployment: its temporary folder is removed (a ``log_dir`` is kept).
        """
        with self._lock:
            deployment = self._deployments.pop(model_id, None)
        if deployment is None:
            return
        for replica in deployment.replicas:
            replica.stop(self._grace)
        _remove(deployment.folder)

    def status(self, model_id: str) -> DeploymentState:
        """``active`` when replicas serve, ``deploying`` while they start, ``failed`` when all exited."""
        with self._lock:
            deployment = self._deployments.get(model_id)
        if deployment is None:
            return DeploymentState("stopped", 0, 0, [])
        spec, replicas = deployment.spec, deployment.replicas
        conditions = [replica.condition() for replica in replicas]
        ready = sum(1 for condition in conditions if condition["status"] == "True")
        exited = sum(1 for condition in conditions if condition["reason"] == "Exited")
        status = "failed" if exited == len(replicas) else "active" if ready == len(replicas) else "deploying"
        if ready and exited:
            status = "active"  # degraded: serving on the replicas left; the conditions say which died
        return DeploymentState(status, spec.replicas, ready, conditions)

    def now(self) -> datetime:
        """The clock log lines are stamped with (``now=``, UTC by default)."""
        return self._now()

    def logs(
        self,
        model_id: str,
        *,
        lines: int | None = None,
        since: datetime | None = None,
        container: str | None = None,
    ) -> dict[str, str]:
        """Each replica's (or ``container``'s) lines at or after ``since``: the last ``lines`` (100)."""
        replicas = self._replicas(model_id)
        chosen = [replica for replica in replicas if container is None or replica.name == container]
        if container is not None and not chosen:
            names = ", ".join(replica.name for replica in replicas) or "none running"
            raise InvalidRequestError(f"no replica {container!r} (replicas: {names})", path="container")
        return {replica.name: read_log(replica.log, lines=lines or 100, since=since) for replica in chosen}

    def endpoints(self, model_id: str) -> list[str]:
        """Base URLs of the ready replicas."""
        replicas = self._replicas(model_id)
        return [replica.base_url for replica in replicas if replica.ready and replica.process.poll() is None]

    def wait_ready(self, model_id: str, replicas: int, timeout: float) -> bool:
        """Wait until ``replicas`` are ready (True) or the deployment failed / time ran out (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.status(model_id)
            if state.ready_replicas >= replicas:
                return True
            if state.status in ("failed", "stopped"):
                return False
            time.sleep(self._interval)
        return False

    def wait_exited(self, model_id: str, timeout: float) -> bool:
        """Wait until every replica of the model exited and its output is in its log (True), or time ran out.

        For commands that end on their own (a batch job, a failing command); no polling.
        """
        deadline = time.monotonic() + timeout
        for replica in self._replicas(model_id):
            try:
                replica.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                return False
            if not replica.capture.join(max(0.0, deadline - time.monotonic())):
                return False
        return True

    def close(self) -> None:
        """Stop every deployment (removing their temporary folders) and the health-check thread."""
        for model_id in list(self._deployments):
            self.stop(model_id)
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        atexit.unregister(self._at_exit)


def _closer(ref: weakref.ref[LocalProcessDeployer]) -> Callable[[], None]:
    def close() -> None:
        deployer = ref()
        if deployer is not None:
            deployer.close()

    return close
