"""Guardrail hooks in a config: structure, shorthand expansion and inheritance, as pure functions.

Portkey spells hooks two ways. The long form lists hook objects::

    "before_request_hooks": [{"id": "no-pii", "type": "guardrail", "deny": true,
                              "checks": [{"id": "default.regexMatch", "parameters": {"rule": "[0-9]{16}"}}]}]

The shorthand (``input_guardrails`` / ``output_guardrails`` / ``input_mutators`` /
``output_mutators``) writes one object per hook whose hook-level keys are ``deny``, ``async``,
``sequential``, ``on_fail``, ``on_success``, ``id``, ``type`` and ``guardrail_version_id``; every
other key is a check id (a bare name gets the ``default.`` prefix) whose value is its parameters::

    "input_guardrails": [{"default.contains": {"operator": "none", "words": ["secret"]}, "deny": true}]

Input shorthands become before-request hooks, output ones after-request hooks. A node's hooks of
one kind replace its parent's; a node with none of that kind inherits the parent's.

What a check's *parameters* mean is checked later, when the gateway compiles the hooks against its
check registry (unknown ids, wrong types, invalid regexes and schemas fail then, at construction).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import ConfigurationError

__all__ = ["CheckConfig", "HookConfig", "HookKind", "hooks_of"]

HookKind = Literal["before", "after"]
HookType = Literal["guardrail", "mutator"]

_SHORTHAND_HOOK_KEYS = frozenset(
    {"deny", "on_fail", "on_success", "async", "id", "type", "guardrail_version_id", "sequential"}
)
_SOURCES: dict[HookKind, tuple[tuple[str, HookType | None], ...]] = {
    "before": (
        ("before_request_hooks", None),
        ("input_guardrails", "guardrail"),
        ("input_mutators", "mutator"),
    ),
    "after": (
        ("after_request_hooks", None),
        ("output_guardrails", "guardrail"),
        ("output_mutators", "mutator"),
    ),
}


@dataclass(frozen=True, slots=True)
class CheckConfig:
    """One check of a hook: ``<plugin>.<function>`` id, its parameters, and whether it runs."""

    id: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    is_enabled: bool = True
    path: str = ""


@dataclass(frozen=True, slots=True)
class HookConfig:
    """One hook as written in the config (after shorthand expansion).

    Attributes:
        path: Where it was written (``config.targets[0].input_guardrails[1]``), for error messages.
        deny: A failed verdict blocks (446) instead of flagging (246).
        is_async: Runs without delaying the answer; it can neither deny nor transform.
        sequential: Checks run in order, each seeing the previous ones' transformations.
    """

    id: str
    type: HookType
    checks: tuple[CheckConfig, ...]
    deny: bool = False
    is_async: bool = False
    sequential: bool = False
    on_fail: Mapping[str, Any] | None = None
    on_success: Mapping[str, Any] | None = None
    path: str = ""


def hooks_of(node: Any, kind: HookKind, path: str) -> tuple[HookConfig, ...]:
    """Every hook of ``kind`` a config node defines itself (long form first, then shorthands)."""
    hooks: list[HookConfig] = []
    for key, shorthand_type in _SOURCES[kind]:
        raw = getattr(node, key, None)
        if raw is None:
            continue
        where = f"{path}.{key}"
        if not isinstance(raw, list):
            raise ConfigurationError(f"expected a list of hooks, got {type(raw).__name__}", path=where)
        for index, item in enumerate(raw):
            item_path = f"{where}[{index}]"
            if shorthand_type is None:
                hooks.append(_long_hook(item, item_path))
            else:
                hooks.append(_shorthand_hook(item, item_path, kind, shorthand_type, index))
    return tuple(hooks)


def _long_hook(raw: Any, path: str) -> HookConfig:
    if not isinstance(raw, Mapping):
        raise ConfigurationError(f"expected a hook object, got {type(raw).__name__}", path=path)
    hook_type = raw.get("type")
    if hook_type is None:
        raise ConfigurationError(
            "a hook needs 'type': 'guardrail' or 'mutator' (Portkey's gateway silently runs none of "
            "the checks of a hook without it; refused here so a check you rely on is never off)",
            path=f"{path}.type",
        )
    if hook_type not in ("guardrail", "mutator"):
        raise ConfigurationError(f"expected 'guardrail' or 'mutator', got {hook_type!r}", path=f"{path}.type")
    checks_raw = raw.get("checks")
    if not isinstance(checks_raw, list) or not checks_raw:
        raise ConfigurationError(
            "a hook needs a non-empty 'checks' list, e.g. [{'id': 'default.contains', 'parameters': {...}}]",
            path=f"{path}.checks",
        )
    checks = tuple(_long_check(check, f"{path}.checks[{index}]") for index, check in enumerate(checks_raw))
    hook_id = raw.get("id", path.rsplit(".", 1)[-1])
    return _hook(raw, path, str(hook_id), hook_type, checks)


def _long_check(raw: Any, path: str) -> CheckConfig:
    if not isinstance(raw, Mapping):
        raise ConfigurationError(f"expected a check object, got {type(raw).__name__}", path=path)
    check_id = raw.get("id")
    if not isinstance(check_id, str) or not check_id:
        raise ConfigurationError(
            "a check needs a string 'id' such as 'default.regexMatch'", path=f"{path}.id"
        )
    parameters = raw.get("parameters", {})
    if not isinstance(parameters, Mapping):
        raise ConfigurationError("expected an object", path=f"{path}.parameters")
    enabled = raw.get("is_enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigurationError("expected true or false", path=f"{path}.is_enabled")
    return CheckConfig(id=check_id, parameters=dict(parameters), is_enabled=enabled, path=path)


def _shorthand_hook(raw: Any, path: str, kind: HookKind, hook_type: HookType, position: int) -> HookConfig:
    if isinstance(raw, str):
        raise ConfigurationError(
            f"guardrail id {raw!r} names a guardrail saved in Portkey's hosted app; this gateway has "
            "no access to that registry. Write the checks inline, e.g. "
            "{'default.contains': {'operator': 'none', 'words': ['secret']}, 'deny': true}",
            path=path,
        )
    if not isinstance(raw, Mapping):
        raise ConfigurationError(f"expected a guardrail object, got {type(raw).__name__}", path=path)
    checks: list[CheckConfig] = []
    for key, value in raw.items():
        if key in _SHORTHAND_HOOK_KEYS:
            continue
        if not isinstance(value, Mapping):
            raise ConfigurationError(
                f"check {key!r}: expected its parameters as an object, got {type(value).__name__}",
                path=f"{path}.{key}",
            )
        check_id = key if "." in key else f"default.{key}"
        checks.append(CheckConfig(id=check_id, parameters=dict(value), path=f"{path}.{key}"))
    if not checks:
        raise ConfigurationError("this guardrail names no check (e.g. 'default.contains': {...})", path=path)
    prefix = "input" if kind == "before" else "output"
    default_id = f"{prefix}_{hook_type}_{position}"
    return _hook(raw, path, str(raw.get("id", default_id)), hook_type, tuple(checks))


def _hook(
    raw: Mapping[str, Any], path: str, hook_id: str, hook_type: HookType, checks: Sequence[CheckConfig]
) -> HookConfig:
    flags = {}
    for key in ("deny", "async", "sequential"):
        value = raw.get(key, False)
        if not isinstance(value, bool):
            raise ConfigurationError(f"expected true or false, got {value!r}", path=f"{path}.{key}")
        flags[key] = value
    feedback = {}
    for key in ("on_fail", "on_success"):
        value = raw.get(key)
        if value is not None and not isinstance(value, Mapping):
            raise ConfigurationError("expected an object such as {'feedback': {...}}", path=f"{path}.{key}")
        feedback[key] = value
    return HookConfig(
        id=hook_id,
        type=hook_type,
        checks=tuple(checks),
        deny=flags["deny"],
        is_async=flags["async"],
        sequential=flags["sequential"],
        on_fail=feedback["on_fail"],
        on_success=feedback["on_success"],
        path=path,
    )
