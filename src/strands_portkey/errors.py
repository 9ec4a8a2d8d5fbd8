"""The one exception tree of strands-agents-portkey.

Every error the gateway raises is a :class:`GatewayError`. Provider and HTTP errors are mapped
into it once, at the boundary where they happen (the transport for network failures, the adapter
for a provider's error body); nothing else in the code base inspects raw provider errors.

::

    GatewayError                         status_code, provider, option_index, code
    ├── ConfigurationError (ValueError)  bad config / client_args / model config; .path names the field
    ├── InvalidRequestError (ValueError) a request that cannot be sent (missing model, bad messages)
    ├── UpstreamError                    the provider answered with an error status
    │   ├── BadRequestError              400, 422 and other 4xx not listed below
    │   │   └── ContextWindowExceededError   the prompt does not fit the model's context
    │   ├── AuthenticationError          401, 403
    │   ├── NotFoundError                404 (unknown model or path)
    │   ├── RateLimitError               429 (throttling); .retry_after in seconds when given
    │   ├── OverloadedError              529, or 503 "overloaded" (throttling)
    │   └── ServerError                  5xx
    ├── UpstreamConnectionError          could not reach the provider (refused, DNS, TLS, reset)
    ├── RequestTimeoutError              an attempt exceeded its timeout (status 408, as Portkey)
    ├── MalformedResponseError           the provider's answer could not be parsed (non-JSON, bad SSE)
    ├── StreamInterruptedError           a stream broke or ended early after chunks were delivered
    ├── RequestCancelledError            the caller cancelled the request
    ├── GatewayOverloadedError           this gateway's own admission queue or connection pool was full (503)
    ├── GuardrailDeniedError             a ``deny`` guardrail hook failed (446); .hook_results
    └── ControlPlaneError                the vault, catalog or store refused or failed
        ├── ResourceNotFoundError (LookupError)  no provider / key / rate with that id or name (404)
        ├── ConflictError                a unique name is taken (409)
        ├── PermissionDeniedError        the acting user may not see or use a registered model (403)
        ├── CredentialRejectedError      the provider refused a credential being saved (400)
        ├── CredentialsUnavailableError  a provider has no active credential left (503)
        ├── LimitExceededError           a local rate limit (test_models); .retry_after seconds (429)
        │   └── RateLimitExceededError   a gateway API key's rate limit; .retry_after, .limit (429)
        ├── BudgetExceededError          a gateway API key's usage limit is spent; .limit (412)
        ├── LimitsUnavailableError       the limits' shared state (Redis) cannot be reached (503)
        ├── InvalidApiKeyError           a gateway API key unknown, malformed, revoked or expired (401)
        ├── StoreError                   the database failed (unreachable, migration, corrupted row)
        └── VaultError                   a secret cannot be decrypted
            ├── MasterKeyError           master key missing, malformed, or not the one used
            └── DecryptionError          a ciphertext was altered, corrupted or moved to another row

Throttling (:class:`RateLimitError`, :class:`OverloadedError`) and context overflow
(:class:`ContextWindowExceededError`) are the classes Strands acts on; the codec turns them into
``ModelThrottledException`` and ``ContextWindowOverflowException`` with ``__cause__`` kept.

Messages never contain credentials: adapters scrub known secret values from upstream text before
an error is built (see :func:`scrub`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .hook_results import HookResults
    from .route_info import RouteInfo

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceededError",
    "ConfigurationError",
    "ConflictError",
    "ContextWindowExceededError",
    "ControlPlaneError",
    "CredentialRejectedError",
    "CredentialsUnavailableError",
    "DecryptionError",
    "GatewayError",
    "GatewayOverloadedError",
    "GuardrailDeniedError",
    "InvalidApiKeyError",
    "InvalidRequestError",
    "LimitExceededError",
    "LimitsUnavailableError",
    "MalformedResponseError",
    "MasterKeyError",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "RateLimitError",
    "RateLimitExceededError",
    "RequestCancelledError",
    "RequestTimeoutError",
    "ResourceNotFoundError",
    "ServerError",
    "StoreError",
    "StreamInterruptedError",
    "UpstreamConnectionError",
    "UpstreamError",
    "VaultError",
    "scrub",
]

_REDACTED = "[REDACTED]"


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of each secret (and its ``Bearer`` form) in ``text``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, _REDACTED)
    return text


class GatewayError(Exception):
    """Root of every error raised by the gateway.

    Attributes:
        message: A clean, human-readable explanation (no credentials).
        status_code: The HTTP status the error corresponds to (Portkey's conventions), if any.
        provider: The provider that produced the error, if any.
        option_index: The config path of the target that failed (``config.targets[1]``), if any.
        code: The provider's machine-readable error code (``context_length_exceeded``), if any.
        route: How the request was routed up to the failure (every attempt made); set by the
            ``Gateway`` on every error it raises for a request.
        failures: When several targets were tried (fallback), the final error of each, in the
            order tried; this error is the last of them. Empty when only one target was tried.
    """

    default_status: int | None = None
    route: RouteInfo | None = None
    failures: tuple[GatewayError, ...] = ()

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        provider: str | None = None,
        option_index: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code if status_code is not None else self.default_status
        self.provider = provider
        self.option_index = option_index
        self.code = code

    def __str__(self) -> str:
        where = []
        if self.provider:
            where.append(f"provider={self.provider}")
        if self.status_code is not None:
            where.append(f"status={self.status_code}")
        if self.option_index:
            where.append(f"target={self.option_index}")
        return f"{self.message} ({', '.join(where)})" if where else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class ConfigurationError(GatewayError, ValueError):
    """A config, ``client_args`` or model setting is invalid.

    ``path`` names the field (``config.targets[0].weight``); ``reason`` is the message without it,
    so a caller that knows a longer path can re-raise with ``path=longer, message=reason``.
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.reason = message


class InvalidRequestError(GatewayError, ValueError):
    """A request the gateway refuses to send. ``path`` names the field (``request.model``)."""

    default_status = 400

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


class UpstreamError(GatewayError):
    """The provider answered with an error status."""


class BadRequestError(UpstreamError):
    """The provider rejected the request (400, 422, other 4xx)."""

    default_status = 400


class ContextWindowExceededError(BadRequestError):
    """The prompt (plus ``max_tokens``) exceeds the model's context window."""


class AuthenticationError(UpstreamError):
    """The credential was refused (401) or lacks permission (403)."""

    default_status = 401


class NotFoundError(UpstreamError):
    """The model or endpoint does not exist at this provider (404)."""

    default_status = 404


class RateLimitError(UpstreamError):
    """The provider throttled the request (429). ``retry_after`` is in seconds, when sent."""

    default_status = 429

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class OverloadedError(UpstreamError):
    """The provider is overloaded (529, or a 503 that says so); treated as throttling."""

    default_status = 529


class ServerError(UpstreamError):
    """The provider failed (5xx)."""

    default_status = 500


class UpstreamConnectionError(GatewayError):
    """The provider could not be reached (connection refused, DNS, TLS, reset before a response)."""

    default_status = 500


class RequestTimeoutError(GatewayError):
    """An attempt took longer than its timeout (408, as Portkey reports ``request_timeout``)."""

    default_status = 408


class MalformedResponseError(GatewayError):
    """The provider's answer could not be understood (not JSON, not the expected shape, bad SSE)."""

    default_status = 502


class StreamInterruptedError(GatewayError):
    """A stream ended or broke before it was complete. Never reported as a finished answer."""

    default_status = 502


class RequestCancelledError(GatewayError):
    """The caller cancelled the request (e.g. a Strands ``cancel_signal``)."""

    default_status = 499


class GatewayOverloadedError(GatewayError):
    """The gateway's own capacity ran out: no admission slot or pooled connection in time (503).

    Raised before the upstream was asked anything, so it says nothing about the upstream: retry
    and fallback stop here (another target would wait on the same pool). Raise
    ``TransportSettings.max_connections`` / ``max_in_flight``, or ``admission_timeout``.
    """

    default_status = 503


class GuardrailDeniedError(GatewayError):
    """A guardrail hook with ``deny: true`` failed: Portkey's 446 (``hooks_failed``).

    ``hook_results`` holds every hook run so far; ``stage`` says whether the request was blocked
    before the upstream call (``"input"``: no call was made) or its answer after (``"output"``).
    Fallback moves on to the next target and ``retry`` re-issues the call when 446 is listed.
    """

    default_status = 446

    def __init__(self, message: str, *, hook_results: HookResults, stage: str, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.hook_results = hook_results
        self.stage = stage


# --------------------------------------------------------------------------- control plane (vault, catalog)


class ControlPlaneError(GatewayError):
    """The credential vault, the catalog or their database refused or failed an operation."""

    default_status = 500


class ResourceNotFoundError(ControlPlaneError, LookupError):
    """No provider, provider key or model rate has that id (or name)."""

    default_status = 404


class ConflictError(ControlPlaneError):
    """A name that must be unique (provider name, key name, rate per provider and model) is taken."""

    default_status = 409


class PermissionDeniedError(ControlPlaneError):
    """The acting user may not use or change a registered model (not its owner, not shared with them)."""

    default_status = 403


class CredentialRejectedError(ControlPlaneError):
    """The provider refused a credential while it was being validated; nothing was saved."""

    default_status = 400


class CredentialsUnavailableError(ControlPlaneError):
    """Every credential of a provider is disabled or inactive (or it has none)."""

    default_status = 503


class LimitExceededError(ControlPlaneError):
    """A local rate limit was hit (``test_models``). ``retry_after`` is the wait in seconds."""

    default_status = 429

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimitExceededError(LimitExceededError):
    """A gateway API key is over one of its rate limits: 429 with ``Retry-After`` (``retry_after`` s).

    ``limit`` names the limit (``rate_limits[0] (60 requests per minute)``); never the key itself.
    """

    def __init__(self, message: str, *, retry_after: float, limit: str) -> None:
        super().__init__(message, retry_after=retry_after)
        self.limit = limit
        self.code = "rate_limit_exceeded"


class BudgetExceededError(ControlPlaneError):
    """A gateway API key's usage limit (a cost or token budget) is spent: Portkey's 412.

    ``limit`` names it (``usage_limits[0] (cost 10 per month)``). Retrying does not help until
    the period resets or the limit is raised.
    """

    default_status = 412

    def __init__(self, message: str, *, limit: str) -> None:
        super().__init__(message, code="budget_exceeded")
        self.limit = limit


class LimitsUnavailableError(ControlPlaneError):
    """The shared state of the limits (Redis) could not be reached and the engine fails closed (503)."""

    default_status = 503


class InvalidApiKeyError(ControlPlaneError):
    """A gateway API key is missing, malformed, unknown, revoked or expired (401).

    The message says which of these, never the presented key.
    """

    default_status = 401


class StoreError(ControlPlaneError):
    """The database could not be opened, migrated or read (a corrupted row included)."""


class VaultError(ControlPlaneError):
    """A stored secret cannot be encrypted or decrypted. Never followed by a plaintext fallback."""


class MasterKeyError(VaultError):
    """The master key is missing, malformed, unreadable, or not the key the data was encrypted with."""


class DecryptionError(VaultError):
    """A ciphertext failed its integrity check: altered, corrupted, or copied from another credential."""


def kind_of(error: BaseException) -> str | None:
    """The name of the nearest class of this tree that ``error`` is an instance of, or None.

    What the admin API sends as an error's ``kind``, so the remote client raises the same class.
    """
    for cls in type(error).__mro__:
        if cls.__module__ == __name__ and issubclass(cls, GatewayError):
            return cls.__name__
    return None
