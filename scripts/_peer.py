"""What the loopback peer managers share (stdlib only): ports, logs, and serving until Ctrl-C.

``local_model.py``, ``llama_server.py``, ``portkey_gateway.py`` and ``postgres_server.py`` each
install and run one real peer on 127.0.0.1; the pieces that do not depend on the peer live here.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

__all__ = [
    "HOST",
    "NO_PROXY_OPENER",
    "build_jobs",
    "build_progress",
    "elapsed_text",
    "free_port",
    "kill_with_parent",
    "missing_build_tools",
    "port_is_free",
    "progress_line",
    "run_logged",
    "serve_until_interrupted",
    "tail",
]

HOST = "127.0.0.1"

# Loopback requests must never go through an HTTP(S)_PROXY from the environment.
NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether ``port`` can be bound on 127.0.0.1 (another listener would answer our readiness probe)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like uvicorn: TIME_WAIT leftovers do not block the bind, a listener does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file, or ``(no log)``."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def kill_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to SIGTERM the server if the process that started it dies (no orphaned servers)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class RunningPeer(Protocol):
    """What :func:`serve_until_interrupted` needs of a started peer."""

    log_path: Path

    def is_running(self) -> bool:
        """Whether the process is still alive."""
        ...


def serve_until_interrupted(peer: RunningPeer, what: str) -> int:
    """Wait until Ctrl-C / SIGTERM (0) or until ``peer`` exits by itself (1, with its log's tail).

    The caller keeps the peer's context manager around this call, so the peer is stopped after it.
    """
    stop_requested = False

    def _on_signal(signum: int, frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)  # also when started in the background with SIGINT ignored
    print("press Ctrl-C to stop", flush=True)
    while not stop_requested and peer.is_running():
        time.sleep(0.2)
    if not stop_requested:
        print(f"the {what} exited; last lines of {peer.log_path}:\n{tail(peer.log_path)}")
        return 1
    print("stopped")
    return 0


# --------------------------------------------------------------------------- logged, bounded installs


def build_jobs() -> int:
    """How many compilers a build may run at once: the cores this process may use, at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def missing_build_tools() -> list[str]:
    """What a C/C++ source build lacks on PATH: a C compiler and a C++ compiler (cmake comes from PyPI)."""
    missing = []
    if not (os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")):
        missing.append("a C compiler (cc/gcc/clang)")
    if not (os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")):
        missing.append("a C++ compiler (c++/g++/clang++)")
    return missing


# make prints "[ 45%] Building CXX object ...", ninja "[123/456] Building CXX object ...".
_MAKE_STEP = re.compile(r"^\[\s*(\d+)%\]\s+(.*)$")
_NINJA_STEP = re.compile(r"^\[(\d+)/(\d+)\]\s+(.*)$")
_OBJECT = re.compile(r"(?:Building \w+ object|Linking \w+ \w+ library|Linking \w+ executable|\s-o)\s+(\S+)")


def build_progress(log: Path, window: int = 65536) -> str | None:
    """The build's position from the end of ``log`` (``"45% ggml-cpu/ops.cpp"``), or None before one.

    Reads only the last ``window`` bytes, so it stays cheap on a log of many megabytes.
    """
    try:
        with log.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - window))
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    for raw in reversed(lines):
        line = raw.strip()
        ninja, make = _NINJA_STEP.match(line), _MAKE_STEP.match(line)
        if ninja:
            done, total, action = int(ninja[1]), int(ninja[2]), ninja[3]
            percent = f"{100 * done // max(total, 1)}% (step {done}/{total})"
        elif make:
            percent, action = f"{make[1]}%", make[2]
        else:
            continue
        target = _OBJECT.search(action)  # a verbose ninja step is the whole compiler command
        what = target[1] if target else action.split()[0]
        parts = [p.removesuffix(".dir") for p in Path(what).parts if p != "CMakeFiles"]
        name = re.sub(r"\.(cpp|cxx|cc|c)$", "", "/".join(parts[-2:]).removesuffix(".o"))
        return f"{percent} {name}"
    return None


def elapsed_text(seconds: float) -> str:
    """``3m07s`` (or ``42s`` under a minute)."""
    return f"{seconds // 60:.0f}m{seconds % 60:02.0f}s" if seconds >= 60 else f"{seconds:.0f}s"


_PERCENT = re.compile(r"^(\d+)%")


def progress_line(what: str, where: str | None, seconds: float, width: int = 20) -> str:
    """``building llama.cpp [#########-----------] 45% ggml-cpu/ops, 1m20s``: what, how far, how long."""
    found = _PERCENT.match(where or "")
    bar = ""
    if found and width > 0:
        filled = min(width, int(found[1]) * width // 100)
        bar = f" [{'#' * filled}{'-' * (width - filled)}]"
    return f"{what}{bar}{' ' + where if where else ''}, {elapsed_text(seconds)}"


def run_logged(
    cmd: list[str],
    *,
    log: Path,
    what: str,
    say: Callable[[str], None],
    error: type[Exception],
    env: dict[str, str] | None = None,
    timeout_s: float | None = None,
    heartbeat_s: float = 30.0,
    progress: Callable[[], str | None] | None = None,
    retry_hint: str,
    status: Callable[[str | None], None] | None = None,
    poll_s: float = 1.0,
) -> str:
    """Run ``cmd`` (output appended to ``log``), saying how far it is and how long it took; its last line.

    ``progress`` (e.g. :func:`build_progress` on ``log``) says where a build is ("45% ggml/ops").
    With ``status`` (a terminal), that line is redrawn every ``poll_s`` seconds, a bar included,
    and ``status(None)`` ends it; without, ``say`` prints it every ``heartbeat_s`` seconds (logs).
    Either way the step ends with one line saying how long it took. A run longer than ``timeout_s``
    is killed. Failures raise ``error`` with the log's tail and ``retry_hint`` (the command that
    retries).
    """
    started = time.monotonic()
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env)
        next_beat = started + heartbeat_s
        while True:
            try:
                code = proc.wait(timeout=poll_s)
                break
            except subprocess.TimeoutExpired:
                now = time.monotonic()
                if timeout_s is not None and now - started > timeout_s:
                    proc.kill()
                    proc.wait()
                    if status is not None:
                        status(None)
                    raise error(f"{what} took more than {timeout_s / 60:.0f} min; log: {log}") from None
                if status is not None:
                    status(progress_line(what, progress() if progress is not None else None, now - started))
                elif now >= next_beat:
                    where = progress() if progress is not None else None
                    say(f"  ... {progress_line(what, where, now - started, width=0)} elapsed")
                    next_beat = now + heartbeat_s
            except KeyboardInterrupt:
                proc.terminate()
                proc.wait()
                raise
    if status is not None:
        status(None)
    if code != 0:
        raise error(
            f"{what} failed (exit code {code}). Last lines of {log}:\n{tail(log)}\n\n"
            f"Fix the cause above, then retry with `{retry_hint}` "
            f"(to start from scratch: delete {log.parent.parent})."
        )
    say(f"  {what}: done in {elapsed_text(time.monotonic() - started)}")
    return tail(log, 1)
