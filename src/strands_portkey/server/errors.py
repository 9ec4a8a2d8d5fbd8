"""One table: every ``GatewayError`` -> HTTP status + a body in the caller's wire format.

The data plane speaks two wire formats (OpenAI's chat completions, Anthropic's messages); an error
answers in the format of the route that was called. Status codes follow Portkey's gateway: an
upstream status passes through (a provider's 422 stays 422), 408 for a timeout, 446 when a
``deny`` guardrail failed (with Portkey's ``hook_results`` in the body), 429 with ``Retry-After``
over a gateway key's rate limit, 412 when its budget is spent (the message names the limit), 503
when the limits' store (Redis) cannot be reached and limits fail closed.
Errors the server raises about the HTTP request itself (body too large, wrong content type, a bad
header) are :class:`ServerInputError` s naming the header or JSON field.

The body is OpenAI's ``{"error": {"message", "type", "param", "code"}}`` (``param`` is the JSON
path or header named by the error), plus Portkey's top-level extras where Portkey adds them:
``provider`` for an upstream failure and ``hook_results`` for 446. Messages are the errors' own
(which never contain credentials); an unexpected exception answers a generic 500 and is logged
by the caller without its arguments.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import (
    AuthenticationError,
    BadRequestError,
    BudgetExceededError,
    ConfigurationError,
    ConflictError,
    ContextWindowExceededError,
    ControlPlaneError,
    CredentialRejectedError,
    CredentialsUnavailableError,
    GatewayError,
    GuardrailDeniedError,
    InvalidApiKeyError,
    InvalidRequestError,
    LimitExceededError,
    LimitsUnavailableError,
    MalformedResponseError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    RequestCancelledError,
    RequestTimeoutError,
    ResourceNotFoundError,
    ServerError,
    StoreError,
    StreamInterruptedError,
    UpstreamConnectionError,
    VaultError,
)

__all__ = [
    "AddressRefusedError",
    "ErrorReply",
    "ServerInputError",
    "UnauthorizedError",
    "WireFormat",
    "error_reply",
    "status_of",
]

WireFormat = Literal["openai", "anthropic"]


class ServerInputError(InvalidRequestError):
    """The HTTP request itself is unusable (400, 413 too large, 415 not JSON); ``path`` names the field."""

    def __init__(self, message: str, *, path: str | None = None, status: int = 400) -> None:
        super().__init__(message, path=path)
        self.status_code = status


class UnauthorizedError(GatewayError):
    """The caller's gateway key is missing, unknown, revoked or expired (401)."""

    default_status = 401


class AddressRefusedError(GatewayError):
    """An upstream host resolves to a private, link-local or metadata address (403, SSRF policy)."""

    default_status = 403

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


@dataclass(frozen=True, slots=True)
class _Row:
    status: int
    openai_type: str
    anthropic_type: str
    passes_status: bool = False  # the error's own status (an upstream's) wins over ``status``


