"""Provider adapters: pure translators between canonical types and each provider's HTTP API.

The registry maps a provider id (Portkey's provider slug, or an alias) to its adapter and its
:class:`HostSpec` (default base URL, key variable). It is built once, at import, as a read-only
mapping; adapters are stateless, so one instance per provider serves every gateway.

Adding an OpenAI-compatible host is one row in
:data:`~strands_portkey.providers.hosts.OPENAI_COMPATIBLE_HOSTS`; adding a native
provider is one module and one line in ``_NATIVE_PROVIDERS`` below.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from ..errors import ConfigurationError
from .anthropic import ANTHROPIC_HOST, AnthropicAdapter
from .azure import AZURE_HOST, AzureOpenAIAdapter
from .base import Adapter, StreamParser, Target
from .bedrock import BEDROCK_HOST, BedrockAdapter
from .gemini import GEMINI_HOST, GeminiAdapter
from .openai_compat import OPENAI_COMPATIBLE_HOSTS, HostSpec, OpenAICompatAdapter
from .portkey import PORTKEY_HOST, PortkeyAdapter

__all__ = [
    "Adapter",
    "HostSpec",
    "StreamParser",
    "Target",
    "get_adapter",
    "host_spec",
    "known_providers",
]


class _Entry(NamedTuple):
    spec: HostSpec
    adapter: Adapter


_NATIVE_PROVIDERS: tuple[_Entry, ...] = (
    _Entry(PORTKEY_HOST, PortkeyAdapter()),
    _Entry(ANTHROPIC_HOST, AnthropicAdapter()),
    _Entry(BEDROCK_HOST, BedrockAdapter()),
    _Entry(AZURE_HOST, AzureOpenAIAdapter()),
    _Entry(GEMINI_HOST, GeminiAdapter()),
)


def _build_registry() -> Mapping[str, _Entry]:
    entries = [
        _Entry(
            spec,
            OpenAICompatAdapter(spec.name, spec.base_url, accepts_null_content=spec.accepts_null_content),
        )
        for spec in OPENAI_COMPATIBLE_HOSTS
    ]
    entries += _NATIVE_PROVIDERS
    registry: dict[str, _Entry] = {}
    for entry in entries:
        for provider_id in (entry.spec.name, *entry.spec.aliases):
            if provider_id in registry:
                raise RuntimeError(f"provider id {provider_id!r} is registered twice")
            registry[provider_id] = entry
    return MappingProxyType(registry)


_REGISTRY = _build_registry()
_KNOWN = tuple(sorted({entry.spec.name for entry in _REGISTRY.values()}))


def _normalise(provider: str) -> str:
    return provider.strip().lower()


def known_providers() -> tuple[str, ...]:
    """Return the canonical provider ids, sorted (aliases not included)."""
    return _KNOWN


def host_spec(provider: str) -> HostSpec | None:
    """Return the :class:`HostSpec` of ``provider`` (aliases resolved), or ``None`` if unknown."""
    entry = _REGISTRY.get(_normalise(provider))
    return entry.spec if entry is not None else None


def get_adapter(provider: str) -> Adapter:
    """Return the adapter for ``provider`` (aliases resolved, case-insensitive).

    Raises:
        ConfigurationError: ``provider`` is unknown; the message suggests close matches and
            lists every known id.
    """
    entry = _REGISTRY.get(_normalise(provider))
    if entry is None:
        raise ConfigurationError(_unknown_provider_message(provider), path="provider")
    return entry.adapter


def _unknown_provider_message(provider: str) -> str:
    matches = difflib.get_close_matches(_normalise(provider), list(_REGISTRY), n=3, cutoff=0.6)
    suggestions = list(dict.fromkeys(_REGISTRY[match].spec.name for match in matches))
    hint = f" Did you mean {' or '.join(repr(name) for name in suggestions)}?" if suggestions else ""
    return (
        f"unknown provider {provider!r}.{hint} Known providers: {', '.join(_KNOWN)}. "
        "For any other OpenAI-compatible server, use 'openai' (or 'vllm' when it needs no key) "
        "with a custom_host."
    )
