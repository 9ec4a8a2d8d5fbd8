"""What a config field or a request field may hold: JSON, nested to a bounded depth. The limits, in one place.

Everything the gateway walks recursively -- nested ``targets``, conditional queries (``$and`` /
``$or``), guardrail check parameters (a ``default.jsonSchema`` schema), ``override_params`` merged
into every request and then JSON-encoded -- would otherwise fail on a hostile or broken input
with Python's raw ``RecursionError`` (or, for a value JSON cannot encode, a ``TypeError``),
possibly only at request time. These limits are checked once, at construction (for a request
body: when it is read), and fail with an error naming the field. They are far above anything a
real config needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .errors import ConfigurationError

__all__ = ["JSON_LEAF_TYPES", "MAX_JSON_DEPTH", "MAX_TARGET_DEPTH", "check_json_value", "json_value_problem"]

MAX_TARGET_DEPTH = 32
"""Deepest nesting of ``targets`` (a strategy node inside a strategy node ...)."""

MAX_JSON_DEPTH = 64
"""Deepest nesting of objects and arrays inside one field of a config node (``override_params``,
a conditional ``query``, a guardrail's parameters) or one field of a request body."""

JSON_LEAF_TYPES = frozenset({str, int, float, bool, type(None)})
"""Types that never nest: a value of exactly one of these needs no walk."""

_SHOWN_KEYS = 3
_KEY_TYPES = (str, int, float, bool, type(None))  # what json.dumps accepts as an object key


def json_value_problem(value: object, limit: int = MAX_JSON_DEPTH) -> tuple[list[object], str] | None:
    """What keeps ``value`` from being JSON nested at most ``limit`` levels deep, or None.

    The answer is the keys leading to the offending member and why it offends. Stops at the
    first problem and never goes deeper than ``limit``, so it is bounded even for a
    self-referencing value. Cheap on real bodies: strings and numbers are not walked.
    """
    problem = _problem(value, limit)
    if problem is not None:
        problem[0].reverse()  # collected innermost first
    return problem


def check_json_value(
    value: object,
    path: str,
    *,
    limit: int = MAX_JSON_DEPTH,
    error: Callable[..., Exception] = ConfigurationError,
) -> None:
    """Raise ``error(message, path=...)`` unless ``value`` is JSON nested at most ``limit`` levels.

    The path names ``path`` and the keys leading to the offending member; for a value nested too
    deep only the first three (``config.override_params.a.b.c``), enough to find it without a path
    hundreds of segments long.
    """
    problem = json_value_problem(value, limit)
    if problem is None:
        return
    chain, reason = problem
    for key in chain[:_SHOWN_KEYS] if reason is _TOO_DEEP else chain:
        path += f"[{key}]" if isinstance(key, int) else f".{key}"
    raise error(reason, path=path)


_TOO_DEEP = f"nested deeper than {MAX_JSON_DEPTH} levels of objects and arrays"
_NOT_JSON = "expected a JSON value (object, array, string, number, boolean or null), got {}"


def _problem(value: object, limit: int) -> tuple[list[object], str] | None:
    # Exact-type tests first: this runs on request bodies, and ``isinstance(x, Mapping)`` (an ABC
    # check) is several times slower than ``type(x) is dict``.
    if isinstance(value, (list, tuple)):
        items: Any = enumerate(value)
    elif type(value) is dict or (type(value) not in JSON_LEAF_TYPES and isinstance(value, Mapping)):
        for key in value:
            if type(key) is not str and not isinstance(key, _KEY_TYPES):
                return [], f"object keys must be strings, got {type(key).__name__}"
        items = value.items()
    elif type(value) in JSON_LEAF_TYPES or isinstance(value, (str, int, float)):
        return None
    else:
        return [], _NOT_JSON.format(type(value).__name__)
    if limit <= 0:
        return [], _TOO_DEEP
    for key, child in items:
        if type(child) in JSON_LEAF_TYPES:
            continue
        problem = _problem(child, limit - 1)
        if problem is not None:
            problem[0].append(key)
            return problem
    return None
