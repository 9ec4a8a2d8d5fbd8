"""What ``client.providers`` and ``client.providers.rates`` share: paths, limits, JSON decoding.

The server's JSON is read back into ``gw.providers``' dataclasses (through the one codec both faces use,
:mod:`~strands_portkey.controlplane.provider_json`), an answer without the fields it needs being a
:class:`~strands_portkey.errors.MalformedResponseError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ..controlplane import provider_json
from ..controlplane.rates_api import ModelRate
from ..controlplane.views import Provider, ProviderKey, ProviderKeyTestResult
from ..errors import InvalidRequestError, MalformedResponseError

__all__ = [
    "BASE",
    "MAX_PAGE",
    "check_from_json",
    "check_limit",
    "credential_body",
    "credential_from_json",
    "object_of",
    "provider_from_json",
    "rate_from_json",
    "validate_query",
]

T = TypeVar("T")
BASE = "/api/ai-providers"
MAX_PAGE = 1000


def _decoded(decode: Callable[[Mapping[str, Any]], T], answer: Any) -> T:
    """``decode(answer)``; an answer without the fields it needs is a :class:`MalformedResponseError`."""
    try:
        return decode(object_of(answer))
    except (KeyError, TypeError, ValueError, ArithmeticError) as error:
        raise MalformedResponseError(f"the server's answer is not what was expected ({error!r})") from None


def provider_from_json(answer: Any) -> Provider:
    """A :class:`Provider` from the server's JSON."""
    return _decoded(provider_json.provider_from_json, answer)


def credential_from_json(answer: Any) -> ProviderKey:
    """A :class:`ProviderKey` from the server's JSON."""
    return _decoded(provider_json.credential_from_json, answer)


def rate_from_json(answer: Any) -> ModelRate:
    """A :class:`ModelRate` from the server's JSON."""
    return _decoded(provider_json.rate_from_json, answer)


def check_from_json(answer: Any) -> ProviderKeyTestResult:
    """A :class:`ProviderKeyTestResult` from the server's JSON."""
    return _decoded(provider_json.check_from_json, answer)


def object_of(answer: Any) -> Mapping[str, Any]:
    """``answer`` when it is a JSON object; a :class:`MalformedResponseError` otherwise."""
    if not isinstance(answer, dict):
        raise MalformedResponseError("expected a JSON object from the server")
    return answer


def credential_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """``gw.providers``' credential body as the API reads it.

    ``is_active`` is ``active`` there, and a secret given in separate fields (``api_key``, or
    ``access_key_id`` / ``secret_access_key`` / ``session_token``) is its ``value``.
    """
    if not isinstance(body, Mapping):
        raise InvalidRequestError(f"expected an object, got {type(body).__name__}", path="body")
    out = dict(body)
    if "is_active" in out:
        out["active"] = out.pop("is_active")
    pair = {
        name: out.pop(name) for name in ("access_key_id", "secret_access_key", "session_token") if name in out
    }
    if "api_key" in out and "value" not in out:
        out["value"] = out.pop("api_key")
    if pair and "value" not in out:
        out["value"] = pair
    return out


def validate_query(validate: bool | None) -> dict[str, Any]:
    """The ``?validate=`` of a credential write (nothing: the server's own setting)."""
    return {} if validate is None else {"validate": validate}


def check_limit(limit: int) -> None:
    """Refuse a page size outside 1..1000 as ``gw.providers.rates`` does (path ``limit``)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= MAX_PAGE:
        raise InvalidRequestError(f"expected a page size from 1 to {MAX_PAGE}", path="limit")