# Most specific first: the first class the error is an instance of decides.
_TABLE: tuple[tuple[type[BaseException], _Row], ...] = (
    (GuardrailDeniedError, _Row(446, "hooks_failed", "invalid_request_error")),
    (ServerInputError, _Row(400, "invalid_request_error", "invalid_request_error", passes_status=True)),
    (UnauthorizedError, _Row(401, "authentication_error", "authentication_error")),
    (InvalidApiKeyError, _Row(401, "authentication_error", "authentication_error")),
    (AddressRefusedError, _Row(403, "permission_error", "permission_error")),
    (ContextWindowExceededError, _Row(400, "invalid_request_error", "invalid_request_error", True)),
    (BadRequestError, _Row(400, "invalid_request_error", "invalid_request_error", True)),
    (AuthenticationError, _Row(401, "authentication_error", "authentication_error", True)),
    (NotFoundError, _Row(404, "not_found_error", "not_found_error", True)),
    (RateLimitError, _Row(429, "rate_limit_error", "rate_limit_error")),
    (LimitExceededError, _Row(429, "rate_limit_error", "rate_limit_error")),
    (BudgetExceededError, _Row(412, "budget_exceeded", "permission_error")),
    (LimitsUnavailableError, _Row(503, "api_error", "api_error")),
    (OverloadedError, _Row(529, "overloaded_error", "overloaded_error", True)),
    (ServerError, _Row(500, "api_error", "api_error", True)),
    (RequestTimeoutError, _Row(408, "timeout_error", "timeout_error")),
    (UpstreamConnectionError, _Row(502, "api_error", "api_error")),
    (MalformedResponseError, _Row(502, "api_error", "api_error")),
    (StreamInterruptedError, _Row(502, "api_error", "api_error")),
    (RequestCancelledError, _Row(499, "request_cancelled", "api_error")),
    (ConfigurationError, _Row(400, "invalid_request_error", "invalid_request_error")),
    (InvalidRequestError, _Row(400, "invalid_request_error", "invalid_request_error")),
    (ResourceNotFoundError, _Row(404, "not_found_error", "not_found_error")),
    (ConflictError, _Row(409, "invalid_request_error", "invalid_request_error")),
    (PermissionDeniedError, _Row(403, "permission_error", "permission_error")),
    (CredentialRejectedError, _Row(400, "invalid_request_error", "invalid_request_error")),
    (CredentialsUnavailableError, _Row(503, "api_error", "api_error")),
    (StoreError, _Row(503, "api_error", "api_error")),
    (VaultError, _Row(500, "api_error", "api_error")),
    (ControlPlaneError, _Row(500, "api_error", "api_error")),
    # any other upstream error (BadRequestError and the base class): the provider's status
    (GatewayError, _Row(500, "api_error", "api_error", passes_status=True)),
)
_INTERNAL = _Row(500, "api_error", "api_error")


def _row(error: BaseException) -> _Row:
    for kind, row in _TABLE:
        if isinstance(error, kind):
            return row
    return _INTERNAL


def status_of(error: BaseException) -> int:
    """The HTTP status the server answers ``error`` with (see the module docstring)."""
    row = _row(error)
    if row.passes_status and isinstance(error, GatewayError):
        status = error.status_code
        if isinstance(status, int) and 400 <= status <= 599:
            return status
    return row.status


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """An error as the server sends it: status, JSON body, extra headers (``Retry-After``, route)."""

    status: int
    body: dict[str, Any]
    headers: Mapping[str, str]


def _retry_after(error: BaseException) -> str | None:
    seconds = getattr(error, "retry_after", None)
    if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds >= 0:
        return str(max(1, math.ceil(seconds)))
    return None


def _message_and_param(error: BaseException) -> tuple[str, str | None]:
    if isinstance(error, GatewayError):
        return error.message, getattr(error, "path", None)
    return "the server failed to process the request", None


def error_reply(error: BaseException, fmt: WireFormat = "openai") -> ErrorReply:
    """Status, body and headers for ``error`` in the wire format ``fmt``."""
    row = _row(error)
    status = status_of(error)
    message, param = _message_and_param(error)
    code = error.code if isinstance(error, GatewayError) else None
    body: dict[str, Any]
    if fmt == "anthropic":
        body = {"type": "error", "error": {"type": row.anthropic_type, "message": message}}
    else:
        body = {"error": {"message": message, "type": row.openai_type, "param": param, "code": code}}
    if isinstance(error, GatewayError) and error.provider and fmt == "openai":
        body["provider"] = error.provider
    if isinstance(error, GuardrailDeniedError):
        body["hook_results"] = error.hook_results.to_dict()
    headers: dict[str, str] = {}
    route = error.route if isinstance(error, GatewayError) else None
    if route is not None:
        headers.update(route.to_headers())
    retry_after = _retry_after(error)
    if retry_after is not None and status == 429:
        headers["retry-after"] = retry_after
    return ErrorReply(status, body, headers)
