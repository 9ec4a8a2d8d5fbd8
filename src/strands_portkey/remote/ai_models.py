"""``client.ai.models``: the AI model registry over HTTP (``/api/ai/models``), as ``gw.ai.models``.

Same methods, arguments and return types as
:class:`~strands_portkey.controlplane.models_api.AIModels`; the listing's arguments are checked
before any request (as in process), the rest by the server, whose errors come back as the same
exception classes.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..catalog.models import check_filters
from ..controlplane.models_api import AIModel, AIModelOverview, AIModelPermissions, AIModelStatus
from ..controlplane.views import SyncPaginator
from ..errors import InvalidRequestError
from .decode import decode, decode_list
from .http import RemoteHTTP, segment
from .paging import AsyncPaginator, page_items
from .portal import Portal

__all__ = ["AIModels", "AsyncAIModels"]

_BASE = "/api/ai/models"
_MAX_PAGE = 1000  # the server's largest page; a larger ``limit`` is fetched in pages of this size


def _path(model_id: str, action: str = "") -> str:
    return f"{_BASE}/{segment(model_id)}" + (f"/{action}" if action else "")


def _page_size(limit: Any) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
        raise InvalidRequestError(f"expected a positive integer, got {limit!r}", path="limit")
    return min(limit, _MAX_PAGE)


class AsyncAIModels:
    """The async face; every method mirrors :class:`~strands_portkey.controlplane.models_api.AIModels`."""

    def __init__(self, http: RemoteHTTP) -> None:
        self._http = http

    def __repr__(self) -> str:
        return f"AsyncAIModels({self._http.base_url!r})"

    def list(
        self,
        *,
        search: str | None = None,
        type: str | None = None,
        status: str | None = None,
        provider: str | None = None,
        model_type: str | None = None,
        limit: int = 50,
    ) -> AsyncPaginator[AIModel]:
        """Models the caller may use, by name, ``limit`` per page (fetched while iterating)."""
        size = _page_size(limit)
        check_filters(search=search, type=type, status=status, provider=provider, model_type=model_type)
        filters = {
            "search": search,
            "type": type,
            "status": status,
            "provider": provider,
            "model_type": model_type,
        }
        http = self._http

        async def fetch(offset: int, size: int) -> builtins.list[AIModel]:
            answer = await http.call("GET", _BASE, params={**filters, "limit": size, "offset": offset})
            return decode_list(AIModel, page_items(answer))

        return AsyncPaginator(fetch, size)

    async def overview(self) -> AIModelOverview:
        """Counts of the models the caller may use, by status and by type."""
        return decode(AIModelOverview, await self._http.get(f"{_BASE}/overview"))

    async def create(self, body: Mapping[str, Any]) -> AIModel:
        """Register a model owned by the caller."""
        return decode(AIModel, await self._http.call("POST", _BASE, json=_body(body)))

    async def retrieve(self, model_id: str) -> AIModel:
        """A model by id (or name) that the caller may use."""
        return decode(AIModel, await self._http.get(_path(model_id)))

    async def update(self, model_id: str, body: Mapping[str, Any]) -> AIModel:
        """Change a model's fields (owner or admin)."""
        return decode(AIModel, await self._http.call("PUT", _path(model_id), json=_body(body)))

    async def delete(self, model_id: str) -> dict[str, Any]:
        """Remove a model from the registry (owner or admin)."""
        answer: dict[str, Any] = await self._http.call("DELETE", _path(model_id))
        return answer

    async def deploy(self, model_id: str, **kwargs: Any) -> dict[str, Any]:
        """Start a self-hosted model's replicas (``replicas=`` overrides the count)."""
        answer: dict[str, Any] = await self._http.call("POST", _path(model_id, "deploy"), json=kwargs)
        return answer

    async def start(self, model_id: str) -> dict[str, Any]:
        """Start a stopped self-hosted model."""
        answer: dict[str, Any] = await self._http.call("POST", _path(model_id, "start"))
        return answer

    async def stop(self, model_id: str) -> dict[str, Any]:
        """Stop a running self-hosted model."""
        answer: dict[str, Any] = await self._http.call("POST", _path(model_id, "stop"))
        return answer

    async def status(self, model_id: str) -> AIModelStatus:
        """Deployment status."""
        return decode(AIModelStatus, await self._http.get(_path(model_id, "status")))

    async def metrics(self, model_id: str) -> dict[str, Any]:
        """Requests, tokens, cost, latency percentiles and error rate of the model."""
        answer: dict[str, Any] = await self._http.get(_path(model_id, "metrics"))
        return answer

    async def logs(
        self,
        model_id: str,
        *,
        lines: int | None = None,
        since: str | datetime | None = None,
        container: str | None = None,
    ) -> dict[str, Any]:
        """Each replica's last ``lines`` at or after ``since`` (``"1h"``, an ISO time or a datetime)."""
        when = since.isoformat() if isinstance(since, datetime) else since
        params = {"lines": lines, "since": when, "container": container}
        answer: dict[str, Any] = await self._http.call("GET", _path(model_id, "logs"), params=params)
        return answer

    async def get_permissions(self, model_id: str) -> AIModelPermissions:
        """Owner, organization, and who it is shared with."""
        return decode(AIModelPermissions, await self._http.get(_path(model_id, "permissions")))

    async def update_permissions(
        self, model_id: str, *, is_shared: bool | None = None, shared_with: builtins.list[str] | None = None
    ) -> dict[str, Any]:
        """Share with the organization (``is_shared``) and/or list users (``shared_with``)."""
        body = {
            key: value
            for key, value in (("is_shared", is_shared), ("shared_with", shared_with))
            if value is not None
        }
        answer: dict[str, Any] = await self._http.call("PUT", _path(model_id, "permissions"), json=body)
        return answer


