"""The server as a real process: ``strands-portkey serve`` on a free loopback port.

Holds :class:`ServerProcess` (imported by the other ``test_server_*`` modules) and the tests of the
process itself: health, the CLI's refusals, the default config, graceful shutdown during a stream,
and analytics written once for a stream the client abandoned.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from _peer import free_port  # scripts/ is on pytest's pythonpath
from scripted_upstream import ScriptedUpstream, late_stream, ok

pytestmark = pytest.mark.integ

HI = [{"role": "user", "content": "hi"}]


def command() -> list[str]:
    """How to run ``strands-portkey`` in a subprocess."""
    return _command()


def _command() -> list[str]:
    script = Path(sys.executable).with_name("strands-portkey")
    return [str(script)] if script.exists() else [sys.executable, "-m", "strands_portkey"]


class ServerProcess:
    """A running ``strands-portkey serve --no-auth``; ``.url`` is ``http://127.0.0.1:N``."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, home: Path, log: Path) -> None:
        self.process, self.port, self.home, self.log = process, port, home, log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> Path:
        return self.home / "server.db"

    def logtail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def terminate(self, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(5)


def server_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(
        {
            "STRANDS_PORTKEY_HOME": str(home),
            "STRANDS_PORTKEY_DB_URL": f"sqlite:///{home / 'server.db'}",
            "STRANDS_PORTKEY_VALIDATE_KEYS": "off",
            "STRANDS_PORTKEY_ANALYTICS_FLUSH_INTERVAL": "0.2",
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    env.update(extra or {})
    return env


@contextmanager
def running_server(
    home: Path,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    ready_s: float = 60.0,
    *,
    no_auth: bool = True,
) -> Iterator[ServerProcess]:
    """Start the server (``--no-auth`` unless ``no_auth=False``), wait for ``/health/live``, stop it."""
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = home / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                *_command(),
                "serve",
                *(["--no-auth"] if no_auth else []),
                *("--port", str(port), "--log-level", "warning", *args),
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=server_env(home, env),
        )
    server = ServerProcess(process, port, home, log)
    deadline = time.monotonic() + ready_s
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}:\n{server.logtail()}")
            try:
                if httpx.get(f"{server.url}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start within {ready_s}s:\n{server.logtail()}")
            time.sleep(0.1)
        yield server
    finally:
        server.terminate()


@pytest.fixture(scope="module")
def upstream() -> Iterator[ScriptedUpstream]:
    with ScriptedUpstream() as scripted:
        yield scripted


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("server")) as running:
        yield running


def _direct(upstream: ScriptedUpstream, scenario: str, target: str = "a") -> dict[str, str]:
    return {"x-portkey-provider": "openai", "x-portkey-custom-host": upstream.base_url(scenario, target)}


def test_health_checks_answer_without_a_key(server: ServerProcess) -> None:
    live = httpx.get(f"{server.url}/health/live")
    ready = httpx.get(f"{server.url}/health/ready")
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()["checks"]) == (200, {"store": "ok"})


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["--host", "0.0.0.0"], {}, "bind a loopback address"),
        (["--workers", "2"], {}, "STRANDS_PORTKEY_REDIS_URL"),
        (["--config", "/nonexistent/config.json"], {}, "cannot read"),
    ],
)
def test_the_cli_refuses_unsafe_or_broken_setups(
    tmp_path: Path, args: list[str], env: dict, says: str
) -> None:
    done = subprocess.run(
        [*_command(), "serve", "--no-auth", *args],
        env=server_env(tmp_path, env),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert says in done.stderr.decode().replace("\n", " ")


def test_the_default_config_answers_requests_that_name_no_route(
    tmp_path: Path, upstream: ScriptedUpstream
) -> None:
    upstream.script("default-config", "a", [ok()])
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "provider": "openai",
                "api_key": "sk-default",
                "custom_host": upstream.base_url("default-config", "a"),
            }
        )
    )
    with running_server(tmp_path / "home", ["--config", str(config)]) as running:
        response = httpx.post(f"{running.url}/v1/chat/completions", json={"model": "m", "messages": HI})
    assert response.status_code == 200, response.text
    (call,) = upstream.calls("default-config")
    assert call.authorization == "Bearer sk-default"


def test_sigterm_lets_an_inflight_stream_finish(tmp_path: Path, upstream: ScriptedUpstream) -> None:
    upstream.script("shutdown", "a", [late_stream(1.5)])
    result: dict[str, Any] = {}
    with running_server(tmp_path / "home", ["--shutdown-grace", "20"]) as running:

        def stream() -> None:
            with httpx.stream(
                "POST",
                f"{running.url}/v1/chat/completions",
                json={"model": "m", "messages": HI, "stream": True},
                headers=_direct(upstream, "shutdown"),
                timeout=30,
            ) as response:
                result["status"] = response.status_code
                result["text"] = response.read().decode()

        reader = threading.Thread(target=stream)
        reader.start()
        deadline = time.monotonic() + 10
        while not upstream.calls("shutdown") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert upstream.calls("shutdown"), running.logtail()
        code = running.terminate()  # the stream's first chunk is still 1.5 s away
        reader.join(30)
        after = httpx.get(running.url + "/health/live", timeout=1) if running.process.poll() is None else None
    # uvicorn re-raises the SIGTERM it handled once it has shut down: exit by that signal, not a crash
    assert code in (0, -signal.SIGTERM), running.logtail()
    assert after is None
    assert result["status"] == 200
    assert result["text"].rstrip().endswith("data: [DONE]")


def test_an_abandoned_stream_is_recorded_once_as_cancelled(tmp_path: Path, local_model: Any) -> None:
    home = tmp_path / "home"
    headers = {"x-portkey-provider": "openai", "x-portkey-custom-host": local_model.base_url}
    body = {"model": local_model.model, "messages": HI, "stream": True, "max_tokens": 400}
    with running_server(home) as running:
        with httpx.stream(
            "POST", f"{running.url}/v1/chat/completions", json=body, headers=headers, timeout=60
        ) as response:
            assert response.status_code == 200, response.read()
            first = next(response.iter_lines())
            assert first.startswith("data: ")
        # closed after the first event: the server notices, closes the upstream call, records once
        time.sleep(1.0)
    with sqlite3.connect(running.db_path) as db:
        rows = db.execute("select status from request_records").fetchall()
    assert rows == [("cancelled",)]


def test_two_workers_with_redis_configured_and_ready_says_when_it_is_unreachable(
    tmp_path: Path, upstream: ScriptedUpstream
) -> None:
    upstream.script("workers", "a", [ok()])
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    with running_server(
        tmp_path / "home", ["--workers", "2"], env={"STRANDS_PORTKEY_REDIS_URL": dead_redis}
    ) as running:
        ready = httpx.get(f"{running.url}/health/ready", timeout=10)
        answered = [
            httpx.post(
                f"{running.url}/v1/chat/completions",
                json={"model": "m", "messages": HI},
                headers=_direct(upstream, "workers"),
                timeout=30,
            ).status_code
            for _ in range(4)
        ]
    assert ready.status_code == 503
    assert ready.json()["checks"]["redis"].startswith("unreachable")
    assert ready.json()["checks"]["store"] == "ok"
    assert answered == [200] * 4
