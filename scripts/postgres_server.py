"""A throwaway PostgreSQL server on 127.0.0.1 for integration tests (Debian's packages, stdlib only).

    python scripts/postgres_server.py ensure    # install the server packages if missing (root + apt-get)
    python scripts/postgres_server.py check     # start one, print its URL, stop it

``start()`` initialises a cluster in a fresh temporary folder, starts ``postgres`` bound to
127.0.0.1 on a free port (its Unix socket inside that folder), and yields a URL with a password;
leaving the ``with`` block stops that one process (by the pid we started) and removes the folder.
PostgreSQL refuses to run as root: as root, the folder is handed to the ``postgres`` system user
(created by the Debian package) and the server runs as that user (``subprocess`` ``user=``).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from _peer import free_port

PASSWORD = "strands-pg-test-pw"
USER = "strands"
_STARTUP_S = 30.0
_CREATECLUSTER = Path("/etc/postgresql-common/createcluster.conf")


def bin_dir() -> Path | None:
    """The folder with ``initdb`` and ``postgres`` (newest version), or None when not installed."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


def ensure_installed() -> Path:
    """Install Debian's ``postgresql`` (without its default cluster) when missing; the bin folder."""
    found = bin_dir()
    if found is not None:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (as root)")
    _CREATECLUSTER.parent.mkdir(parents=True, exist_ok=True)
    if not _CREATECLUSTER.exists():
        _CREATECLUSTER.write_text("create_main_cluster = false\n")  # no system-wide server left running
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdin=subprocess.DEVNULL, timeout=600)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"],
        check=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=900,
    )
    found = bin_dir()
    if found is None:
        raise RuntimeError("apt-get installed postgresql but initdb was not found")
    return found


@dataclass(frozen=True)
class PostgresServer:
    """A running server: ``url`` (SQLAlchemy, psycopg 3), ``data_dir``, ``pid``."""

    url: str
    data_dir: Path
    pid: int
    port: int


def _as_owner() -> dict[str, str]:
    """As root, run as the ``postgres`` user (the process we start *is* the server: its pid is ours)."""
    return {"user": "postgres", "group": "postgres"} if os.geteuid() == 0 else {}


def _wait_ready(bindir: Path, port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + _STARTUP_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"postgres exited with {process.returncode}: {log.read_text()[-2000:]}")
        ready = subprocess.run(
            [str(bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)], check=False
        )
        if ready.returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError(f"postgres not ready after {_STARTUP_S:.0f} s: {log.read_text()[-2000:]}")


@contextlib.contextmanager
def start() -> Iterator[PostgresServer]:
    """Run a fresh server for the duration of the ``with`` block."""
    bindir = ensure_installed()
    root = Path(tempfile.mkdtemp(prefix="strands-pg-"))
    data, log, pwfile = root / "data", root / "server.log", root / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(pwfile, "postgres", "postgres")
    process: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run(
            [str(bindir / "initdb"), "-D", str(data), "-U", USER, "--auth=scram-sha-256",
             f"--pwfile={pwfile}", "-E", "UTF8", "--no-instructions"],
            check=True, capture_output=True, timeout=120, cwd=root, **_as_owner(),
        )  # fmt: skip
        port = free_port()
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [str(bindir / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port),
                 "-k", str(root), "-c", "fsync=off"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=root, **_as_owner(),
            )  # fmt: skip
        _wait_ready(bindir, port, process, log)
        url = f"postgresql+psycopg://{USER}:{PASSWORD}@127.0.0.1:{port}/postgres"
        yield PostgresServer(url, data, process.pid, port)
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)  # "fast" shutdown of the server we started
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "ensure":
        print(f"PostgreSQL binaries: {ensure_installed()}")
        return 0
    if command == "check":
        with start() as server:
            print(f"PostgreSQL ready at {server.url.replace(PASSWORD, '***')} (pid {server.pid}); stopping")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
