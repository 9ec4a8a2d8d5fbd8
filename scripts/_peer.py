"""What the loopback peer managers share (stdlib only): ports, logs, and serving until Ctrl-C.

``local_model.py``, ``llama_server.py``, ``portkey_gateway.py`` and ``postgres_server.py`` each
install and run one real peer on 127.0.0.1; the pieces that do not depend on the peer live here.
"""

from __future__ import annotations

import signal
import socket
import time
import urllib.request
from pathlib import Path
from typing import Protocol

__all__ = [
    "HOST",
    "NO_PROXY_OPENER",
    "free_port",
    "kill_with_parent",
    "port_is_free",
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
