"""JSON answers -> the control plane's own dataclasses (what ``Gateway().ai`` returns).

The server serialises a dataclass field for field (``dataclasses.asdict``); :func:`decode` builds
the same dataclass back: lists become tuples where the field is a tuple, nested dataclasses are
rebuilt, fields the server sends that this version does not know are ignored (a newer server),
and a missing field without a default is a :class:`~strands_portkey.errors.MalformedResponseError`.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from typing import Any, TypeVar

from ..errors import MalformedResponseError

__all__ = ["decode", "decode_list"]

T = TypeVar("T")


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _value(hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        for option in typing.get_args(hint):
            if option is not type(None) and value is not None:
                return _value(option, value)
        return value
    if dataclasses.is_dataclass(hint) and isinstance(value, dict):
        return decode(hint, value)  # type: ignore[arg-type]
    if origin is tuple and isinstance(value, list):
        args = typing.get_args(hint)
        item = args[0] if args else Any
        return tuple(_value(item, v) for v in value)
    if origin is list and isinstance(value, list):
        args = typing.get_args(hint)
        return [_value(args[0], v) for v in value] if args else value
    return value


def decode(cls: type[T], data: Any) -> T:
    """``cls`` (a dataclass) from its JSON object ``data``."""
    if not isinstance(data, dict):
        raise MalformedResponseError(f"expected a JSON object for {cls.__name__}, got {type(data).__name__}")
    hints = _hints(cls)  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if field.name in data:
            kwargs[field.name] = _value(hints.get(field.name, Any), data[field.name])
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise MalformedResponseError(f"the server's {cls.__name__} has no {field.name!r}")
    return cls(**kwargs)


def decode_list(cls: type[T], items: Any) -> list[T]:
    """A list of ``cls`` from a JSON array."""
    if not isinstance(items, list):
        raise MalformedResponseError(f"expected a JSON array of {cls.__name__}")
    return [decode(cls, item) for item in items]
