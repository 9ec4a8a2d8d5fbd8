"""Where a leaf of the plan sends its requests: its adapter and its :class:`Target`.

A leaf names a provider directly (``provider`` + ``api_key`` / the provider's environment key /
``custom_host``), or a ``virtual_key``: the id or name of a key in the local vault (then that
provider is called directly with the stored credential), else resolved by Portkey's gateway.
A provider name the registry does not know may be one registered in the control plane
(``gw.providers.create({"name": "my-vllm", "baseUrl": ...})``): its ``baseUrl``, in its API
format, with the vault's keys for it.
Provider-specific fields of the leaf (``aws_region``, ``azure_api_version``,
``openai_organization``...) travel unchanged in ``Target.options``; adapters read what they need.
This runs once per leaf at construction, so a missing key or URL fails before any request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from .config.client_args import PortkeyAccess, require_portkey_key
from .config.host_url import host_url_problem
from .config.plan import LeafPlan
from .errors import ConfigurationError
from .providers import get_adapter, host_spec
from .providers.base import Adapter, Target
from .providers.portkey import portkey_headers
from .rotation import with_credential
from .wire import Secret

if TYPE_CHECKING:  # the vault loads only when a gateway has one
    from .vault.selector import SelectedCredential

__all__ = ["ProviderRoute", "RegisteredProviders", "TargetResolver", "VirtualKeyLookup"]

VirtualKeyLookup = Callable[[str], "SelectedCredential | None"]
"""Finds a stored key by id or name in the local vault (``None``: not there)."""


class ProviderRoute(Protocol):
    """A provider registered in the control plane under a name the registry does not know."""

    @property
    def name(self) -> str:
        """Its name, as configs write it."""
        ...

    @property
    def api_format(self) -> str:
        """The registry adapter that speaks its API (``openai``, ``anthropic``, ``google``)."""
        ...

    @property
    def base_url(self) -> str | None:
        """Where it is served."""
        ...

    @property
    def enabled(self) -> bool:
        """Whether it serves."""
        ...


RegisteredProviders = Callable[[str], Mapping[str, ProviderRoute]]
"""The registered providers by name; the argument is the name being looked up (a miss may reload)."""

_OPENAI_HEADERS = {"openai_organization": "openai-organization", "openai_project": "openai-project"}


class TargetResolver:
    """Resolves plan leaves to ``(adapter, target)`` pairs for one gateway."""

    def __init__(
        self,
        env: Mapping[str, str],
        portkey: PortkeyAccess,
        virtual_keys: VirtualKeyLookup | None = None,
        vault_has_keys: Callable[[str], bool] | None = None,
        registered: RegisteredProviders | None = None,
    ) -> None:
        self._env = env
        self._portkey = portkey
        self._virtual_keys = virtual_keys
        self._vault_has_keys = vault_has_keys
        self._registered = registered

    @staticmethod
    def may_rotate(leaf: LeafPlan) -> bool:
        """Whether ``leaf`` may take its key from the vault: it names a provider (not Portkey), no key.

        Such a leaf prefers the vault's keys for its provider, whenever there are any, over the
        provider's environment variable.
        """
        return (
            leaf.provider is not None
            and leaf.provider != "portkey"
            and leaf.api_key is None
            and leaf.virtual_key is None
        )

    def rotates(self, leaf: LeafPlan) -> bool:
        """Whether ``leaf`` may rotate and the local vault holds keys for its provider now."""
        return (
            self.may_rotate(leaf)
            and leaf.provider is not None
            and self._vault_has_keys is not None
            and self._vault_has_keys(leaf.provider)
        )

    def resolve(self, leaf: LeafPlan) -> tuple[Adapter, Target]:
        """The adapter and target for ``leaf``; ConfigurationError naming the leaf's path if none."""
        if leaf.provider is None and leaf.virtual_key is None:
            raise ConfigurationError(
                f"override_params.model {leaf.override_params.get('model')!r} is not a registered model "
                "(see gw.ai.models.list()), so this target needs a 'provider' "
                "(e.g. 'openai') or a 'virtual_key'",
                path=leaf.path,
            )
        if leaf.virtual_key is not None and leaf.provider != "portkey" and self._virtual_keys is not None:
            stored = self._virtual_keys(leaf.virtual_key)
            if stored is not None:
                return self._vault_target(leaf, stored)
        if leaf.provider == "portkey" or leaf.provider is None:
            return get_adapter("portkey"), self._portkey_target(leaf)
        try:
            adapter = get_adapter(leaf.provider)
        except ConfigurationError as error:
            route = self._route(leaf.provider, error.reason, f"{leaf.path}.provider")
            return self._registered_target(leaf, route)
        return adapter, self._direct_target(leaf, adapter)

    def _route(self, provider: str, unknown: str, path: str) -> ProviderRoute:
        """The registered provider named ``provider``; else the registry's error plus the registered names."""
        routes = self._registered(provider.strip().lower()) if self._registered is not None else {}
        route = routes.get(provider.strip().lower())
        if route is None:
            names = ", ".join(sorted(routes))
            registered = (
                f" Providers registered in the control plane: {names}."
                if names
                else " No provider is registered in the control plane under that name "
                "(gw.providers.create({'name': ..., 'baseUrl': ...}) registers one)."
            )
            raise ConfigurationError(unknown + registered, path=path)
        if not route.enabled:
            raise ConfigurationError(
                f"provider {route.name!r} is disabled: enable it with "
                f"gw.providers.update({route.name!r}, {{'enabled': True}})",
                path=path,
            )
        return route

    def _registered_target(self, leaf: LeafPlan, route: ProviderRoute) -> tuple[Adapter, Target]:
        """A leaf naming a registered provider: its base URL, its format, the leaf's key or the vault's.

        No environment key applies (the provider is not the one its format is named after).
        """
        base_url = leaf.custom_host or route.base_url
        if not base_url:
            raise ConfigurationError(
                f"provider {route.name!r} is registered without a baseUrl: set one with "
                f"gw.providers.update({route.name!r}, {{'baseUrl': 'http://...'}}) or give a custom_host",
                path=f"{leaf.path}.custom_host",
            )
        adapter = get_adapter(route.api_format)
        target = Target(
            provider=route.name,
            base_url=base_url.rstrip("/"),
            api_key=leaf.api_key,
            headers=_openai_headers(leaf),
            options=dict(leaf.extras),
        )
        try:
            target = adapter.prepare_target(target, self._env)
        except ConfigurationError as error:
            raise ConfigurationError(error.reason, path=f"{leaf.path}.{error.path or 'provider'}") from None
        return adapter, target

    def _direct_target(self, leaf: LeafPlan, adapter: Adapter) -> Target:
        assert leaf.provider is not None
        spec = host_spec(leaf.provider)
        base_url = leaf.custom_host or (spec.base_url if spec else None)
        api_key = leaf.api_key
        if api_key is None and spec is not None and spec.api_key_env and self._env.get(spec.api_key_env):
            api_key = Secret(self._env[spec.api_key_env])
        rotating = self.rotates(leaf)
        if (
            api_key is None
            and spec is not None
            and spec.requires_key
            and not leaf.custom_host
            and not rotating
        ):
            raise ConfigurationError(
                f"no API key for provider {leaf.provider!r}: set 'api_key' on the target "
                f"(client_args 'Authorization') or the {spec.api_key_env} environment variable",
                path=f"{leaf.path}.api_key",
            )
        target = Target(
            provider=leaf.provider,
            base_url=(base_url or "").rstrip("/"),
            api_key=api_key,
            headers=_openai_headers(leaf),
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
        _check_derived_url(target, leaf.path)
        return target

    def _vault_target(self, leaf: LeafPlan, stored: SelectedCredential) -> tuple[Adapter, Target]:
        """A leaf whose virtual key is in the local vault: its provider, called with the stored key."""
        where = f"{leaf.path}.virtual_key"
        if leaf.provider is not None and _canonical(leaf.provider) != _canonical(stored.provider):
            raise ConfigurationError(
                f"virtual key {leaf.virtual_key!r} belongs to provider {stored.provider!r}, "
                f"not {leaf.provider!r}",
                path=where,
            )
        try:
            adapter = get_adapter(stored.provider)
            spec = host_spec(stored.provider)
            default_url = (spec.base_url if spec else "") or ""
        except ConfigurationError as error:  # a provider registered in the control plane
            route = self._route(stored.provider, error.reason, where)
            adapter, default_url = get_adapter(route.api_format), route.base_url or ""
        base = Target(
            provider=stored.provider,
            base_url=default_url,
            headers=_openai_headers(leaf),
            options=dict(leaf.extras),
        )
        target = with_credential(base, stored, custom_host=leaf.custom_host)
        try:  # native providers derive their URL from the stored key's fields (Bedrock's region...)
            target = adapter.prepare_target(target, self._env)
        except ConfigurationError as error:
            raise ConfigurationError(error.reason, path=f"{where}.{error.path or 'provider'}") from None
        _check_derived_url(target, leaf.path)
        return adapter, target

    def _portkey_target(self, leaf: LeafPlan) -> Target:
        portkey = self._portkey
        if leaf.provider == "portkey" and leaf.api_key is not None:
            portkey = replace(portkey, api_key=leaf.api_key)  # the target's own Portkey key wins
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


def _openai_headers(leaf: LeafPlan) -> dict[str, str]:
    """``openai_organization`` / ``openai_project`` of the leaf as headers."""
    return {header: str(leaf.extras[key]) for key, header in _OPENAI_HEADERS.items() if leaf.extras.get(key)}


def _canonical(provider: str) -> str:
    """A provider's canonical id: aliases resolved for the registry's, the name itself otherwise."""
    spec = host_spec(provider)
    return spec.name if spec is not None else provider.strip().lower()


def _check_derived_url(target: Target, path: str) -> None:
    """Check a URL a native adapter built from the target's fields like a ``custom_host``.

    ``aws_region`` or ``azure_resource_name`` end up in the host name: a bad one fails now, not as
    an HTTP-client error on every request.
    """
    problem = host_url_problem(target.base_url) if target.base_url else None  # none: said per request
    if problem is not None:
        raise ConfigurationError(
            f"the URL built from this target's provider settings is not valid: {problem}", path=path
        )
