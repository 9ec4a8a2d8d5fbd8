"""How deep a config (and a request body) may nest: the documented limits, in one place.

Everything the gateway walks recursively -- nested ``targets``, conditional queries (``$and`` /
``$or``), guardrail check parameters (a ``default.jsonSchema`` schema), ``override_params`` merged
into every request and then JSON-encoded -- would otherwise fail on a hostile or broken input
with Python's raw ``RecursionError``, possibly only at request time. These limits are checked
once, at construction (for a request body: when it is read), and fail with an error naming the
field. They are far above anything a real config needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .errors import ConfigurationError

__all__ = ["JSON_LEAF_TYPES", "MAX_JSON_DEPTH", "MAX_TARGET_DEPTH", "check_json_depth", "json_depth_exceeded"]

MAX_TARGET_DEPTH = 32
"""Deepest nesting of ``targets`` (a strategy node inside a strategy node ...)."""

MAX_JSON_DEPTH = 64
"""Deepest nesting of objects and arrays inside one field of a config node (``override_params``,
a conditional ``query``, a guardrail's parameters) or one field of a request body."""


def json_depth_exceeded(value: object, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` nests objects / arrays more than ``limit`` levels deep (a scalar: 0).

    Stops as soon as the limit is crossed, so it is bounded even for a self-referencing value.
    Cheap on real bodies: strings and numbers are not walked.
    """
    return _deep_chain(value, limit) is not None


def check_json_depth(
    value: object,
    path: str,
    *,
    limit: int = MAX_JSON_DEPTH,
    error: Callable[..., Exception] = ConfigurationError,
) -> None:
    """Raise ``error(message, path=...)`` when ``value`` nests deeper than ``limit`` levels.

    The path names ``path`` and the first keys of the too-deep chain (``config.override_params.a.b``),
    enough to find it without a path hundreds of segments long.
    """
    chain = _deep_chain(value, limit)
    if chain is None:
        return
    for key in chain[:_SHOWN_KEYS]:
        path += f"[{key}]" if isinstance(key, int) else f".{key}"
    raise error(f"nested deeper than {limit} levels of objects and arrays", path=path)


_SHOWN_KEYS = 3

JSON_LEAF_TYPES = frozenset({str, int, float, bool, type(None)})
"""Types that never nest: a value of exactly one of these needs no depth walk."""
_LEAVES = JSON_LEAF_TYPES


def _deep_chain(value: object, limit: int) -> list[object] | None:
    """The keys leading from ``value`` into a chain deeper than ``limit``, or None.

    Exact-type tests first: this runs on every request body, and ``isinstance(x, Mapping)`` (an
    ABC check) is several times slower than ``type(x) is dict``.
    """
    if isinstance(value, (list, tuple)):
        items: Any = enumerate(value)
    elif type(value) is dict or (type(value) not in _LEAVES and isinstance(value, Mapping)):
        items = value.items()
    else:
        return None
    if limit <= 0:
        return []
    for key, child in items:
        if type(child) in _LEAVES:
            continue
        chain = _deep_chain(child, limit - 1)
        if chain is not None:
            chain.insert(0, key)
            return chain
    return None