def _body(body: Any) -> Any:
    """A mapping body as a plain dict (anything else is sent as is: the server names the problem)."""
    return dict(body) if isinstance(body, Mapping) else body


class AIModels:
    """The blocking face: each method runs :class:`AsyncAIModels`' on the client's portal."""

    def __init__(self, inner: AsyncAIModels, portal: Portal) -> None:
        self._inner = inner
        self._portal = portal

    def __repr__(self) -> str:
        return repr(self._inner).removeprefix("Async")

    def list(
        self,
        *,
        search: str | None = None,
        type: str | None = None,
        status: str | None = None,
        provider: str | None = None,
        model_type: str | None = None,
        limit: int = 50,
    ) -> SyncPaginator[AIModel]:
        """Models the caller may use, by name, ``limit`` per page (fetched while iterating)."""
        paginator = self._inner.list(
            search=search, type=type, status=status, provider=provider, model_type=model_type, limit=limit
        )
        return paginator.blocking(self._portal)

    def overview(self) -> AIModelOverview:
        """Counts of the models the caller may use, by status and by type."""
        return self._portal.run(self._inner.overview())

    def create(self, body: Mapping[str, Any]) -> AIModel:
        """Register a model owned by the caller."""
        return self._portal.run(self._inner.create(body))

    def retrieve(self, model_id: str) -> AIModel:
        """A model by id (or name) that the caller may use."""
        return self._portal.run(self._inner.retrieve(model_id))

    def update(self, model_id: str, body: Mapping[str, Any]) -> AIModel:
        """Change a model's fields (owner or admin)."""
        return self._portal.run(self._inner.update(model_id, body))

    def delete(self, model_id: str) -> dict[str, Any]:
        """Remove a model from the registry (owner or admin)."""
        return self._portal.run(self._inner.delete(model_id))

    def deploy(self, model_id: str, **kwargs: Any) -> dict[str, Any]:
        """Start a self-hosted model's replicas (``replicas=`` overrides the count)."""
        return self._portal.run(self._inner.deploy(model_id, **kwargs))

    def start(self, model_id: str) -> dict[str, Any]:
        """Start a stopped self-hosted model."""
        return self._portal.run(self._inner.start(model_id))

    def stop(self, model_id: str) -> dict[str, Any]:
        """Stop a running self-hosted model."""
        return self._portal.run(self._inner.stop(model_id))

    def status(self, model_id: str) -> AIModelStatus:
        """Deployment status."""
        return self._portal.run(self._inner.status(model_id))

    def metrics(self, model_id: str) -> dict[str, Any]:
        """Requests, tokens, cost, latency percentiles and error rate of the model."""
        return self._portal.run(self._inner.metrics(model_id))

    def logs(
        self,
        model_id: str,
        *,
        lines: int | None = None,
        since: str | datetime | None = None,
        container: str | None = None,
    ) -> dict[str, Any]:
        """Each replica's last ``lines`` at or after ``since``."""
        return self._portal.run(self._inner.logs(model_id, lines=lines, since=since, container=container))

    def get_permissions(self, model_id: str) -> AIModelPermissions:
        """Owner, organization, and who it is shared with."""
        return self._portal.run(self._inner.get_permissions(model_id))

    def update_permissions(
        self, model_id: str, *, is_shared: bool | None = None, shared_with: builtins.list[str] | None = None
    ) -> dict[str, Any]:
        """Share with the organization (``is_shared``) and/or list users (``shared_with``)."""
        return self._portal.run(
            self._inner.update_permissions(model_id, is_shared=is_shared, shared_with=shared_with)
        )
