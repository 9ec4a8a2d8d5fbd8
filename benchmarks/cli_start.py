"""CLI start time: ``strands-portkey --help`` (and one command group's help) in a fresh process each time.

The target is ``strands-portkey --help`` at most 300 ms (p50). Each run is a new interpreter, as
a person or a script would start it; the figures include Python's own start-up (measured alone
as a baseline, ``python -c pass``).

    hatch run python benchmarks/cli_start.py             # 20 runs per command
    hatch run python benchmarks/cli_start.py --runs 5    # quicker
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def command() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m strands_portkey``."""
    script = Path(sys.executable).with_name("strands-portkey")
    return [str(script)] if script.exists() else [sys.executable, "-m", "strands_portkey"]


def measure(argv: list[str], runs: int, env: dict[str, str]) -> list[float]:
    """Wall-clock milliseconds of ``runs`` fresh processes (one warm-up run first, not counted)."""
    times = []
    for index in range(runs + 1):
        started = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        if index:
            times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "STRANDS_PORTKEY_HOME": home, "COLUMNS": "100"}
        env.pop("STRANDS_PORTKEY_DB_URL", None)
        rows = [
            ("python -c pass (baseline)", [sys.executable, "-c", "pass"]),
            ("strands-portkey --help", [*command(), "--help"]),
            ("strands-portkey models --help", [*command(), "models", "--help"]),
            ("strands-portkey configs validate --help", [*command(), "configs", "validate", "--help"]),
        ]
        print(f"{'command':<42} {'p50 ms':>8} {'p99 ms':>8}   ({args.runs} runs each)")
        for name, argv in rows:
            times = sorted(measure(argv, args.runs, env))
            p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
            print(f"{name:<42} {statistics.median(times):>8.1f} {p99:>8.1f}")


if __name__ == "__main__":
    main()
