"""The check registry: check ids -> implementations, and parameter validation at load time.

A check is ``run(context, params) -> CheckOutcome`` (or an awaitable of one). ``prepare`` turns the
config's parameters into what ``run`` needs (a compiled regex, a schema validator) and raises
:class:`ParameterError` on bad input, so a wrong type, an invalid regex or schema fails when the
gateway is built, naming the hook and check -- never mid-request.

A registry belongs to a gateway: :func:`default_registry` builds a fresh one with the built-ins,
and users add their own checks with :meth:`CheckRegistry.register`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .context import CheckContext

__all__ = [
    "Check",
    "CheckDef",
    "CheckOutcome",
    "CheckRegistry",
    "ParameterError",
    "Params",
    "param",
]

Params = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """A check's answer. ``texts`` replaces the text parts under check (a mutator's rewrite)."""

    verdict: bool
    data: Mapping[str, Any] | None = None
    error: str | None = None
    texts: list[str] | None = None


Check = Callable[[CheckContext, Params], "CheckOutcome | bool | Awaitable[CheckOutcome | bool]"]


class ParameterError(ValueError):
    """A check's parameters are invalid; the message says which and how to fix it."""


@dataclass(frozen=True, slots=True)
class CheckDef:
    """A registered check.

    Attributes:
        run: The check itself.
        prepare: Validates and compiles parameters once, at load time.
        streaming_redactor: For mutators that can rewrite a streamed answer chunk by chunk:
            ``params -> StreamRedactor`` (see :mod:`.pii`).
    """

    id: str
    run: Check
    prepare: Callable[[Params], Params] = field(default=lambda params: params)
    streaming_redactor: Callable[[Params], Any] | None = None


class CheckRegistry:
    """Check ids (``default.contains``, ``myorg.noSecrets``) mapped to implementations."""

    def __init__(self, checks: Mapping[str, CheckDef] | None = None) -> None:
        self._checks: dict[str, CheckDef] = dict(checks or {})

    def register(
        self,
        check_id: str,
        run: Check,
        *,
        prepare: Callable[[Params], Params] | None = None,
        streaming_redactor: Callable[[Params], Any] | None = None,
    ) -> None:
        """Add (or replace) a check. ``check_id`` is ``<plugin>.<name>``, e.g. ``"acme.noSecrets"``.

        ``run(context, params)`` returns a :class:`CheckOutcome`, a bool, or an awaitable of either;
        ``prepare(params)`` may validate parameters (raise ``ParameterError``) when configs load.
        """
        if not isinstance(check_id, str) or "." not in check_id:
            raise ValueError(f"a check id is '<plugin>.<name>', e.g. 'acme.noSecrets'; got {check_id!r}")
        if not callable(run):
            raise TypeError(f"check {check_id!r}: expected a callable, got {type(run).__name__}")
        self._checks[check_id] = CheckDef(
            check_id, run, prepare or (lambda params: params), streaming_redactor
        )

    def get(self, check_id: str) -> CheckDef | None:
        """The check registered under ``check_id``, or None."""
        return self._checks.get(check_id)

    def ids(self) -> list[str]:
        """Every registered id, sorted."""
        return sorted(self._checks)

    def copy(self) -> CheckRegistry:
        """An independent copy (add checks to it without touching this one)."""
        return CheckRegistry(self._checks)


_TYPES: dict[str, tuple[type | tuple[type, ...], str]] = {
    "str": (str, "a string"),
    "int": (int, "an integer"),
    "number": ((int, float), "a number"),
    "bool": (bool, "true or false"),
    "list[str]": (list, "a list of strings"),
    "object": (Mapping, "an object"),
}


def param(params: Params, name: str, kind: str, *, required: bool = False, default: Any = None) -> Any:
    """Read one parameter, checking its type; raises :class:`ParameterError` naming it."""
    if name not in params or params[name] is None:
        if required:
            raise ParameterError(f"parameter '{name}' is required ({_TYPES[kind][1]})")
        return default
    value = params[name]
    expected, label = _TYPES[kind]
    wrong = not isinstance(value, expected) or (kind in ("int", "number") and isinstance(value, bool))
    if kind == "list[str]" and not wrong:
        wrong = not all(isinstance(item, str) for item in value)
    if wrong:
        raise ParameterError(f"parameter '{name}' must be {label}, got {value!r}")
    return value
