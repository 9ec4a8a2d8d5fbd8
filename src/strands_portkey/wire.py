"""What crosses the wire: HTTP requests and responses as adapters see them, and credentials.

Adapters build :class:`HttpRequest` and parse :class:`HttpResponse`; only ``transport/`` turns
them into real HTTP. A :class:`Secret` holds a credential that never prints itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._json import dumps

__all__ = ["HttpRequest", "HttpResponse", "Secret"]


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
