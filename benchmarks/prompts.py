"""Resolving and rendering a prompt on the request path, from the in-memory snapshot.

A ~2 kB template (system message with variables, a section and a partial; a user message) is
rendered by ``gw.prompts.render("bench@production", variables)``; p50 / p99 in microseconds.
Run: ``hatch run bench-prompts`` (``--n 5000``).
"""

from __future__ import annotations

import argparse
import base64
import statistics
import tempfile
import time
from pathlib import Path

from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.prompts_api import Prompts

LINE = "You are {{persona}}, helping customers of {{company}} with their {{topic}} questions today.\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5000)
    args = parser.parse_args()
    system = LINE * 20 + "{{#rules}}- {{.}}\n{{/rules}}{{>signature}}"
    with tempfile.TemporaryDirectory() as home:
        plane = ControlPlane(
            f"sqlite:///{Path(home) / 'bench.db'}",
            env={"STRANDS_PORTKEY_HOME": home},
            master_key=base64.urlsafe_b64encode(bytes(32)).decode(),
            validate_credentials=False,
            refresh_interval=None,
        )
        prompts = Prompts(plane)
        prompts.create("signature", template="-- the {{company}} team")
        prompts.create(
            "bench",
            [{"role": "system", "content": system}, {"role": "user", "content": "{{question}}"}],
            model="gpt-4o",
            params={"temperature": 0.2},
        )
        variables = {
            "persona": "a kind agent",
            "company": "Acme",
            "topic": "billing",
            "rules": ["be brief", "be kind"],
            "question": "Where is my invoice?",
        }
        print(f"template: {len(system)} characters")
        for _ in range(200):
            prompts.render("bench@production", variables)
        samples = []
        for _ in range(args.n):
            started = time.perf_counter()
            prompts.render("bench@production", variables)
            samples.append((time.perf_counter() - started) * 1e6)
        samples.sort()
        p50 = statistics.median(samples)
        p99 = samples[int(len(samples) * 0.99) - 1]
        print(
            f"render (resolve + check variables + Mustache): p50 {p50:.1f} us, p99 {p99:.1f} us (n={args.n})"
        )
        plane.close()


if __name__ == "__main__":
    main()
