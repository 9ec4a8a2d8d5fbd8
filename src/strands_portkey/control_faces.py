"""The control-plane faces of a gateway: ``gw.ai``, ``gw.providers``, ``gw.configs`` and the rest.

Also ``gw.api_keys`` and ``gw.prompts``, following a saved config (``pc-...``) and the cost at the
control plane's rates (for telemetry).

A mixin, so the gateway module stays about routing requests. Each face is built on first use over
the gateway's control plane (creating the local store then), never at construction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .errors import ConfigurationError

if TYPE_CHECKING:  # the control plane is imported on first use only
    from .controlplane import AINamespace, ControlPlane
    from .controlplane.api_keys import ApiKeys
    from .controlplane.configs_api import Configs
    from .controlplane.prompts_api import Prompts
    from .controlplane.providers_api import Providers
    from .model_routes import ModelRouting
    from .types import Usage

__all__ = ["ControlPlaneFaces"]

_log = logging.getLogger("strands_portkey.gateway")


class ControlPlaneFaces:
    """``ai`` / ``providers`` / ``configs`` / ``api_keys`` / ``prompts`` over the gateway's :meth:`_plane`."""

    _control_api: tuple[AINamespace, Providers] | None
    _keys_api: tuple[Configs, ApiKeys] | None
    _prompts_api: Prompts | None = None
    _prompt_gateways: dict[str, ControlPlaneFaces] | None = None  # by a prompt version's config_id
    _env: Mapping[str, str]
    _http_transport: Any
    _models: ModelRouting
    _saved_config: tuple[str, int] | None  # a saved config followed (issue 15)
    _control_plane: ControlPlane | None

    def _plane(self, *, create: bool) -> ControlPlane | None:
        raise NotImplementedError

    # ------------------------------------------------------------------ saved configs (issue 15)

    def _install(self, config: Mapping[str, Any] | str | None) -> None:
        raise NotImplementedError

    def _resolve_saved(
        self, config: Mapping[str, Any] | str | None, client_args: Mapping[str, Any] | None
    ) -> tuple[Mapping[str, Any] | str | None, Mapping[str, Any] | None]:
        """A ``pc-...`` id: this store's current version (followed), else Portkey's hosted gateway."""
        ref = config if client_args is None else client_args.get("config")
        if not (isinstance(ref, str) and ref.startswith("pc-")) or (config is not None and client_args):
            return config, client_args
        from .controlplane.saved_configs import resolve_saved

        config, client_args, self._saved_config = resolve_saved(self._plane(create=False), ref, client_args)
        return config, client_args

    def _follow_saved_config(self) -> None:
        """Switch to a later version of the saved config in force (a dict lookup when unchanged)."""
        assert self._saved_config is not None
        assert self._control_plane is not None
        found = self._control_plane.saved_configs.get(self._saved_config[0])
        if found is None or found.version == self._saved_config[1]:  # deleted: the last one keeps running
            return
        self._saved_config = (found.id, found.version)  # tried once, even if it fails
        try:
            self._install(found.config)
        except ConfigurationError as error:
            _log.warning(
                "saved config %s v%s not applied (the last one runs): %s", found.id, found.version, error
            )

    def _cost(self, provider: str, model: str, usage: Usage) -> float | None:
        """USD for ``usage`` at the rates of the control plane, if one is open (telemetry's cost)."""
        plane = self._control_plane
        if plane is None:
            return None
        cost = plane.prices().cost(provider, model, usage)
        return float(cost.usd) if cost is not None and cost.usd is not None else None

    def _control(self) -> tuple[AINamespace, Providers]:
        if self._control_api is None:
            from .controlplane import AINamespace
            from .controlplane.providers_api import Providers

            plane = self._plane(create=True)
            assert plane is not None
            self._control_api = (AINamespace(plane), Providers(plane))
            self._models.reset()  # issue 7: the store now exists; record and resolve from here on
        return self._control_api

    @property
    def ai(self) -> AINamespace:
        """The spec's AI resources: ``gw.ai.provider_keys`` (list/create/retrieve/update/delete/test)."""
        return self._control()[0]

    @property
    def providers(self) -> Providers:
        """Providers, credentials, model rates, billing, health, model discovery, ``test_models``."""
        return self._control()[1]

    def _keys_and_configs(self) -> tuple[Configs, ApiKeys]:
        if self._keys_api is None:
            from .controlplane.api_keys import ApiKeys
            from .controlplane.configs_api import Configs

            self._control()  # the store exists from here on (as for gw.ai)
            plane = self._plane(create=True)
            assert plane is not None
            self._keys_api = (Configs(plane), ApiKeys(plane))
        return self._keys_api

    @property
    def configs(self) -> Configs:
        """Saved configs (``pc-...``): create, list, retrieve, update (a new version), delete."""
        return self._keys_and_configs()[0]

    @property
    def api_keys(self) -> ApiKeys:
        """Gateway API keys (``spk-...``): create, list, retrieve, update, rotate, revoke, authenticate."""
        return self._keys_and_configs()[1]

    @property
    def prompts(self) -> Prompts:
        """Prompt templates (``pp-...``): versions, labels, publish/rollback, render, completions."""
        if self._prompts_api is None:
            from .controlplane.prompts_api import Prompts

            self._control()  # the store exists from here on (as for gw.ai)
            plane = self._plane(create=True)
            assert plane is not None
            self._prompts_api = Prompts(plane, gateway=self, gateway_for=self._config_gateway)  # type: ignore[arg-type]
        return self._prompts_api

    def _config_gateway(self, config_id: str) -> Any:
        """A gateway running ``config_id`` (made once, closed with this gateway).

        It shares this gateway's transport, environment and control plane; its cache, guardrail
        checks and balancing state are its own.

        ``@provider`` (from a prompt's ``@provider/model``) is a config of that provider alone: its
        key comes from the vault or the environment, as for a registered model's own route.
        """
        if self._prompt_gateways is None:
            self._prompt_gateways = {}
        found = self._prompt_gateways.get(config_id)
        if found is None:
            make: Any = type(self)
            config = {"provider": config_id[1:]} if config_id.startswith("@") else config_id
            found = make(
                config,
                transport=self._http_transport,
                env=self._env,
                control_plane=self._plane(create=True),
            )
            self._prompt_gateways[config_id] = found
        return found

    async def _close_config_gateways(self) -> None:
        """Close the gateways made for prompt versions' ``config_id`` (on :meth:`Gateway.aclose`)."""
        for gateway in (self._prompt_gateways or {}).values():
            await gateway.aclose()  # type: ignore[attr-defined]
        self._prompt_gateways = None

    def _render_prompt_target(
        self, ref: str, variables: Mapping[str, Any], overrides: Mapping[str, Any], called: str | None
    ) -> dict[str, Any]:
        """A config target's ``prompt_id``, rendered from this gateway's prompt store (by a leaf stage)."""
        from .errors import ResourceNotFoundError

        plane = self._plane(create=False)
        if plane is None:
            raise ResourceNotFoundError(f"no prompt {ref!r}: this gateway has no prompt store (gw.prompts)")
        if called is not None:
            # The prompt the request was made through leads its messages: the target's replace them.
            lead = len(plane.prompts.resolve(called).messages)
            overrides = {**overrides, "messages": list(overrides.get("messages", ()))[lead:]}
        return plane.prompts.render(ref, variables, overrides).body()
