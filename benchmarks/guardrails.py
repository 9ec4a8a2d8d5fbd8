"""What guardrails add per request: five checks before the call and five after, no network.

The leaf stages (``InputGuard`` -> ``OutputGuard`` -> an upstream stand-in answering a prebuilt
response at once) are timed per request, interleaved with the same chain without hooks, so the
difference is what the hooks cost: context building, ten checks, verdicts and ``hook_results``.
Printed: p50 / p99 per request for each chain and the added latency (target: <= 50 us p50).

    hatch run bench-guardrails                    # 20,000 requests per variant
    hatch run bench-guardrails --requests 5000    # quicker
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from typing import Any

from strands_portkey.config.hooks import hooks_of
from strands_portkey.config.schema import validate_config
from strands_portkey.guardrails import default_registry
from strands_portkey.guardrails.runner import compile_hooks
from strands_portkey.pipeline.base import Handler, RequestContext
from strands_portkey.pipeline.guardrails import InputGuard, OutputGuard
from strands_portkey.types import ChatRequest, ChatResponse, Choice, ResponseMessage, Usage

PROMPT = "Summarise the quarterly report for the board in three short sentences, please."
ANSWER = "Revenue grew 12% on the quarter. Costs were flat. The outlook is stable, as planned."

BEFORE = {
    "default.contains": {"operator": "none", "words": ["password", "secret"]},
    "default.regexMatch": {"rule": "[0-9]{16}", "not": True},
    "default.wordCount": {"minWords": 1, "maxWords": 500},
    "default.characterCount": {"minCharacters": 1, "maxCharacters": 4000},
    "default.modelWhitelist": {"models": ["bench", "gpt-4o"]},
    "deny": True,
}
AFTER = {
    "default.contains": {"operator": "none", "words": ["as an AI"]},
    "default.regexMatch": {"rule": "[A-Z]", "not": False},
    "default.sentenceCount": {"minSentences": 1, "maxSentences": 10},
    "default.endsWith": {"suffix": "planned"},
    "default.alluppercase": {"not": True},
    "deny": True,
}


class Instant:
    """An upstream stand-in: returns the same response at once."""

    def __init__(self) -> None:
        self.response = ChatResponse(
            "r", "bench", (Choice(0, ResponseMessage(ANSWER), "stop"),), Usage(5, 5, 10)
        )

    async def chat(self, request: ChatRequest, context: RequestContext) -> ChatResponse:
        return self.response

    async def open_stream(self, request: ChatRequest, context: RequestContext) -> Any:
        raise NotImplementedError


def guarded(inner: Handler, config: dict[str, Any]) -> Handler:
    node = validate_config({"provider": "openai", **config})
    registry = default_registry()
    before = compile_hooks(hooks_of(node, "before", "config"), "beforeRequestHook", registry)
    after = compile_hooks(hooks_of(node, "after", "config"), "afterRequestHook", registry)
    return InputGuard(OutputGuard(inner, after, None, "openai"), before, None, "openai", "config")


async def measure(requests: int) -> None:
    request = ChatRequest.from_body({"model": "bench", "messages": [{"role": "user", "content": PROMPT}]})
    plain: Handler = Instant()
    variants = {
        "no hooks": plain,
        "5 + 5 checks (1 hook each side)": guarded(
            Instant(), {"input_guardrails": [BEFORE], "output_guardrails": [AFTER]}
        ),
        "5 + 5 checks (5 hooks each side)": guarded(
            Instant(),
            {
                "input_guardrails": [{k: v, "deny": True} for k, v in BEFORE.items() if k != "deny"],
                "output_guardrails": [{k: v, "deny": True} for k, v in AFTER.items() if k != "deny"],
            },
        ),
    }
    samples: dict[str, list[int]] = {name: [] for name in variants}
    for handler in variants.values():  # warm-up (and a sanity check: every hook passes)
        for _ in range(200):
            context = RequestContext(trace_id="t")
            await handler.chat(request, context)
            assert context.route.hook_results is None or not context.route.hook_results.failed
    gc.disable()
    try:
        for _ in range(requests):
            for name, handler in variants.items():
                context = RequestContext(trace_id="t")
                started = time.perf_counter_ns()
                await handler.chat(request, context)
                samples[name].append(time.perf_counter_ns() - started)
    finally:
        gc.enable()
    base = _pct(samples["no hooks"], 50)
    print(f"guardrails: {requests} requests per variant, interleaved (us per request)")
    for name, values in samples.items():
        p50, p99 = _pct(values, 50), _pct(values, 99)
        added = "" if name == "no hooks" else f"   added p50 {p50 - base:6.1f} us"
        print(f"  {name:<34} p50 {p50:7.1f}  p99 {p99:7.1f}{added}")


def _pct(values: list[int], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] / 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args()
    asyncio.run(measure(args.requests))


if __name__ == "__main__":
    main()
