"""JSON on the hot path: orjson when it is installed (the ``[fast]`` extra), else the stdlib.

Two functions with one contract whichever library answers, so callers never branch:

* :func:`loads` takes ``bytes`` or ``str`` and raises :class:`ValueError` for anything that is not
  one JSON document: malformed text, invalid UTF-8, or nesting too deep (the stdlib's
  ``RecursionError`` is turned into a ``ValueError`` here, so a hostile body cannot escape a
  ``except ValueError`` in a parser).
* :func:`dumps` returns compact UTF-8 ``bytes`` (no spaces, non-ASCII kept), the form requests are
  sent in. Values orjson refuses (integers past 64 bits, non-string keys) fall back to the stdlib,
  so the result never depends on which library is installed.

orjson is chosen once, at import (a ~1 ms import, no network, no state beyond the choice).
"""

from __future__ import annotations

import importlib
import json
from typing import Any

__all__ = ["BACKEND", "dumps", "loads"]

_orjson: Any
try:  # the [fast] extra
    _orjson = importlib.import_module("orjson")
except ImportError:  # pragma: no cover - exercised where orjson is absent
    _orjson = None

BACKEND = "orjson" if _orjson is not None else "json"
"""Which library encodes and decodes (``"orjson"`` or ``"json"``)."""

_stdlib_loads = json.loads
_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _stdlib_dumps(value: Any) -> bytes:
    return _encoder.encode(value).encode()


def _checked_stdlib_loads(data: bytes | bytearray | memoryview | str) -> Any:
    if isinstance(data, memoryview):
        data = bytes(data)
    try:
        return _stdlib_loads(data)
    except RecursionError as error:
        raise ValueError("JSON nested too deeply") from error


if _orjson is not None:
    _orjson_loads = _orjson.loads
    _orjson_dumps = _orjson.dumps
    _orjson_error = _orjson.JSONEncodeError

    def loads(data: bytes | bytearray | memoryview | str) -> Any:
        """One JSON document from ``data``; ``ValueError`` if it is not one."""
        return _orjson_loads(data)

    def dumps(value: Any) -> bytes:
        """``value`` as compact UTF-8 JSON bytes."""
        try:
            return _orjson_dumps(value)  # type: ignore[no-any-return]
        except _orjson_error:  # a value orjson does not take (big int, non-str key): the stdlib's form
            return _stdlib_dumps(value)

else:  # pragma: no cover - exercised where orjson is absent

    def loads(data: bytes | bytearray | memoryview | str) -> Any:
        """One JSON document from ``data``; ``ValueError`` if it is not one."""
        return _checked_stdlib_loads(data)

    def dumps(value: Any) -> bytes:
        """``value`` as compact UTF-8 JSON bytes."""
        return _stdlib_dumps(value)
