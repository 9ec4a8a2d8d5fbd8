"""What guardrail hooks decided for one request: Portkey's ``hook_results``, typed.

These sit at the bottom layer (next to :mod:`.types`) because both :class:`~.types.RouteInfo` and
:class:`~.errors.GuardrailDeniedError` carry them. ``to_dict`` gives Portkey's JSON shape, so a
result can be compared with (or served as) the ``hook_results`` field of Portkey's gateway.

Results are built for every check of every request, so the dataclasses use ``slots`` without
``frozen`` (a frozen ``__init__`` costs about a microsecond more); treat them as read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["CheckResult", "HookEvent", "HookResult", "HookResults"]

HookEvent = Literal["beforeRequestHook", "afterRequestHook"]


@dataclass(slots=True)
class CheckResult:
    """One check's outcome. ``error`` is set when the check itself failed to run."""

    id: str
    verdict: bool
    data: Mapping[str, Any] | None = None
    error: str | None = None
    execution_time_ms: float = 0.0
    transformed: bool = False
    fail_on_error: bool = False

    @property
    def passed(self) -> bool:
        """Counts as a pass in the hook's verdict (an errored check passes unless ``failOnError``)."""
        return self.verdict or (self.error is not None and not self.fail_on_error)

    def to_dict(self) -> dict[str, Any]:
        """Portkey's JSON for one check."""
        out: dict[str, Any] = {
            "id": self.id,
            "verdict": self.verdict,
            "data": dict(self.data) if self.data is not None else None,
            "execution_time": round(self.execution_time_ms, 3),
            "transformed": self.transformed,
            "fail_on_error": self.fail_on_error,
        }
        if self.error is not None:
            out["error"] = {"name": "Error", "message": self.error}
        return out


@dataclass(slots=True)
class HookResult:
    """One hook's outcome: ``verdict`` is the AND of its checks; ``deny`` is True when it blocked."""

    id: str
    type: Literal["guardrail", "mutator"]
    event: HookEvent
    verdict: bool
    deny: bool
    checks: tuple[CheckResult, ...] = ()
    is_async: bool = False
    transformed: bool = False
    execution_time_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Portkey's JSON for one hook."""
        return {
            "id": self.id,
            "type": self.type,
            "verdict": self.verdict,
            "deny": self.deny,
            "async": self.is_async,
            "transformed": self.transformed,
            "execution_time": round(self.execution_time_ms, 3),
            "checks": [check.to_dict() for check in self.checks],
        }


@dataclass(slots=True)
class HookResults:
    """Every hook run for a request, before and after the upstream call (async ones when done)."""

    before_request_hooks: list[HookResult] = field(default_factory=list)
    after_request_hooks: list[HookResult] = field(default_factory=list)
    rewritten_input: list[str] | None = None
    """The last message's text parts after input mutators rewrote them (None: unchanged)."""

    @property
    def denied(self) -> bool:
        """A ``deny`` hook failed (Portkey answers 446)."""
        return any(hook.deny for hook in (*self.before_request_hooks, *self.after_request_hooks))

    @property
    def failed(self) -> bool:
        """A synchronous hook failed without denying (Portkey answers 246)."""
        return any(
            not hook.verdict and not hook.is_async
            for hook in (*self.before_request_hooks, *self.after_request_hooks)
        )

    def to_dict(self) -> dict[str, Any]:
        """Portkey's ``hook_results`` JSON."""
        return {
            "before_request_hooks": [hook.to_dict() for hook in self.before_request_hooks],
            "after_request_hooks": [hook.to_dict() for hook in self.after_request_hooks],
        }
