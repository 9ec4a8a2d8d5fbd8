"""Resolving and rendering a prompt on the request path, from the in-memory snapshot.

Two ~2 kB templates, each a system message and a user message, rendered by
``gw.prompts.render(ref, variables)``: one dense (60 variable tags, a section, a partial), one
text-heavy (a few variables, as most system prompts are); p50 / p99 in microseconds. The target
is 20 µs p50 for both (issue 19).
Run: ``hatch run bench-prompts`` (``--n 5000``).
"""

from __future__ import annotations

import argparse
import base64
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.prompts_api import Prompts

LINE = "You are {{persona}}, helping customers of {{company}} with their {{topic}} questions today.\n"
PROSE = "Answer politely, cite the policy section you rely on, and never promise refunds or dates.\n"
VARIABLES = {
    "persona": "a kind agent",
    "company": "Acme",
    "topic": "billing",
    "rules": ["be brief", "be kind"],
    "question": "Where is my invoice?",
}


def measure(prompts: Prompts, ref: str, n: int, variables: dict[str, Any]) -> tuple[float, float]:
    """p50 and p99 of ``prompts.render(ref, variables)`` in microseconds."""
    for _ in range(200):
        prompts.render(ref, variables)
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        prompts.render(ref, variables)
        samples.append((time.perf_counter() - started) * 1e6)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5000)
    args = parser.parse_args()
    dense = LINE * 20 + "{{#rules}}- {{.}}\n{{/rules}}{{>signature}}"
    prose = "You are {{persona}} for {{company}}.\n" + PROSE * 21 + "{{>signature}}"
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
        prose_variables = {k: VARIABLES[k] for k in ("persona", "company", "question")}
        for name, system, variables in (("dense", dense, VARIABLES), ("prose", prose, prose_variables)):
            messages = [{"role": "system", "content": system}, {"role": "user", "content": "{{question}}"}]
            prompts.create(name, messages, model="gpt-4o", params={"temperature": 0.2})
            p50, p99 = measure(prompts, f"{name}@production", args.n, variables)
            print(
                f"{name}: {len(system)} characters; render (resolve + check variables + Mustache): "
                f"p50 {p50:.1f} us, p99 {p99:.1f} us (n={args.n})"
            )
        plane.close()


if __name__ == "__main__":
    main()
