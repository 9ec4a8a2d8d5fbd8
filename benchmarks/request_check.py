"""What the one request check costs: ``ChatRequest.from_body`` against building the same request
unchecked, for a one-message body and for conversations with tool calls (p50 / p99 per body).

    hatch run python benchmarks/request_check.py              # 2,000 runs per body
    hatch run python benchmarks/request_check.py --runs 500   # quicker
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from strands_portkey.types import ChatRequest


def conversation(turns: int) -> dict[str, Any]:
    """A body with ``3 * turns + 1`` messages (text parts, tool calls, tool results) and 5 tools."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": "be brief"}]
    for index in range(turns):
        messages += [
            {"role": "user", "content": [{"type": "text", "text": "hello " * 50}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": f"c{index}",
                        "type": "function",
                        "function": {"name": "f", "arguments": '{"x": 1}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": f"c{index}", "content": "42"},
        ]
    tools = [
        {
            "type": "function",
            "function": {
                "name": f"f{index}",
                "parameters": {"type": "object", "properties": {"x": {"type": "integer"}}},
            },
        }
        for index in range(5)
    ]
    return {"model": "m", "messages": messages, "tools": tools, "temperature": 0.2}


def percentiles(run: Callable[[], object], runs: int) -> tuple[float, float]:
    """p50 and p99 in microseconds of ``run`` (batches of 10 calls, to rise above timer noise)."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(10):
            run()
        samples.append((time.perf_counter() - start) / 10 * 1e6)
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    runs = parser.parse_args().runs
    bodies = {
        "1 message": {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        "31 messages, 5 tools": conversation(10),
        "301 messages, 5 tools": conversation(100),
    }
    print(f"{'body':<24}{'checked p50/p99 (us)':>24}{'unchecked p50/p99 (us)':>26}")
    for name, body in bodies.items():
        checked = percentiles(lambda body=body: ChatRequest.from_body(body), runs)
        unchecked = percentiles(lambda body=body: ChatRequest._from_checked(body), runs)
        print(f"{name:<24}{checked[0]:>12.2f} / {checked[1]:<9.2f}{unchecked[0]:>14.2f} / {unchecked[1]:.2f}")


if __name__ == "__main__":
    main()
