"""The one place where a provider's error answer becomes a :class:`~strands_portkey.errors.UpstreamError`.

Every adapter calls :func:`classify_error` (after pulling the message out of the body with
:func:`error_fields_from_body` or :func:`error_fields_from_payload`), so throttling, context
overflow and the rest are recognised the same way whatever the provider. The rules follow the
Strands error contract: throttling by status 429, the ``rate_limit_exceeded`` code or an explicit
phrase ("rate limit", "too many requests") -- never a loose substring such as "rate" alone.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any, NamedTuple

from ..errors import (
    AuthenticationError,
    BadRequestError,
    ContextWindowExceededError,
    NotFoundError,
    OverloadedError,
    RateLimitError,
    ServerError,
    UpstreamError,
    scrub,
)
from ..wire import decode_json

__all__ = [
    "ErrorFields",
    "classify_error",
    "classify_error_event",
    "classify_error_response",
    "classify_in_band_error",
    "error_fields_from_body",
    "error_fields_from_payload",
    "infer_stream_error_status",
    "retry_after_seconds",
]

MAX_MESSAGE_CHARS = 500

_RATE_LIMIT_PHRASES = ("rate limit", "rate_limit_exceeded", "too many requests")
_CONTEXT_OVERFLOW_PHRASES = (
    # OpenAI-compatible hosts (as recognised by Strands' OpenAI provider)
    "maximum context length",
    "context_length_exceeded",
    "too many tokens",
    "context length",
    "input is too long for requested model",
    "input length and `max_tokens` exceed context limit",
    "too many total text bytes",
    "exceeds the max_model_len",
    # Anthropic
    "prompt is too long:",
    "input is too long",
    "input length exceeds context window",
    "input and output tokens exceed your context limit",
    # Google Gemini
    "exceeds the maximum number of tokens allowed",
    # Amazon Bedrock
    "too many input tokens",
    # llama.cpp's llama-server (both its OpenAI and Anthropic endpoints)
    "exceeds the available context size",
)
# Error types (Anthropic's ``error.type``, Google's ``error.status``, AWS exception names) that say
# which status an error reported inside a 200 stream stands for. Compared lower-cased.
_ERROR_TYPE_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
    "invalid_argument": 400,
    "failed_precondition": 400,
    "unauthenticated": 401,
    "permission_denied": 403,
    "not_found": 404,
    "resource_exhausted": 429,
    "internal": 500,
    "unavailable": 503,
    "deadline_exceeded": 504,
    "validationexception": 400,
    "accessdeniedexception": 403,
    "resourcenotfoundexception": 404,
    "throttlingexception": 429,
    "servicequotaexceededexception": 429,
    "modeltimeoutexception": 408,
    "internalserverexception": 500,
    "modelstreamerrorexception": 500,
    "serviceunavailableexception": 503,
}
_CONTEXT_OVERFLOW_PATTERN = re.compile(r"exceed(?:s|ed)?(?: customer)? model maximum")


class ErrorFields(NamedTuple):
    """What an error body says: a readable message, a machine code and an error type."""

    message: str
    code: str | None = None
    type: str | None = None


def _truncate(text: str) -> str:
    text = text.strip()
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    return text[:MAX_MESSAGE_CHARS] + "..."


def _optional_text(value: object) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (str, int, float)):
        return str(value) or None
    return None


def _as_message(value: object) -> str:
    if isinstance(value, str):
        return _truncate(value)
    return _truncate(json.dumps(value, ensure_ascii=False, default=str))


def error_fields_from_payload(payload: object) -> ErrorFields:
    """Pull ``(message, code, type)`` out of a decoded JSON error body.

    Understands ``{"error": {"message", "type", "code"}}``, ``{"error": "text"}``,
    ``{"message": ...}``, ``{"detail": ...}`` and a list whose first item is one of those.
    Anything else is rendered as (truncated) JSON.
    """
    if isinstance(payload, list) and payload:
        return error_fields_from_payload(payload[0])
    if not isinstance(payload, Mapping):
        return ErrorFields(_as_message(payload) if payload is not None else "")
    error = payload.get("error")
    if isinstance(error, Mapping):
        message = error.get("message")
        return ErrorFields(
            _as_message(message if message is not None else error),
            _optional_text(error.get("code")),
            _optional_text(error.get("type")),
        )
    if isinstance(error, str) and error:
        return ErrorFields(_truncate(error), _optional_text(payload.get("code")), None)
    for key in ("message", "detail", "html-message"):
        if payload.get(key) is not None:
            return ErrorFields(
                _as_message(payload[key]),
                _optional_text(payload.get("code")),
                _optional_text(payload.get("type")),
            )
    return ErrorFields(_as_message(payload))


def error_fields_from_body(body: bytes | str) -> ErrorFields:
    """Pull ``(message, code, type)`` out of a raw error body (JSON or plain text)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        payload = decode_json(text)
    except ValueError:  # not JSON, or nested too deep to walk: the text is the message
        return ErrorFields(_truncate(text))
    return error_fields_from_payload(payload)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    for key, candidate in headers.items():
        if key.lower() == name:
            return candidate
    return None


