"""The query language of conditional routing, compiled once into predicates.

A query is a JSON object. Each key is a path into the request's context -- ``metadata.<key>``
(Portkey metadata), ``params.<field>`` (the request body, before ``override_params``) or
``url.pathname`` -- and deeper paths walk nested objects and list indexes
(``params.response_format.type``, ``params.messages.0.role``). A plain value means equality; an
object of operators must satisfy all of them: ``$eq $ne $gt $gte $lt $lte $in $nin $regex``.
``$and`` / ``$or`` take lists of sub-queries. Every key of a query must match.

Semantics, as Portkey's gateway evaluates them unless noted:

* a missing key matches only ``$ne`` and ``$nin`` (Portkey's gateway does this; its docs say
  "false");
* equality is strict (``1`` is not ``"1"``, ``true`` is not ``1``), except that metadata values
  are strings (Portkey sends metadata as strings), so ``{"metadata.level": 2}`` matches the
  metadata value ``"2"``;
* ``$gt $gte $lt $lte`` compare numbers; a value that is not a number (or a numeric string) does
  not match;
* ``$regex`` searches the value (numbers as their text) with Python's ``re``.

Deliberate differences from Portkey's gateway: paths deeper than two segments are followed
(Portkey only looks up two); an unknown operator, an invalid regular expression or an operand of
the wrong type is a configuration error at construction (Portkey fails, or silently does not
match, at request time); ``$regex`` and ``$and``/``$or`` never short-circuit their sibling keys.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import ConfigurationError

__all__ = ["OPERATORS", "Predicate", "QueryContext", "compile_query", "validate_query"]

QueryContext = Mapping[str, Any]
"""``{"metadata": {...}, "params": {...}, "url": {"pathname": "/v1/chat/completions"}}``."""

Predicate = Callable[[QueryContext], bool]

OPERATORS = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$regex"})
_ROOTS = ("metadata", "params", "url")


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


def validate_query(query: Any, path: str) -> None:
    """Raise :class:`ConfigurationError` (naming the path) if ``query`` is not a valid query."""
    compile_query(query, path)


def compile_query(query: Any, path: str) -> Predicate:
    """Compile ``query`` into a predicate over a :data:`QueryContext`."""
    if not isinstance(query, Mapping):
        raise ConfigurationError(f"expected a query object, got {type(query).__name__}", path=path)
    parts = [_compile_key(key, value, path) for key, value in query.items()]
    if len(parts) == 1:
        return parts[0]
    return lambda context: all(part(context) for part in parts)


def _compile_key(key: Any, value: Any, path: str) -> Predicate:
    here = f"{path}.{key}"
    if key in ("$and", "$or"):
        if not isinstance(value, list) or not value:
            raise ConfigurationError(f"expected a non-empty list of queries for {key}", path=here)
        subs = [compile_query(item, f"{here}[{index}]") for index, item in enumerate(value)]
        if key == "$and":
            return lambda context: all(sub(context) for sub in subs)
        return lambda context: any(sub(context) for sub in subs)
    if not isinstance(key, str) or key.startswith("$"):
        raise ConfigurationError(
            f"unknown operator {key!r} here; queries combine with $and / $or, and operators "
            f"({', '.join(sorted(OPERATORS))}) go inside a field's object",
            path=here,
        )
    segments = _segments(key, here)
    loose = segments[0] == "metadata"
    test = _compile_test(value, here, loose)
    return lambda context: test(_lookup(context, segments))


def _segments(key: str, path: str) -> tuple[str, ...]:
    segments = tuple(key.split("."))
    if segments[0] not in _ROOTS or len(segments) < 2 or not all(segments):
        raise ConfigurationError(
            f"unknown field {key!r}; query fields start with metadata., params. or url. "
            "(e.g. 'metadata.tier', 'params.model', 'url.pathname')",
            path=path,
        )
    return segments


def _lookup(context: QueryContext, segments: Sequence[str]) -> Any:
    value: Any = context
    for segment in segments:
        if isinstance(value, Mapping):
            value = value.get(segment, _MISSING)
        elif isinstance(value, list) and segment.isdigit() and int(segment) < len(value):
            value = value[int(segment)]
        else:
            return _MISSING
        if value is _MISSING:
            return _MISSING
    return value


def _compile_test(expected: Any, path: str, loose: bool) -> Callable[[Any], bool]:
    if not isinstance(expected, Mapping):
        _check_scalar(expected, path)
        return lambda actual: _equal(actual, expected, loose)
    if not expected:
        raise ConfigurationError("expected at least one operator, e.g. {'$eq': 'gold'}", path=path)
    tests = [_compile_operator(op, operand, f"{path}.{op}", loose) for op, operand in expected.items()]
    if len(tests) == 1:
        return tests[0]
    return lambda actual: all(test(actual) for test in tests)


def _compile_operator(op: Any, operand: Any, path: str, loose: bool) -> Callable[[Any], bool]:
    if op in ("$eq", "$ne"):
        _check_scalar(operand, path)
        if op == "$eq":
            return lambda actual: _equal(actual, operand, loose)
        return lambda actual: not _equal(actual, operand, loose)
    if op in ("$in", "$nin"):
        if not isinstance(operand, list):
            raise ConfigurationError(f"{op} needs a list, got {type(operand).__name__}", path=path)
        for index, item in enumerate(operand):
            _check_scalar(item, f"{path}[{index}]")
        members = list(operand)
        if op == "$in":
            return lambda actual: any(_equal(actual, m, loose) for m in members)
        return lambda actual: not any(_equal(actual, m, loose) for m in members)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        return _numeric(op, operand, path)
    if op == "$regex":
        return _regex(operand, path)
    raise ConfigurationError(f"unknown operator {op!r}; supported: {', '.join(sorted(OPERATORS))}", path=path)


def _numeric(op: str, operand: Any, path: str) -> Callable[[Any], bool]:
    bound = _as_number(operand)
    if bound is None:
        raise ConfigurationError(f"{op} needs a number, got {operand!r}", path=path)
    compare: Callable[[float, float], bool] = {
        "$gt": float.__gt__,
        "$gte": float.__ge__,
        "$lt": float.__lt__,
        "$lte": float.__le__,
    }[op]

    def test(actual: Any) -> bool:
        number = _as_number(actual)
        return number is not None and compare(number, bound)

    return test


def _regex(operand: Any, path: str) -> Callable[[Any], bool]:
    if not isinstance(operand, str):
        raise ConfigurationError(f"$regex needs a string pattern, got {type(operand).__name__}", path=path)
    try:
        pattern = re.compile(operand)
    except re.error as error:
        raise ConfigurationError(f"invalid regular expression {operand!r}: {error}", path=path) from None

    def test(actual: Any) -> bool:
        if isinstance(actual, bool) or not isinstance(actual, str | int | float):
            return False
        return pattern.search(actual if isinstance(actual, str) else _text(actual)) is not None

    return test


def _check_scalar(value: Any, path: str) -> None:
    if value is not None and not isinstance(value, str | int | float | bool):
        raise ConfigurationError(
            f"expected a string, number, boolean or null to compare with, got {type(value).__name__} "
            "(an object here must hold operators such as $eq)",
            path=path,
        )


def _equal(actual: Any, expected: Any, loose: bool) -> bool:
    if actual is _MISSING:
        return False
    if loose and isinstance(actual, str) and not isinstance(expected, str):
        return actual == json.dumps(expected)
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    if isinstance(actual, str) != isinstance(expected, str):
        return False
    return bool(actual == expected)


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return None if math.isnan(number) else number


def _text(number: int | float) -> str:
    return str(int(number)) if isinstance(number, float) and number.is_integer() else str(number)
