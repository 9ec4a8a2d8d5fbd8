"""Compiling hooks against a registry (at load time) and running them (per request).

Portkey's semantics:

* a hook's verdict is the AND of its enabled checks; a check that *errored* counts as a pass
  unless its parameters say ``failOnError: true``;
* checks run in parallel (each sees the original text; their rewrites apply in order afterwards),
  or one after another with ``sequential: true`` (each sees the previous rewrites); mutator hooks
  always run their checks in order;
* a failed hook with ``deny: true`` blocks (446); without deny it flags the answer (246);
* hooks of one list run in config order; ``async: true`` hooks are run by the caller in the
  background (see :mod:`strands_portkey.pipeline.guardrails`).

Synchronous checks are called inline (no task per check): ten built-in checks cost a few
microseconds each. Checks returning awaitables (webhooks, URL probes) are gathered.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..config.hooks import HookConfig
from ..errors import ConfigurationError
from ..hook_results import CheckResult, HookEvent, HookResult
from .context import CheckContext
from .registry import Check, CheckOutcome, CheckRegistry, ParameterError, Params

__all__ = ["CompiledCheck", "CompiledHook", "compile_hooks", "run_hook"]


@dataclass(frozen=True, slots=True)
class CompiledCheck:
    """A check ready to run: its implementation and prepared parameters."""

    id: str
    run: Check
    params: Params
    fail_on_error: bool
    streaming_redactor: Any = None


@dataclass(frozen=True, slots=True)
class CompiledHook:
    """A hook ready to run (disabled checks already dropped)."""

    config: HookConfig
    event: HookEvent
    checks: tuple[CompiledCheck, ...]


def compile_hooks(
    hooks: Sequence[HookConfig], event: HookEvent, registry: CheckRegistry
) -> tuple[CompiledHook, ...]:
    """Resolve every check id and validate its parameters; raises ConfigurationError naming both."""
    return tuple(_compile_hook(hook, event, registry) for hook in hooks)


def _compile_hook(hook: HookConfig, event: HookEvent, registry: CheckRegistry) -> CompiledHook:
    checks = []
    for check in hook.checks:
        if hook.type == "guardrail" and not check.is_enabled:
            continue
        definition = registry.get(check.id)
        where = f"hook {hook.id!r}, check {check.id!r}"
        if definition is None:
            known = ", ".join(registry.ids())
            raise ConfigurationError(
                f"{where}: unknown check id. Known checks: {known}. Register your own with "
                "CheckRegistry.register('<plugin>.<name>', fn) and pass it as Gateway(checks=...)",
                path=check.path,
            )
        params = dict(check.parameters)
        if hook.type == "mutator":
            params.setdefault("redact", True)
        try:
            prepared = definition.prepare(params)
        except ParameterError as error:
            raise ConfigurationError(f"{where}: {error}", path=check.path) from None
        redactor = (
            definition.streaming_redactor
            if definition.streaming_redactor and prepared.get("redact")
            else None
        )
        checks.append(
            CompiledCheck(check.id, definition.run, prepared, params.get("failOnError") is True, redactor)
        )
    return CompiledHook(hook, event, tuple(checks))


async def run_hook(hook: CompiledHook, context: CheckContext) -> HookResult:
    """Run one hook on ``context``; rewrites are left in ``context.texts``."""
    started = time.perf_counter()
    if hook.config.sequential or hook.config.type == "mutator":
        results = []
        for check in hook.checks:
            settled = await _settle(check, context, *_call(check, context))
            if settled[1] is not None:
                context.texts = settled[1]  # the next check sees this rewrite
            results.append(settled)
    else:
        results = await _parallel(hook.checks, context)
        for _, texts in results:
            if texts is not None:
                context.texts = texts
    checks = tuple(result for result, _ in results)
    verdict = all(check.passed for check in checks)
    return HookResult(
        id=hook.config.id,
        type=hook.config.type,
        event=hook.event,
        verdict=verdict,
        deny=hook.config.deny and not verdict and not hook.config.is_async,
        checks=checks,
        is_async=hook.config.is_async,
        transformed=any(check.transformed for check in checks),
        execution_time_ms=(time.perf_counter() - started) * 1000,
    )


_Settled = tuple[CheckResult, "list[str] | None"]


def _call(check: CompiledCheck, context: CheckContext) -> tuple[float, Any]:
    started = time.perf_counter()
    try:
        return started, check.run(context, check.params)
    except Exception as error:  # a check that raises has errored: recorded, never propagated
        return started, error


def _pending(outcome: Any) -> bool:
    """True when a check answered with an awaitable (cheap tests first: this runs per check)."""
    kind = type(outcome)
    return kind is not CheckOutcome and kind is not bool and inspect.isawaitable(outcome)


async def _parallel(checks: Sequence[CompiledCheck], context: CheckContext) -> list[_Settled]:
    calls = [_call(check, context) for check in checks]
    if not any(_pending(outcome) for _, outcome in calls):
        return [_finish(check, context, *call) for check, call in zip(checks, calls, strict=True)]
    return list(
        await asyncio.gather(
            *(_settle(check, context, *call) for check, call in zip(checks, calls, strict=True))
        )
    )


async def _settle(check: CompiledCheck, context: CheckContext, started: float, outcome: Any) -> _Settled:
    if _pending(outcome):
        try:
            outcome = await outcome
        except Exception as error:
            outcome = error
    return _finish(check, context, started, outcome)


def _finish(check: CompiledCheck, context: CheckContext, started: float, outcome: Any) -> _Settled:
    elapsed = (time.perf_counter() - started) * 1000
    if type(outcome) is bool:
        outcome = CheckOutcome(outcome)
    elif isinstance(outcome, Exception):
        message = str(outcome) or type(outcome).__name__
        return CheckResult(check.id, False, None, message, elapsed, False, check.fail_on_error), None
    elif not isinstance(outcome, CheckOutcome):
        wrong = f"check returned {type(outcome).__name__}; expected CheckOutcome or bool"
        return CheckResult(check.id, False, None, wrong, elapsed, False, check.fail_on_error), None
    texts = outcome.texts if outcome.texts is not None and outcome.texts != context.texts else None
    result = CheckResult(
        check.id,
        outcome.verdict,
        outcome.data,
        outcome.error,
        elapsed,
        texts is not None,
        check.fail_on_error,
    )
    return result, texts
