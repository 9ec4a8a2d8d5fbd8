"""``client.providers.rates``: model rates over HTTP (``/api/ai-providers/model-rates``).

The same methods, arguments, return types and exceptions as ``gw.providers.rates``
(:class:`~strands_portkey.controlplane.rates_api.ModelRates`), except ``import_litellm``,
``records`` and ``price_book``, which act on the server's own files and memory.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from ..controlplane.rates_api import ModelRate
from ..controlplane.views import SyncPaginator
from ..errors import InvalidRequestError, MalformedResponseError
from .http import RemoteHTTP, segment
from .paging import AsyncPaginator, page_items
from .portal import Portal
from .provider_codec import BASE, check_limit, object_of, rate_from_json

__all__ = ["AsyncModelRates", "ModelRates"]


class AsyncModelRates:
    """``client.providers.rates`` (async), as :class:`~strands_portkey.controlplane.rates_api.ModelRates`."""

    def __init__(self, http: RemoteHTTP) -> None:
        self._http = http

    def __repr__(self) -> str:
        return "AsyncModelRates()"

    def list(
        self,
        *,
        provider: str | None = None,
        model: str | None = None,
        type: str | None = None,
        search: str | None = None,
        limit: int = 50,
    ) -> AsyncPaginator[ModelRate]:
        """Rates by provider, model and type; ``limit`` per page, fetched lazily."""
        check_limit(limit)

        async def fetch(offset: int, size: int) -> builtins.list[ModelRate]:
            rates, _ = await self.page(
                provider=provider, model=model, type=type, search=search, limit=size, offset=offset
            )
            return rates

        return AsyncPaginator(fetch, limit)

    async def page(
        self,
        *,
        provider: str | None = None,
        model: str | None = None,
        type: str | None = None,
        search: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[builtins.list[ModelRate], int]:
        """One page of rates and how many match in all."""
        check_limit(limit)
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidRequestError("expected a whole number >= 0", path="offset")
        params = {"providerId": provider, "model": model, "type": type, "search": search}
        answer = await self._http.call(
            "GET", f"{BASE}/model-rates", params={**params, "limit": limit, "offset": offset}
        )
        total = object_of(answer).get("total")
        if not isinstance(total, int):
            raise MalformedResponseError("expected the listing's 'total' from the server")
        return [rate_from_json(item) for item in page_items(answer)], total

    async def create(self, body: Mapping[str, Any]) -> builtins.list[ModelRate]:
        """The same rate for every provider in ``body["providers"]`` (ids or names), all or none."""
        answer = await self._http.call("POST", f"{BASE}/model-rates", json=dict(body))
        return [rate_from_json(item) for item in page_items(answer)]

    async def retrieve(self, rate_id: str) -> ModelRate:
        """One rate by id."""
        return rate_from_json(await self._http.get(f"{BASE}/model-rates/{segment(rate_id)}"))

    async def update(self, provider: str, rate_id: str, body: Mapping[str, Any]) -> ModelRate:
        """Change a rate's amounts, unit costs, metadata or description."""
        path = f"{BASE}/{segment(provider)}/model-rates/{segment(rate_id)}"
        return rate_from_json(await self._http.call("PUT", path, json=dict(body)))

    async def delete(self, provider: str, rate_id: str) -> dict[str, Any]:
        """Delete a rate."""
        path = f"{BASE}/{segment(provider)}/model-rates/{segment(rate_id)}"
        return dict(object_of(await self._http.call("DELETE", path)))

    async def bulk_update(self, *, profit_margin: Any, credit_price: Any) -> dict[str, Any]:
        """Re-price every rate with unit costs (``profitMargin`` %, ``creditPrice`` USD/credit)."""
        body = {"profitMargin": profit_margin, "creditPrice": credit_price}
        return dict(object_of(await self._http.call("POST", f"{BASE}/bulk-rate-update", json=body)))


class ModelRates:
    """``client.providers.rates`` (blocking): each method runs :class:`AsyncModelRates`' on the portal."""

    def __init__(self, inner: AsyncModelRates, portal: Portal) -> None:
        self._inner = inner
        self._portal = portal

    def __repr__(self) -> str:
        return "ModelRates()"

    def list(
        self,
        *,
        provider: str | None = None,
        model: str | None = None,
        type: str | None = None,
        search: str | None = None,
        limit: int = 50,
    ) -> SyncPaginator[ModelRate]:
        """See :meth:`AsyncModelRates.list`."""
        paginator = self._inner.list(provider=provider, model=model, type=type, search=search, limit=limit)
        return paginator.blocking(self._portal)

    def page(
        self,
        *,
        provider: str | None = None,
        model: str | None = None,
        type: str | None = None,
        search: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[builtins.list[ModelRate], int]:
        """See :meth:`AsyncModelRates.page`."""
        return self._portal.run(
            self._inner.page(
                provider=provider, model=model, type=type, search=search, limit=limit, offset=offset
            )
        )

    def create(self, body: Mapping[str, Any]) -> builtins.list[ModelRate]:
        """See :meth:`AsyncModelRates.create`."""
        return self._portal.run(self._inner.create(body))

    def retrieve(self, rate_id: str) -> ModelRate:
        """See :meth:`AsyncModelRates.retrieve`."""
        return self._portal.run(self._inner.retrieve(rate_id))

    def update(self, provider: str, rate_id: str, body: Mapping[str, Any]) -> ModelRate:
        """See :meth:`AsyncModelRates.update`."""
        return self._portal.run(self._inner.update(provider, rate_id, body))

    def delete(self, provider: str, rate_id: str) -> dict[str, Any]:
        """See :meth:`AsyncModelRates.delete`."""
        return self._portal.run(self._inner.delete(provider, rate_id))

    def bulk_update(self, *, profit_margin: Any, credit_price: Any) -> dict[str, Any]:
        """See :meth:`AsyncModelRates.bulk_update`."""
        return self._portal.run(
            self._inner.bulk_update(profit_margin=profit_margin, credit_price=credit_price)
        )
