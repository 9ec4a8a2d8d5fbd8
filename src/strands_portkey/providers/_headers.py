"""Header helpers shared by the HTTP adapters: content negotiation and which values are secrets."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["SECRET_HEADER_NAMES", "content_headers", "merge_headers", "secret_header_values"]

SECRET_HEADER_NAMES = frozenset(
    {"authorization", "api-key", "x-api-key", "x-goog-api-key", "x-portkey-api-key"}
    | {"x-portkey-aws-secret-access-key", "x-portkey-aws-session-token", "x-amz-security-token"}
)
"""Lower-cased header names whose values are credentials (listed in ``HttpRequest.secrets``)."""


def secret_header_values(headers: Mapping[str, str]) -> tuple[str, ...]:
    """Return the credential values among ``headers`` (lower-cased names), without ``Bearer`` prefixes."""
    secrets: list[str] = []
    for name, value in headers.items():
        if name in SECRET_HEADER_NAMES and value:
            token = value[7:] if value[:7].lower() == "bearer " else value
            if token and token not in secrets:
                secrets.append(token)
    return tuple(secrets)


def content_headers(*, stream: bool) -> dict[str, str]:
    """``content-type`` and ``accept`` for a JSON request answered as JSON or as an SSE stream."""
    return {
        "content-type": "application/json",
        "accept": "text/event-stream" if stream else "application/json",
    }


def merge_headers(headers: dict[str, str], extra: Mapping[str, str]) -> None:
    """Add ``extra`` over ``headers`` in place; names are compared and stored lower-cased."""
    for name, value in extra.items():
        headers[name.lower()] = value
