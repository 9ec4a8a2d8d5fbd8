"""Install and run Portkey's open-source gateway on loopback, as a real peer for conformance tests.

The peer is the npm package ``@portkey-ai/gateway`` 1.15.2 (MIT), with ``@hono/node-server`` pinned
to 1.13.5 through npm ``overrides``: newer copies make every successful stream fail with
``TypeError: immutable`` (Portkey-AI/gateway#1389, #1550). Its server has no host option and
listens on every interface, so it is started with a preload (``loopback.cjs``) that rewrites every
``listen()`` in the process onto 127.0.0.1.

Everything lives outside the repository, in :func:`gateway_home` (``$STRANDS_PORTKEY_GATEWAY_HOME``
or ``~/.cache/strands-portkey/portkey-gateway``):

* ``package.json``, ``node_modules/``  the pinned install (npm, ``--no-audit --no-fund``)
* ``loopback.cjs``                       the preload binding the server to 127.0.0.1
* ``installed.json``                     written last by :func:`ensure`; makes later calls instant
* ``logs/``                              npm output (``ensure.log``), one log per server run

Stdlib only: it runs under the hatch environment's python.

CLI::

    python scripts/portkey_gateway.py ensure            # install once (a few seconds, needs node + npm)
    python scripts/portkey_gateway.py status            # exit 0 when installed, 1 otherwise
    python scripts/portkey_gateway.py start [--port N]  # serve in the foreground until Ctrl-C
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from _peer import NO_PROXY_OPENER, free_port, port_is_free, serve_until_interrupted, tail

GATEWAY_PACKAGE = "@portkey-ai/gateway"
GATEWAY_VERSION = "1.15.2"
HONO_NODE_SERVER_VERSION = "1.13.5"
MIN_NODE_MAJOR = 18
HOST = "127.0.0.1"  # never anything else: the gateway must not listen on other interfaces
HOME_ENV = "STRANDS_PORTKEY_GATEWAY_HOME"
MARKER_FORMAT = 1
ENTRY_POINT = Path("node_modules") / "@portkey-ai" / "gateway" / "build" / "start-server.js"
READY_TEXT = "says hey"

_NPM_TIMEOUT_S = 600.0
_PORT_RETRIES = 3

# Rewrites every listen() in the node process onto 127.0.0.1 (start-server.js has no host option).
LOOPBACK_PRELOAD = """\
// Force every server in this process onto 127.0.0.1 (written by scripts/portkey_gateway.py).
const net = require("net");
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (first, ...rest) {
  if (typeof first === "number" || (typeof first === "string" && /^[0-9]+$/.test(first))) {
    const cb = rest.find((a) => typeof a === "function");
    return listen.call(this, { port: Number(first), host: "127.0.0.1" }, ...(cb ? [cb] : []));
  }
  if (first && typeof first === "object") first = { ...first, host: "127.0.0.1" };
  return listen.call(this, first, ...rest);
};
"""


def _package_json() -> str:
    manifest = {
        "name": "strands-portkey-gateway-peer",
        "private": True,
        "description": "Portkey's OSS gateway, pinned, for strands-agents-portkey conformance tests",
        "dependencies": {GATEWAY_PACKAGE: GATEWAY_VERSION},
        "overrides": {"@hono/node-server": HONO_NODE_SERVER_VERSION},
    }
    return json.dumps(manifest, indent=2) + "\n"


def _recipe_digest() -> str:
    """Changes whenever the pinned versions or the preload change, invalidating the marker."""
    return hashlib.sha256((_package_json() + LOOPBACK_PRELOAD).encode("utf-8")).hexdigest()[:16]


class PortkeyGatewayError(RuntimeError):
    """The gateway could not be installed or started; the message says what to do."""


# --------------------------------------------------------------------------- locations


def gateway_home() -> Path:
    """Where the gateway install lives: ``$STRANDS_PORTKEY_GATEWAY_HOME`` or the user cache."""
    override = os.environ.get(HOME_ENV, "").strip()
    if override:
        return Path(override).expanduser().resolve()
    return Path.home() / ".cache" / "strands-portkey" / "portkey-gateway"


def _marker(home: Path) -> Path:
    return home / "installed.json"


def _logs(home: Path) -> Path:
    path = home / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _say(message: str) -> None:
    print(f"[portkey-gateway] {message}", flush=True)


# --------------------------------------------------------------------------- install


@dataclasses.dataclass(frozen=True)
class GatewayInstall:
    """A completed install: where it is and which node runs it."""

    home: Path
    node: str
    entry_point: Path
    preload: Path

    def command(self, port: int) -> list[str]:
        return [self.node, "-r", str(self.preload), str(self.entry_point), f"--port={port}", "--headless"]


def find_node() -> str | None:
    """The ``node`` executable on PATH, if any."""
    return shutil.which("node")


def find_npm() -> str | None:
    """The ``npm`` executable on PATH, if any."""
    return shutil.which("npm")


def installed(home: Path | None = None) -> GatewayInstall | None:
    """The install if :func:`ensure` completed for the pinned recipe and node is on PATH, else None.

    Cheap (one small JSON file and two stats); never installs anything.
    """
    home = home or gateway_home()
    node = find_node()
    if node is None:
        return None
    try:
        data = json.loads(_marker(home).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != MARKER_FORMAT:
        return None
    if data.get("recipe") != _recipe_digest() or data.get("gateway") != GATEWAY_VERSION:
        return None
    entry, preload = home / ENTRY_POINT, home / "loopback.cjs"
    if not entry.is_file() or not preload.is_file():
        return None
    return GatewayInstall(home, node, entry, preload)


def _node_major(node: str) -> int:
    result = subprocess.run(
        [node, "--version"], stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
    )
    version = result.stdout.strip().lstrip("v")
    try:
        return int(version.split(".", 1)[0])
    except ValueError:
        return 0


def _require_tools() -> tuple[str, str]:
    node, npm = find_node(), find_npm()
    if node is None or npm is None:
        missing = " and ".join(name for name, path in (("node", node), ("npm", npm)) if path is None)
        raise PortkeyGatewayError(
            f"{missing} not found on PATH: install Node.js {MIN_NODE_MAJOR}+ with npm "
            "(e.g. `apt-get install nodejs npm`), then run `hatch run portkey-gateway ensure`"
        )
    major = _node_major(node)
    if major < MIN_NODE_MAJOR:
        raise PortkeyGatewayError(
            f"{node} is Node.js {major or 'unknown'}; the gateway needs Node.js {MIN_NODE_MAJOR}+"
        )
    return node, npm


def hono_node_server_copies(home: Path) -> dict[str, str]:
    """Every installed copy of ``@hono/node-server`` under ``home/node_modules``: path -> version.

    A filesystem walk rather than ``npm ls``: it also finds copies npm would not report as
    problems (a nested 1.19.x under the gateway is exactly the failure the pin is for).
    """
    copies: dict[str, str] = {}
    root = home / "node_modules"
    for manifest in root.rglob("@hono/node-server/package.json"):
        try:
            version = str(json.loads(manifest.read_text(encoding="utf-8")).get("version", "?"))
        except (OSError, ValueError):
            version = "?"
        copies[str(manifest.parent.relative_to(home))] = version
    return copies


def _run_npm(cmd: list[str], *, cwd: Path, log: Path) -> None:
    env = dict(os.environ)
    env.update(
        {"npm_config_audit": "false", "npm_config_fund": "false", "npm_config_update_notifier": "false"}
    )
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        try:
            code = subprocess.run(
                cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                env=env, timeout=_NPM_TIMEOUT_S, check=False,
            ).returncode  # fmt: skip
        except subprocess.TimeoutExpired:
            code = -1
            out.write(f"\n(timed out after {_NPM_TIMEOUT_S:g} s)\n")
    if code != 0:
        raise PortkeyGatewayError(
            f"`{' '.join(cmd[1:])}` failed (exit code {code}). Last lines of {log}:\n{tail(log)}\n\n"
            "Fix the cause above (npm must reach its registry), then retry with "
            f"`hatch run portkey-gateway ensure` (to start over: delete {cwd})."
        )


@contextlib.contextmanager
def _install_lock(home: Path) -> Iterator[None]:
    """Serialise concurrent ``ensure`` calls."""
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


def ensure() -> GatewayInstall:
    """Install the pinned gateway if needed and return it. Idempotent; instant once done."""
    home = gateway_home()
    found = installed(home)
    if found is not None:
        return found
    node, npm = _require_tools()
    home.mkdir(parents=True, exist_ok=True)
    with _install_lock(home):
        found = installed(home)
        if found is not None:
            return found
        return _install(home, node, npm)


def _install(home: Path, node: str, npm: str) -> GatewayInstall:
    started = time.monotonic()
    log = _logs(home) / "ensure.log"
    log.write_text("", encoding="utf-8")
    _marker(home).unlink(missing_ok=True)
    _say(f"installing {GATEWAY_PACKAGE}@{GATEWAY_VERSION} into {home}")
    # A clean tree: with an old node_modules or lockfile npm may keep a nested @hono/node-server 1.19.x.
    shutil.rmtree(home / "node_modules", ignore_errors=True)
    (home / "package-lock.json").unlink(missing_ok=True)
    (home / "package.json").write_text(_package_json(), encoding="utf-8")
    (home / "loopback.cjs").write_text(LOOPBACK_PRELOAD, encoding="utf-8")
    _run_npm([npm, "install", "--no-audit", "--no-fund", "--no-save"], cwd=home, log=log)

    copies = hono_node_server_copies(home)
    wrong = {path: version for path, version in copies.items() if version != HONO_NODE_SERVER_VERSION}
    if not copies or wrong:
        raise PortkeyGatewayError(
            f"@hono/node-server must be {HONO_NODE_SERVER_VERSION} everywhere (newer copies break "
            f"streaming, Portkey-AI/gateway#1389), found {copies or 'no copy'}; see {log}"
        )
    entry = home / ENTRY_POINT
    if not entry.is_file():
        raise PortkeyGatewayError(f"npm finished but {entry} is missing; see {log}")
    marker = {
        "format": MARKER_FORMAT,
        "recipe": _recipe_digest(),
        "gateway": GATEWAY_VERSION,
        "hono_node_server": copies,
        "node": node,
        "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    tmp = _marker(home).with_suffix(".tmp")
    tmp.write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    tmp.replace(_marker(home))
    _say(f"ready in {time.monotonic() - started:.1f} s ({len(copies)} @hono/node-server copy, all 1.13.5)")
    return GatewayInstall(home, node, entry, home / "loopback.cjs")


# --------------------------------------------------------------------------- server


# Loopback requests must never go through an HTTP(S)_PROXY from the environment.
def _ready(port: int) -> bool:
    try:
        with NO_PROXY_OPENER.open(f"http://{HOST}:{port}/", timeout=2.0) as response:
            return int(response.status) == 200 and READY_TEXT in response.read(200).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError, ValueError):
        return False


class RunningGateway:
    """A gateway process on 127.0.0.1: ``.base_url`` (``http://127.0.0.1:N/v1``), ``.pid``, ``.port``."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        self._process = process
        self.port = port
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    def is_running(self) -> bool:
        return self._process.poll() is None

    def logtail(self, lines: int = 40) -> str:
        return tail(self.log_path, lines)

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the process group this module started, then SIGKILL it after ``grace`` seconds."""
        if self._process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGTERM)  # its own group: start_new_session=True
        try:
            self._process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=grace)

    def __repr__(self) -> str:
        state = "running" if self.is_running() else f"exited {self._process.returncode}"
        return f"RunningGateway(base_url={self.base_url!r}, pid={self.pid}, {state})"


def _launch(install: GatewayInstall, port: int, ready_timeout: float) -> RunningGateway:
    if not port_is_free(port):
        raise PortkeyGatewayError(f"port {port} on {HOST} is already in use (address already in use)")
    log_path = _logs(install.home) / f"gateway-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            install.command(port),
            cwd=install.home,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a process group of its own, stopped as a whole
        )
    gateway = RunningGateway(process, port, log_path)
    deadline = time.monotonic() + ready_timeout
    while True:
        if process.poll() is not None:
            raise PortkeyGatewayError(
                f"the gateway exited early (code {process.returncode}); last lines of {log_path}:\n"
                f"{tail(log_path)}"
            )
        if _ready(port):
            return gateway
        if time.monotonic() >= deadline:
            gateway.stop()
            raise PortkeyGatewayError(
                f"the gateway did not say hey on GET / within {ready_timeout:g} s; last lines of "
                f"{log_path}:\n{tail(log_path)}"
            )
        time.sleep(0.05)


@contextlib.contextmanager
def start(port: int | None = None, *, ready_timeout: float = 30.0) -> Iterator[RunningGateway]:
    """Run the gateway on 127.0.0.1 (a free port unless ``port`` is given) until the block ends.

    Installs it first if needed (:func:`ensure`). Yields once ``GET /`` says hey; always stops the
    process group it started, also when the block raises.
    """
    install = ensure()
    gateway: RunningGateway | None = None
    for attempt in range(1, _PORT_RETRIES + 1):
        try:
            gateway = _launch(install, port if port is not None else free_port(), ready_timeout)
            break
        except PortkeyGatewayError as exc:
            # A free port can be taken between our probe and node's bind: try another one.
            if port is not None or attempt == _PORT_RETRIES or "in use" not in str(exc).lower():
                raise
    assert gateway is not None
    try:
        yield gateway
    finally:
        gateway.stop()


# --------------------------------------------------------------------------- CLI


def _cmd_ensure(_: argparse.Namespace) -> int:
    install = ensure()
    print(f"portkey gateway {GATEWAY_VERSION} ready in {install.home}")
    print(f"  node  {install.node}")
    return 0


def _cmd_status(_: argparse.Namespace) -> int:
    home = gateway_home()
    print(f"gateway home: {home}")
    print(f"node: {find_node() or 'not found'}; npm: {find_npm() or 'not found'}")
    install = installed(home)
    if install is None:
        print("status: not installed (run `hatch run portkey-gateway ensure`)")
        return 1
    print(f"status: installed ({GATEWAY_PACKAGE}@{GATEWAY_VERSION})")
    for path, version in sorted(hono_node_server_copies(home).items()):
        print(f"  {path}  {version}")
    return 0


def _cmd_start(args: argparse.Namespace) -> int:
    with start(args.port, ready_timeout=args.ready_timeout) as gateway:
        print(f"Portkey gateway at {gateway.base_url} (pid {gateway.pid}); log: {gateway.log_path}")
        return serve_until_interrupted(gateway, "gateway")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="portkey_gateway.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("ensure", help="install the pinned gateway (idempotent)").set_defaults(fn=_cmd_ensure)
    sub.add_parser("status", help="exit 0 when installed, 1 otherwise").set_defaults(fn=_cmd_status)
    start_parser = sub.add_parser("start", help="serve on 127.0.0.1 until Ctrl-C")
    start_parser.add_argument("--port", type=int, default=None, help="default: a free port")
    start_parser.add_argument("--ready-timeout", type=float, default=30.0)
    start_parser.set_defaults(fn=_cmd_start)
    args = parser.parse_args(argv)
    try:
        return int(args.fn(args))
    except PortkeyGatewayError as exc:
        print(f"[portkey-gateway] error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
