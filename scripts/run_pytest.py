"""Run pytest, treating "no tests collected" (exit code 5) as success.

Usage: ``python scripts/run_pytest.py [--hermetic] <pytest args>``. Any other exit code is passed
through unchanged. ``--hermetic`` runs pytest with ``HOME`` and ``XDG_DATA_HOME`` in a temporary
folder (the local peers' homes passed on explicitly), so no test reads or writes the user's own
data: a ``~/.local/share/strands-portkey`` database migrated by a newer checkout made 337 tests of
an older one fail, because a ``Gateway`` opens that default store when it exists.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

NO_TESTS_COLLECTED = 5
HERMETIC = "--hermetic"


@contextlib.contextmanager
def hermetic_env() -> Iterator[dict[str, str]]:
    """The environment for a test run apart from the user's data; the folder goes when the block ends."""
    import llama_server  # scripts/: where the installed peers are, resolved against the real home
    import local_model
    import mustache_spec
    import portkey_gateway

    peers = {
        local_model.HOME_ENV: str(local_model.model_home()),
        llama_server.HOME_ENV: str(llama_server.server_home()),
        portkey_gateway.HOME_ENV: str(portkey_gateway.gateway_home()),
        mustache_spec.HOME_ENV: str(mustache_spec.spec_home()),
    }
    with tempfile.TemporaryDirectory(prefix="strands-portkey-tests-") as folder:
        home = Path(folder) / "home"
        home.mkdir()
        yield {**os.environ, **peers, "HOME": str(home), "XDG_DATA_HOME": str(home / ".local" / "share")}


def run_pytest(argv: list[str], env: dict[str, str] | None = None) -> int:
    """pytest's own exit code (5 included), Ctrl-C left to pytest; a signal death as a shell reports it."""
    cmd = [sys.executable, "-m", "pytest", *argv]
    proc = subprocess.Popen(cmd, env=env)
    while True:
        try:
            code = proc.wait()
            break
        except KeyboardInterrupt:
            # The terminal sent Ctrl-C to pytest too: let it finish its own shutdown and report.
            continue
    if code < 0:  # killed by a signal: report it the way a shell would
        return 128 - code
    return code


def main(argv: list[str]) -> int:
    if argv[:1] == [HERMETIC]:
        with hermetic_env() as env:
            code = run_pytest(argv[1:], env)
    else:
        code = run_pytest(argv)
    if code == NO_TESTS_COLLECTED:
        print(
            f"run_pytest: pytest collected no tests (exit code {NO_TESTS_COLLECTED}) for "
            f"{' '.join(argv) or '(no arguments)'}; treating this as success (exit 0).",
            flush=True,
        )
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
