"""``client.configs``: saved configs over HTTP (``/api/configs``), as ``gw.configs``.

Same methods, arguments and return types as
:class:`~strands_portkey.controlplane.configs_api.Configs`. A config given as a JSON string is
parsed here, as ``gw.configs`` parses it, and sent as an object; the server validates it (errors
name the JSON path, ``body.config.targets[1].weight``). Writing needs an admin key.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from ..config.schema import parse_config
from ..controlplane.configs_api import SavedConfig, SavedConfigVersion
from ..controlplane.views import SyncPaginator
from ..errors import ConfigurationError, InvalidRequestError
from .decode import decode, decode_list
from .http import RemoteHTTP, segment
from .paging import AsyncPaginator, page_items
from .portal import Portal

__all__ = ["AsyncConfigs", "Configs"]

_BASE = "/api/configs"
_MAX_PAGE = 1000


def _path(config_id: str, action: str = "") -> str:
    return f"{_BASE}/{segment(config_id)}" + (f"/{action}" if action else "")


def _config(config: Mapping[str, Any] | str) -> dict[str, Any]:
    """The config as an object (a JSON string parsed as ``gw.configs`` parses it)."""
    try:
        return dict(parse_config(config, path="config"))
    except ConfigurationError as error:
        raise InvalidRequestError(error.reason, path=error.path) from None


class AsyncConfigs:
    """The async face; every method mirrors :class:`~strands_portkey.controlplane.configs_api.Configs`."""

    def __init__(self, http: RemoteHTTP) -> None:
        self._http = http

    def __repr__(self) -> str:
        return f"AsyncConfigs({self._http.base_url!r})"

    async def create(
        self, name: str, config: Mapping[str, Any] | str, *, description: str | None = None
    ) -> SavedConfig:
        """Save ``config`` (a dict or JSON string) as version 1 of a new ``pc-...`` config."""
        body = {"name": name, "config": _config(config), "description": description}
        return decode(SavedConfig, await self._http.call("POST", _BASE, json=body))

    def list(self, *, search: str | None = None, limit: int = 50) -> AsyncPaginator[SavedConfig]:
        """Saved configs (current versions) by name, ``limit`` per page; ``search`` in the name."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= _MAX_PAGE:
            raise InvalidRequestError(
                f"expected a page size from 1 to {_MAX_PAGE}, got {limit!r}", path="limit"
            )
        http = self._http

        async def fetch(offset: int, size: int) -> builtins.list[SavedConfig]:
            answer = await http.call("GET", _BASE, params={"search": search, "limit": size, "offset": offset})
            return decode_list(SavedConfig, page_items(answer))

        return AsyncPaginator(fetch, limit)

    async def retrieve(self, config_id: str, version: int | None = None) -> SavedConfig:
        """A saved config by id or name, at ``version`` (default: the current one)."""
        return decode(SavedConfig, await self._http.get(_path(config_id), version=version))

    async def versions(self, config_id: str) -> builtins.list[SavedConfigVersion]:
        """Every version of a saved config, oldest first."""
        return decode_list(SavedConfigVersion, page_items(await self._http.get(_path(config_id, "versions"))))

    async def update(
        self,
        config_id: str,
        *,
        config: Mapping[str, Any] | str | None = None,
        name: str | None = None,
        description: str | None = None,
    ) -> SavedConfig:
        """Rename / describe, and with ``config`` add the next version and make it current."""
        body: dict[str, Any] = {}
        if config is not None:
            body["config"] = _config(config)
        if name is not None:
            body["name"] = name
        if description is not None:
            body["description"] = description
        return decode(SavedConfig, await self._http.call("PATCH", _path(config_id), json=body))

    async def delete(self, config_id: str) -> dict[str, Any]:
        """Remove a saved config and all its versions: ``{"id": ..., "deleted": True}``."""
        answer: dict[str, Any] = await self._http.call("DELETE", _path(config_id))
        return answer


class Configs:
    """The blocking face: each method runs :class:`AsyncConfigs`' on the client's portal."""

    def __init__(self, inner: AsyncConfigs, portal: Portal) -> None:
        self._inner = inner
        self._portal = portal

    def __repr__(self) -> str:
        return repr(self._inner).removeprefix("Async")

    def create(
        self, name: str, config: Mapping[str, Any] | str, *, description: str | None = None
    ) -> SavedConfig:
        """Save ``config`` as version 1 of a new ``pc-...`` config."""
        return self._portal.run(self._inner.create(name, config, description=description))

    def list(self, *, search: str | None = None, limit: int = 50) -> SyncPaginator[SavedConfig]:
        """Saved configs (current versions) by name, ``limit`` per page."""
        return self._inner.list(search=search, limit=limit).blocking(self._portal)

    def retrieve(self, config_id: str, version: int | None = None) -> SavedConfig:
        """A saved config by id or name, at ``version`` (default: the current one)."""
        return self._portal.run(self._inner.retrieve(config_id, version))

    def versions(self, config_id: str) -> builtins.list[SavedConfigVersion]:
        """Every version of a saved config, oldest first."""
        return self._portal.run(self._inner.versions(config_id))

    def update(
        self,
        config_id: str,
        *,
        config: Mapping[str, Any] | str | None = None,
        name: str | None = None,
        description: str | None = None,
    ) -> SavedConfig:
        """Rename / describe, and with ``config`` add the next version."""
        return self._portal.run(
            self._inner.update(config_id, config=config, name=name, description=description)
        )

    def delete(self, config_id: str) -> dict[str, Any]:
        """Remove a saved config and all its versions."""
        return self._portal.run(self._inner.delete(config_id))