def _non_negative_float(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip())
    except ValueError:  # e.g. the HTTP-date form of Retry-After
        return None
    return value if math.isfinite(value) and value >= 0 else None


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait, from ``retry-after-ms``, ``x-ms-retry-after-ms`` or ``retry-after``.

    Millisecond headers win (they are more precise); an HTTP-date ``retry-after`` is ignored.
    """
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        millis = _non_negative_float(_header(headers, name))
        if millis is not None:
            return millis / 1000.0
    return _non_negative_float(_header(headers, "retry-after"))


def _is_rate_limit(status_code: int, code: str | None, lowered: str) -> bool:
    if status_code == 429 or code == "rate_limit_exceeded":
        return True
    return any(phrase in lowered for phrase in _RATE_LIMIT_PHRASES)


def _is_overloaded(status_code: int, lowered: str, error_type: str | None) -> bool:
    if status_code == 529:
        return True
    return status_code == 503 and ("overloaded" in lowered or "overloaded" in (error_type or "").lower())


def _is_context_overflow(code: str | None, lowered: str) -> bool:
    if code == "context_length_exceeded":
        return True
    if any(phrase in lowered for phrase in _CONTEXT_OVERFLOW_PHRASES):
        return True
    return _CONTEXT_OVERFLOW_PATTERN.search(lowered) is not None


def _status_class(status_code: int) -> type[UpstreamError]:
    if status_code in (401, 403):
        return AuthenticationError
    if status_code == 404:
        return NotFoundError
    if 400 <= status_code < 500:
        return BadRequestError
    if 500 <= status_code < 600:
        return ServerError
    return UpstreamError


def _readable_message(provider: str, status_code: int, message: str) -> str:
    if not message:
        try:
            message = f"HTTP {status_code} {HTTPStatus(status_code).phrase}"
        except ValueError:
            message = f"HTTP {status_code}"
    return f"{provider} error: {message}"


def classify_error(
    *,
    provider: str,
    status_code: int,
    message: str,
    code: str | None,
    headers: Mapping[str, str],
    error_type: str | None = None,
    secrets: Iterable[str] = (),
) -> UpstreamError:
    """Classify a provider's error answer as the matching :class:`UpstreamError` subclass.

    Args:
        provider: The provider id, used as the message prefix (``openai error: ...``).
        status_code: The HTTP status (or the one inferred for an in-stream error).
        message: The upstream's message (already extracted from the body).
        code: The upstream's machine-readable code (``context_length_exceeded``), if any.
        headers: Response headers (any case); ``retry-after*`` feed ``RateLimitError.retry_after``.
        error_type: The upstream's error type (``overloaded_error``), if any.
        secrets: Credential values to scrub from the message.
    """
    lowered = message.lower()
    text = scrub(_readable_message(provider, status_code, message), secrets)
    details: dict[str, Any] = {"status_code": status_code, "provider": provider, "code": code}
    if _is_rate_limit(status_code, code, lowered):
        return RateLimitError(text, retry_after=retry_after_seconds(headers), **details)
    if _is_overloaded(status_code, lowered, error_type):
        return OverloadedError(text, **details)
    if 400 <= status_code < 500 and _is_context_overflow(code, lowered):
        return ContextWindowExceededError(text, **details)
    return _status_class(status_code)(text, **details)


def infer_stream_error_status(payload: object, fields: ErrorFields) -> int:
    """Return the HTTP status of an error reported inside a 200 stream (or a 200 body).

    A status the payload carries (``status``, ``status_code``, or a numeric ``error.code``) wins;
    then a known error type (``rate_limit_error``, ``RESOURCE_EXHAUSTED``, ``throttlingException``);
    otherwise overloaded -> 529, rate limit -> 429, anything else -> 500.
    """
    carried = next(iter(_carried_statuses(payload)), None)
    if carried is not None:
        return carried
    typed = _ERROR_TYPE_STATUS.get((fields.type or fields.code or "").lower())
    if typed is not None:
        return typed
    lowered = f"{fields.message} {fields.type or ''}".lower()
    if "overloaded" in lowered:
        return 529
    if _is_rate_limit(0, fields.code, lowered):
        return 429
    return 500


def _carried_statuses(payload: object) -> Iterable[int]:
    if not isinstance(payload, Mapping):
        return
    error = payload.get("error")
    candidates = [payload.get("status_code"), payload.get("status")]
    if isinstance(error, Mapping):
        candidates += [error.get("status_code"), error.get("status"), error.get("code")]
    for value in candidates:
        if isinstance(value, int) and not isinstance(value, bool) and 400 <= value <= 599:
            yield value


def classify_error_response(
    provider: str, status_code: int, headers: Mapping[str, str], body: bytes, *, secrets: Iterable[str] = ()
) -> UpstreamError:
    """Classify a non-2xx HTTP answer from its status, headers and raw body."""
    fields = error_fields_from_body(body)
    return classify_error(
        provider=provider,
        status_code=status_code,
        message=fields.message,
        code=fields.code,
        headers=headers,
        error_type=fields.type,
        secrets=secrets,
    )


def classify_in_band_error(provider: str, payload: object) -> UpstreamError:
    """Classify an error found inside a 2xx body or stream (``{"error": ...}``, ``event: error``)."""
    fields = error_fields_from_payload(payload)
    return classify_error(
        provider=provider,
        status_code=infer_stream_error_status(payload, fields),
        message=fields.message,
        code=fields.code,
        headers={},
        error_type=fields.type,
    )


def classify_error_event(provider: str, data: str) -> UpstreamError:
    """Classify the data of an SSE ``event: error`` (JSON, or plain text taken as the message)."""
    try:
        payload: object = decode_json(data)
    except ValueError:
        payload = {"error": {"message": data}}
    return classify_in_band_error(provider, payload)
