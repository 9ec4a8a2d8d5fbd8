"""The remote client's one error mapping: a server's error answer -> the library's exception tree.

The admin API answers ``{"error": {"message", "type", "param", "code", "kind"}}`` where ``kind``
names the class of :mod:`strands_portkey.errors` the server raised
(:func:`~strands_portkey.errors.kind_of`); the client raises that same class, so code written
against ``Gateway().ai`` catches the same exceptions through ``Client``.
Without a known ``kind`` (another server, a proxy's error page) the HTTP status decides.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from .. import errors as tree
from ..errors import (
    ConflictError,
    ControlPlaneError,
    GatewayError,
    InvalidApiKeyError,
    InvalidRequestError,
    LimitExceededError,
    PermissionDeniedError,
    ResourceNotFoundError,
    StoreError,
)

__all__ = ["error_from_answer"]

_BY_STATUS: Mapping[int, type[GatewayError]] = {
    400: InvalidRequestError,
    401: InvalidApiKeyError,
    403: PermissionDeniedError,
    404: ResourceNotFoundError,
    409: ConflictError,
    413: InvalidRequestError,
    415: InvalidRequestError,
    422: InvalidRequestError,
    503: StoreError,
}


def _known(kind: object) -> type[GatewayError] | None:
    if not isinstance(kind, str):
        return None
    cls = getattr(tree, kind, None)
    if inspect.isclass(cls) and issubclass(cls, GatewayError) and cls.__module__ == tree.__name__:
        return None if cls is GatewayError else cls  # the root says nothing: the status decides
    return None


def _without_path(message: str, path: str | None) -> str:
    """The server's message repeats the path (``body.name: ...``); the class adds it back."""
    prefix = f"{path}: "
    return message[len(prefix) :] if path and message.startswith(prefix) else message


def _build(
    cls: type[GatewayError], message: str, path: str | None, retry_after: float | None
) -> GatewayError:
    builders: dict[type[GatewayError], Callable[[], GatewayError]] = {
        tree.RateLimitExceededError: lambda: tree.RateLimitExceededError(
            message, retry_after=retry_after or 0.0, limit=""
        ),
        tree.LimitExceededError: lambda: tree.LimitExceededError(message, retry_after=retry_after or 0.0),
        tree.BudgetExceededError: lambda: tree.BudgetExceededError(message, limit=""),
    }
    build = builders.get(cls)
    if build is not None:
        return build()
    if "path" in inspect.signature(cls.__init__).parameters:
        return cls(_without_path(message, path), path=path)  # type: ignore[call-arg]
    try:
        return cls(message)
    except TypeError:  # a class that needs more than a message (a guardrail's hook results)
        return ControlPlaneError(message)


def error_from_answer(status: int, body: Any, retry_after: str | None = None) -> GatewayError:
    """The exception for an error answer (``body``: the decoded JSON, or anything else)."""
    detail = body.get("error") if isinstance(body, dict) else None
    detail = detail if isinstance(detail, dict) else {}
    message = detail.get("message")
    if not isinstance(message, str) or not message:
        message = f"the server answered HTTP {status}"
    path = detail.get("param") if isinstance(detail.get("param"), str) else None
    seconds = _seconds(retry_after, body)
    cls = _known(detail.get("kind")) or _BY_STATUS.get(status)
    if cls is None:
        cls = LimitExceededError if status == 429 else ControlPlaneError
    error = _build(cls, message, path, seconds)
    error.status_code = status
    return error


def _seconds(header: str | None, body: Any) -> float | None:
    for value in (header, body.get("retryAfter") if isinstance(body, dict) else None):
        try:
            if value is not None:
                return max(0.0, float(value))
        except (TypeError, ValueError):
            continue
    return None
