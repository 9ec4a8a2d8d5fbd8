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


@functools.cache
def _needs_work(hint: Any) -> bool:
    """Whether :func:`_value` can change a value of ``hint`` (else the JSON value is taken as is)."""
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint) or origin is tuple:
        return True
    if origin is list or origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        return any(_needs_work(arg) for arg in typing.get_args(hint) if arg is not type(None))
    return False


@functools.cache
def _plan(cls: type) -> tuple[tuple[str, Any, bool, bool], ...]:
    """Per field, once per class: its name, its hint, whether it needs converting, whether required."""
    hints = _hints(cls)
    return tuple(
        (
            field.name,
            hints.get(field.name, Any),
            _needs_work(hints.get(field.name, Any)),
            field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING,
        )
        for field in dataclasses.fields(cls)
    )


def decode(cls: type[T], data: Any) -> T:
    """``cls`` (a dataclass) from its JSON object ``data``."""
    if not isinstance(data, dict):
        raise MalformedResponseError(f"expected a JSON object for {cls.__name__}, got {type(data).__name__}")
    kwargs: dict[str, Any] = {}
    for name, hint, convert, required in _plan(typing.cast(type, cls)):
        if name in data:
            kwargs[name] = _value(hint, data[name]) if convert else data[name]
        elif required:
            raise MalformedResponseError(f"the server's {cls.__name__} has no {name!r}")
    return cls(**kwargs)


def decode_list(cls: type[T], items: Any) -> list[T]:
    """A list of ``cls`` from a JSON array."""
    if not isinstance(items, list):
        raise MalformedResponseError(f"expected a JSON array of {cls.__name__}")
    return [decode(cls, item) for item in items]
