"""``/api/configs``: saved configs and their versions over HTTP, thin handlers over ``gw.configs``.

Create (version 1), list, retrieve (any version), update (``config`` adds the next version),
versions, delete. JSON fields are :class:`~strands_portkey.controlplane.configs_api.SavedConfig`'s
own. ``{config_id}`` is a config's id or its name. A config is validated on save by the gateway's
parser: an error answers 400 with the JSON path in the request (``body.config.targets[1].weight``),
nothing written; a name in use answers 409.

**Roles.** Members read: their organization's configs, and those their key names
(``allowed_configs``, ``default_config``; with an allow-list, only those); another config answers
404 (logged). Writing is for admins: a saved config routes requests through provider keys of the
vault (``virtual_key``), and any key without an allow-list may run it, so who may write one is
who may decide where every such key's requests go.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import Field
from starlette.requests import Request

from ...controlplane.configs_api import Configs
from .api_keys import request_paths
from .bodies import Body, Limit, Offset
from .caller import CallerDep
from .services import ServicesDep, hidden_logger

__all__ = ["router"]

_CONFIG = {"config_id": "path.config_id", "version": "query.version"}


class ConfigFields(Body):
    """``PATCH /api/configs/{config_id}``: rename, describe, and with ``config`` the next version."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    config: dict[str, Any] | None = Field(default=None, description="A Portkey config (the next version)")


class NewConfig(Body):
    """``POST /api/configs``: version 1 of a new saved config."""

    name: str = Field(min_length=1, max_length=200)
    config: dict[str, Any] = Field(description="A Portkey config: strategy, targets, retry, cache, hooks...")
    description: str | None = Field(default=None, max_length=2000)


def _configs(request: Request, caller: CallerDep, services: ServicesDep) -> Configs:
    return services.configs_for(caller, hidden_logger(request, caller, "saved config"))


ConfigsDep = Annotated[Configs, Depends(_configs)]


def router() -> APIRouter:
    """The saved config routes (each has its rule in ``roles.ROUTE_ROLES``)."""
    r = APIRouter(prefix="/api/configs", tags=["saved configs"])

    @r.get("", summary="Saved configs by name, at their current versions")
    def list_configs(
        configs: ConfigsDep,
        search: str | None = Query(default=None, max_length=200, description="In the name"),
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        found = configs.list(search=search, limit=limit)
        data = [config.to_dict() for config in found.page(offset)]
        return {"data": data, "total": found.total(), "limit": limit, "offset": offset}

    @r.post("", status_code=201, summary="Save a config as version 1 of a new pc-... config")
    def create_config(body: NewConfig, configs: ConfigsDep) -> dict[str, Any]:
        with request_paths(_CONFIG):
            return configs.create(body.name, body.config, description=body.description).to_dict()

    @r.get("/{config_id}", summary="A saved config (by id or name) at its current or a given version")
    def get_config(
        config_id: str,
        configs: ConfigsDep,
        version: int | None = Query(default=None, ge=1, description="Default: the current one"),
    ) -> dict[str, Any]:
        with request_paths(_CONFIG):
            return configs.retrieve(config_id, version).to_dict()

    @r.patch("/{config_id}", summary="Rename, describe, or add the next version (config)")
    def update_config(config_id: str, body: ConfigFields, configs: ConfigsDep) -> dict[str, Any]:
        with request_paths(_CONFIG):
            return configs.update(
                config_id, config=body.config, name=body.name, description=body.description
            ).to_dict()

    @r.get("/{config_id}/versions", summary="Every version of a saved config, oldest first")
    def list_versions(config_id: str, configs: ConfigsDep) -> dict[str, Any]:
        with request_paths(_CONFIG):
            versions = configs.versions(config_id)
        data = [version.to_dict() for version in versions]
        return {"data": data, "total": len(data), "limit": len(data), "offset": 0}

    @r.delete("/{config_id}", summary="Delete a saved config and all its versions")
    def delete_config(config_id: str, configs: ConfigsDep) -> dict[str, Any]:
        with request_paths(_CONFIG):
            return configs.delete(config_id)

    return r
