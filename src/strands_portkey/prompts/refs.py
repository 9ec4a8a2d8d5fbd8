"""Prompt references: ``name`` / ``pp-id`` (production), ``name@12``, ``name@latest``, ``name@staging``.

The same grammar names a prompt everywhere: ``gw.prompts``, ``PortkeyModel(prompt=...)``, a
config target's ``prompt_id``, the server's ``/v1/prompts/{id}`` and Mustache partials
(``{{>name@3}}``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import GatewayError, InvalidRequestError

__all__ = ["DEFAULT_LABELS", "LATEST", "PRODUCTION", "PromptRef", "check_label", "check_name", "parse_ref"]

PRODUCTION = "production"
LATEST = "latest"
DEFAULT_LABELS = ("production", "staging", "development")

Fail = Callable[..., GatewayError]  # InvalidRequestError or ConfigurationError (message, path=...)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}$")  # no '/': names go in URL paths
_LABEL = re.compile(r"^[a-z][a-z0-9_\-]{0,99}$")


@dataclass(frozen=True, slots=True)
class PromptRef:
    """A parsed reference: the prompt (id or name) and exactly one of a version or a label."""

    prompt: str
    version: int | None = None
    label: str | None = None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.prompt}@{self.version}"
        return self.prompt if self.label in (None, PRODUCTION) else f"{self.prompt}@{self.label}"


def check_name(name: object, path: str = "name", error: Fail = InvalidRequestError) -> str:
    """A prompt name: letters, digits, ``_ . -``; no ``@`` (it separates the version)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise error(
            f"expected a prompt name of letters, digits, '_', '.', '-' (no '@' or '/'), got {name!r}",
            path=path,
        )
    return name


def check_label(label: object, path: str = "label") -> str:
    """A label name (lower case); ``latest`` is reserved: it always follows the newest version."""
    if not isinstance(label, str) or not _LABEL.match(label):
        raise InvalidRequestError(f"expected a lower-case label such as 'staging', got {label!r}", path=path)
    if label == LATEST:
        raise InvalidRequestError("'latest' always follows the newest version and cannot be moved", path=path)
    return label


def parse_ref(ref: object, path: str = "prompt", error: Fail = InvalidRequestError) -> PromptRef:
    """Parse ``name``, ``pp-id``, ``name@12``, ``name@latest`` or ``name@label``.

    ``error``: the exception raised (``ConfigurationError`` where a config or a model names it).
    """
    if not isinstance(ref, str) or not ref.strip():
        raise error(f"expected a prompt reference such as 'support-bot@staging', got {ref!r}", path=path)
    prompt, at, suffix = ref.strip().partition("@")
    check_name(prompt, path, error)
    if not at:
        return PromptRef(prompt, label=PRODUCTION)
    if suffix.isdigit():
        version = int(suffix)
        if version < 1:
            raise error(f"versions start at 1, got {ref!r}", path=path)
        return PromptRef(prompt, version=version)
    if suffix == LATEST:
        return PromptRef(prompt, label=LATEST)
    if not _LABEL.match(suffix):
        raise error(
            f"expected 'name@<version>', 'name@latest' or 'name@<label>' after '@', got {ref!r}", path=path
        )
    return PromptRef(prompt, label=suffix)
