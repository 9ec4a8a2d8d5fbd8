"""Credential types, their fields, and masked display (pure; no database, no crypto).

========================  =====================================  ===========================
type                      secret (encrypted)                     in clear
========================  =====================================  ===========================
``api_key``               ``api_key``                            -
``access_key_pair``       ``secret_access_key``, ``session_token``  ``access_key_id``
``custom``                every value of ``value`` (a dict)      -
========================  =====================================  ===========================

A body may give the secret at the top level (``{"api_key": "sk-..."}``) or, as the providers API
does, in ``value`` (a string for ``api_key``, an object otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidRequestError
from ..wire import Secret

__all__ = ["CREDENTIAL_TYPES", "CredentialSecret", "CredentialSpec", "mask", "parse_credential"]

CREDENTIAL_TYPES = ("api_key", "access_key_pair", "custom")
_SHOWN = 4
_MAX_STARS = 16
_MIN_SHOWN_LENGTH = 20


def mask(value: str) -> str:
    """``sk-p****************wxyz``: first and last 4 characters, at most 16 stars between.

    Values shorter than 20 characters show only ``***``: revealing 8 characters of a short
    secret would reveal too much of it.
    """
    if len(value) < _MIN_SHOWN_LENGTH:
        return "***"
    return value[:_SHOWN] + "*" * min(_MAX_STARS, len(value) - 2 * _SHOWN) + value[-_SHOWN:]


@dataclass(frozen=True, slots=True)
class CredentialSpec:
    """A validated credential to store: its type, secret fields and clear identifiers."""

    credential_type: str
    secrets: Mapping[str, str] = field(repr=False)
    identifiers: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        names = sorted(self.secrets)
        return f"CredentialSpec({self.credential_type!r}, secrets={names}, masked={self.masked!r})"

    @property
    def masked(self) -> str:
        """The display form of the secret (identifiers shown in clear)."""
        if self.credential_type == "api_key":
            return mask(self.secrets["api_key"])
        if self.credential_type == "access_key_pair":
            return f"{self.identifiers['access_key_id']}:{mask(self.secrets['secret_access_key'])}"
        return ", ".join(f"{name}={mask(value)}" for name, value in sorted(self.secrets.items()))


@dataclass(frozen=True, slots=True)
class CredentialSecret:
    """A decrypted credential, ready for the one outgoing request that needs it."""

    credential_type: str
    secrets: Mapping[str, Secret]
    identifiers: Mapping[str, str] = field(default_factory=dict)

    @property
    def api_key(self) -> Secret | None:
        """The bearer-style key: ``api_key`` for that type, else ``None``."""
        return self.secrets.get("api_key")


def _text(body: Mapping[str, Any], name: str, path: str, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise InvalidRequestError(f"missing: this credential type needs a non-empty {name!r}", path=path)
        return None
    if not isinstance(value, str):
        raise InvalidRequestError(f"expected a string, got {type(value).__name__}", path=path)
    if value != value.strip():
        raise InvalidRequestError("has leading or trailing whitespace (a copy-paste slip?)", path=path)
    return value


def _fields(body: Mapping[str, Any], path: str) -> tuple[Mapping[str, Any], str]:
    """Where the credential's fields are: ``value`` when it is an object, else the body itself."""
    value = body.get("value")
    if isinstance(value, Mapping):
        return value, f"{path}.value"
    return body, path


def parse_credential(body: Mapping[str, Any], *, path: str = "body") -> CredentialSpec:
    """Validate a credential's type and fields; errors name the field and the fix."""
    credential_type = body.get("credential_type", body.get("credentialType", "api_key"))
    if credential_type not in CREDENTIAL_TYPES:
        raise InvalidRequestError(
            f"unknown credential type {credential_type!r}: use one of {', '.join(CREDENTIAL_TYPES)}",
            path=f"{path}.credential_type",
        )
    fields, where = _fields(body, path)
    if credential_type == "api_key":
        raw = body.get("value") if isinstance(body.get("value"), str) else None
        source = {"api_key": raw} if raw is not None and "api_key" not in body else fields
        key = _text(source, "api_key", f"{where}.api_key", required=True)
        assert key is not None
        return CredentialSpec("api_key", {"api_key": key})
    if credential_type == "access_key_pair":
        key_id = _text(fields, "access_key_id", f"{where}.access_key_id", required=True)
        secret = _text(fields, "secret_access_key", f"{where}.secret_access_key", required=True)
        token = _text(fields, "session_token", f"{where}.session_token", required=False)
        assert key_id is not None
        assert secret is not None
        secrets = {"secret_access_key": secret, **({"session_token": token} if token else {})}
        return CredentialSpec("access_key_pair", secrets, {"access_key_id": key_id})
    return _custom(body, path)


def _custom(body: Mapping[str, Any], path: str) -> CredentialSpec:
    value = body.get("value")
    if not isinstance(value, Mapping) or not value:
        raise InvalidRequestError(
            "missing: a custom credential needs 'value', an object of secret fields "
            '(e.g. {"token": "...", "tenant_secret": "..."})',
            path=f"{path}.value",
        )
    secrets: dict[str, str] = {}
    for name in value:
        if not isinstance(name, str) or not name:
            raise InvalidRequestError("field names must be non-empty strings", path=f"{path}.value")
        text = _text(value, name, f"{path}.value.{name}", required=True)
        assert text is not None
        secrets[name] = text
    return CredentialSpec("custom", secrets)
