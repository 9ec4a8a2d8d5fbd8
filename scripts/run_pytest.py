"""Run pytest, treating "no tests collected" (exit code 5) as success.

Usage: ``python scripts/run_pytest.py <pytest args>``. Any other exit code is passed through unchanged.
"""

from __future__ import annotations

import subprocess
import sys

NO_TESTS_COLLECTED = 5


def main(argv: list[str]) -> int:
    cmd = [sys.executable, "-m", "pytest", *argv]
    proc = subprocess.Popen(cmd)
    while True:
        try:
            code = proc.wait()
            break
        except KeyboardInterrupt:
            # The terminal sent Ctrl-C to pytest too: let it finish its own shutdown and report.
            continue
    if code == NO_TESTS_COLLECTED:
        print(
            f"run_pytest: pytest collected no tests (exit code {NO_TESTS_COLLECTED}) for "
            f"{' '.join(argv) or '(no arguments)'}; treating this as success (exit 0).",
            flush=True,
        )
        return 0
    if code < 0:  # killed by a signal: report it the way a shell would
        return 128 - code
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
