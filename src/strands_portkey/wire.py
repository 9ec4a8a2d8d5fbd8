"""What crosses the wire: HTTP requests and responses as adapters see them, and credentials.

Adapters build :class:`HttpRequest` and parse :class:`HttpResponse`; only ``transport/`` turns
them into real HTTP. A :class:`Secret` holds a credential that never prints itself.
:func:`decode_json` is the one way bytes from an upstream (a provider, a webhook, a shared store)
become JSON values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._json import dumps, loads

__all__ = ["MAX_JSON_DEPTH", "HttpRequest", "HttpResponse", "JSONTooDeepError", "Secret", "decode_json"]

MAX_JSON_DEPTH = 128
"""Deepest nesting :func:`decode_json` accepts (as serde_json); real answers stay far below it."""


_SHALLOW_BELOW = 2 * MAX_JSON_DEPTH + 1  # JSON nested deeper than the limit has more characters than this


class JSONTooDeepError(ValueError):
    """A JSON document nested deeper than :data:`MAX_JSON_DEPTH` (it is complete, but refused)."""


def decode_json(data: bytes | str) -> Any:
    """Decode JSON received from outside; every failure is a ``ValueError``, nothing else.

    ``json.loads`` raises ``RecursionError`` on input such as ``[`` x 100,000, which a caller
    catching ``ValueError`` lets through as a bare traceback. A document just under the
    interpreter's limit parses, then breaks whoever walks it next (``json.dumps``, a deep copy),
    so nesting deeper than :data:`MAX_JSON_DEPTH` is refused too (:class:`JSONTooDeepError`).
    Bytes that are not valid UTF-8 raise ``UnicodeDecodeError``, a ``ValueError`` as well.
    Nothing more is checked for a text too short to nest that deep (an ordinary stream event);
    the depth walk only runs when the text holds more brackets than the limit.
    """
    try:
        value = loads(data)  # orjson when installed (the [fast] extra): the common case, fast
    except ValueError:
        value = _stdlib_decode(data)  # what orjson refuses (NaN, 10**30): the stdlib reading, or its error
    if (
        len(data) > _SHALLOW_BELOW
        and _openings(data) > MAX_JSON_DEPTH
        and _deeper_than(value, MAX_JSON_DEPTH)
    ):
        raise JSONTooDeepError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def _stdlib_decode(data: bytes | str) -> Any:
    """The stdlib's reading: lenient where orjson is strict, and the stdlib's own error messages."""
    try:
        return json.loads(data)
    except RecursionError:
        raise JSONTooDeepError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None


def _openings(data: bytes | str) -> int:
    """Opening brackets in the text: an upper bound of the nesting depth."""
    if isinstance(data, str):
        return data.count("[") + data.count("{")
    return data.count(b"[") + data.count(b"{")


def _deeper_than(value: object, limit: int) -> bool:
    """Whether decoded JSON nests more than ``limit`` containers deep (iterative: no recursion)."""
    if not isinstance(value, (dict, list)):
        return False
    pending: list[tuple[dict[str, Any] | list[Any], int]] = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > limit:
            return True
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, (dict, list)):
                pending.append((child, depth + 1))
    return False


class Secret:
    """A credential. It never shows its value in ``repr``/``str``; call :meth:`reveal` to use it.

    Kept deliberately tiny: the one place that needs the clear value is the outgoing request.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The clear value, for the one outgoing request that needs it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """A request an adapter wants sent. ``secrets`` lists credential values to scrub from errors."""

    method: str
    url: str
    headers: Mapping[str, str]
    json: Any = None
    secrets: tuple[str, ...] = ()

    def body_bytes(self) -> bytes:
        """The JSON body, compactly encoded: the exact bytes sent (and SigV4-signed, for Bedrock)."""
        if self.json is None:
            return b""
        return dumps(self.json)

    def __repr__(self) -> str:
        return f"HttpRequest({self.method} {self.url.split('?', 1)[0]})"


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A complete (non-streamed) response: status, lower-cased headers, raw body."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes

    def header(self, name: str) -> str | None:
        """A header by case-insensitive name."""
        return self.headers.get(name.lower())
