"""Providers registered through ``gw.providers`` that the registry does not know by name.

A config target may name such a provider (``{"provider": "my-vllm"}``): the gateway then calls
its ``baseUrl`` in its API format with the vault's keys for it. The format is OpenAI-compatible
by default, or one of the registry's native formats that work at any base URL
(:data:`API_FORMATS`). A provider the registry knows by name keeps the registry's format: an
``apiFormat`` cannot change what ``anthropic`` speaks.

The routes are a snapshot in the control plane, reloaded with the keys (:meth:`ControlPlane.refresh`),
so resolving a name reads no database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ConfigurationError, InvalidRequestError
from ..providers import get_adapter, host_spec
from ..store.tables import ProviderRow

__all__ = [
    "API_FORMATS",
    "ProviderRoute",
    "builtin_format",
    "check_api_format",
    "load_routes",
    "shown_format",
]

DEFAULT_FORMAT = "openai"
API_FORMATS = (DEFAULT_FORMAT, "anthropic", "google")
"""What a registered provider may speak: OpenAI's chat completions, Anthropic's messages, Gemini's API."""


@dataclass(frozen=True, slots=True)
class ProviderRoute:
    """Where requests naming a registered provider go: its adapter's format and base URL."""

    name: str
    api_format: str
    base_url: str | None
    enabled: bool


def builtin_format(name: str) -> str | None:
    """The format of a provider the registry knows (``None``: it does not know ``name``)."""
    spec = host_spec(name)
    if spec is None:
        return None
    try:
        openai_like = type(get_adapter(name)) is type(get_adapter(DEFAULT_FORMAT))
    except ConfigurationError:  # pragma: no cover - host_spec and get_adapter share one registry
        return None
    return DEFAULT_FORMAT if openai_like else spec.name


def shown_format(name: str, stored: str | None) -> str:
    """The format a provider is spoken to in: the registry's, else the stored one, else OpenAI's."""
    return builtin_format(name) or stored or DEFAULT_FORMAT


def check_api_format(name: str, fields: Mapping[str, Any], *, path: str = "body.apiFormat") -> None:
    """Refuse an unknown ``apiFormat``, or one that contradicts the registry's format for ``name``."""
    api_format = fields.get("api_format")
    if api_format is None:
        return
    if api_format not in API_FORMATS:
        raise InvalidRequestError(
            f"unknown API format {api_format!r}: use one of {', '.join(API_FORMATS)} "
            f"({DEFAULT_FORMAT!r} for any OpenAI-compatible server, the default)",
            path=path,
        )
    known = builtin_format(name)
    if known is not None and known != api_format:
        raise InvalidRequestError(
            f"provider {name!r} is built in and speaks {known!r}; apiFormat is for providers the "
            "gateway does not know by name (give this one another name to use another format)",
            path=path,
        )


def load_routes(session: Session) -> Mapping[str, ProviderRoute]:
    """Every stored provider the registry does not know by name, by name (read-only)."""
    routes = {
        row.name: ProviderRoute(row.name, row.api_format or DEFAULT_FORMAT, row.base_url, row.enabled)
        for row in session.scalars(select(ProviderRow))
        if host_spec(row.name) is None
    }
    return MappingProxyType(routes)
