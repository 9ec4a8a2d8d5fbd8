"""Where a leaf of the plan sends its requests: its adapter and its :class:`Target`.

A leaf names a provider directly (``provider`` + ``api_key`` / the provider's environment key /
``custom_host``), or only a ``virtual_key``, which Portkey's gateway resolves when it is not known
locally. Provider-specific fields of the leaf (``aws_region``, ``azure_api_version``,
``openai_organization``...) travel unchanged in ``Target.options``; adapters read what they need.
This runs once per leaf at construction, so a missing key or URL fails before any request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .config.client_args import PortkeyAccess, require_portkey_key
from .config.plan import LeafPlan
from .errors import ConfigurationError
from .providers import get_adapter, host_spec
from .providers.base import Adapter, Target
from .providers.portkey import portkey_headers
from .wire import Secret

__all__ = ["TargetResolver"]

_OPENAI_HEADERS = {"openai_organization": "openai-organization", "openai_project": "openai-project"}


class TargetResolver:
    """Resolves plan leaves to ``(adapter, target)`` pairs for one gateway."""

    def __init__(self, env: Mapping[str, str], portkey: PortkeyAccess) -> None:
        self._env = env
        self._portkey = portkey

    def resolve(self, leaf: LeafPlan) -> tuple[Adapter, Target]:
        """The adapter and target for ``leaf``; ConfigurationError naming the leaf's path if none."""
        if leaf.provider is None and leaf.virtual_key is None:
            raise ConfigurationError(
                "a target needs a 'provider' (e.g. 'openai') or a 'virtual_key'", path=leaf.path
            )
        if leaf.provider == "portkey" or leaf.provider is None:
            return get_adapter("portkey"), self._portkey_target(leaf)
        try:
            adapter = get_adapter(leaf.provider)
        except ConfigurationError as error:
            raise ConfigurationError(error.reason, path=f"{leaf.path}.provider") from None
        return adapter, self._direct_target(leaf, adapter)

    def _direct_target(self, leaf: LeafPlan, adapter: Adapter) -> Target:
        assert leaf.provider is not None
        spec = host_spec(leaf.provider)
        base_url = leaf.custom_host or (spec.base_url if spec else None)
        api_key = leaf.api_key
        if api_key is None and spec is not None and spec.api_key_env and self._env.get(spec.api_key_env):
            api_key = Secret(self._env[spec.api_key_env])
        if api_key is None and spec is not None and spec.requires_key and not leaf.custom_host:
            raise ConfigurationError(
                f"no API key for provider {leaf.provider!r}: set 'api_key' on the target "
                f"(client_args 'Authorization') or the {spec.api_key_env} environment variable",
                path=f"{leaf.path}.api_key",
            )
        headers = {
            header: str(leaf.extras[key]) for key, header in _OPENAI_HEADERS.items() if leaf.extras.get(key)
        }
        target = Target(
            provider=leaf.provider,
            base_url=(base_url or "").rstrip("/"),
            api_key=api_key,
            headers=headers,
            options=dict(leaf.extras),
        )
        try:  # native providers derive their URL and credentials from their own fields
            target = adapter.prepare_target(target, self._env)
        except ConfigurationError as error:
            raise ConfigurationError(error.reason, path=f"{leaf.path}.{error.path or 'provider'}") from None
        if not target.base_url:
            raise ConfigurationError(
                f"provider {leaf.provider!r} has no default URL: set 'custom_host'",
                path=f"{leaf.path}.custom_host",
            )
        return target

    def _portkey_target(self, leaf: LeafPlan) -> Target:
        portkey = self._portkey
        if leaf.virtual_key is not None:
            require_portkey_key(
                portkey,
                f"virtual key {leaf.virtual_key!r} is not in the local vault, "
                "so Portkey's gateway must resolve it",
                f"{leaf.path}.virtual_key",
            )
        forwarded: dict[str, Any] = dict(portkey.forwarded) if leaf.provider == "portkey" else {}
        if leaf.virtual_key is not None:
            forwarded["virtual_key"] = leaf.virtual_key
        return Target(
            provider="portkey",
            base_url=(
                leaf.custom_host if leaf.provider == "portkey" and leaf.custom_host else portkey.base_url
            ),
            api_key=portkey.api_key,
            headers=portkey_headers(forwarded),
        )
