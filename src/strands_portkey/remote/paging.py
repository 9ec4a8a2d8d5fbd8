"""Lazy listings over the admin API's envelope ``{"data": [...], "total", "limit", "offset"}``.

:class:`AsyncPaginator` is the async client's; the blocking client hands the same page fetcher to
the control plane's own :class:`~strands_portkey.controlplane.views.SyncPaginator` (through the
portal), so ``Client().ai.models.list()`` returns exactly the type ``Gateway().ai.models.list()``
does, with the same ``.to_list()`` and ``.first_page()``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from ..controlplane.views import SyncPaginator
from .portal import Portal

__all__ = ["AsyncPaginator", "PageFetch", "sync_paginator"]

T = TypeVar("T")

PageFetch = Callable[[int, int], Awaitable[Sequence[T]]]
"""``fetch(offset, size)``: one page of items."""


class AsyncPaginator(Generic[T]):
    """``async for item in paginator`` fetches page after page; ``await .to_list()`` takes them all."""

    def __init__(self, fetch: PageFetch[T], page_size: int) -> None:
        self._fetch = fetch
        self.page_size = page_size

    def __repr__(self) -> str:
        return f"AsyncPaginator(page_size={self.page_size})"

    async def __aiter__(self) -> AsyncIterator[T]:
        offset = 0
        while True:
            page = await self._fetch(offset, self.page_size)
            for item in page:
                yield item
            if len(page) < self.page_size:
                return
            offset += len(page)

    async def to_list(self) -> list[T]:
        """Every item, all pages fetched."""
        return [item async for item in self]

    async def first_page(self) -> list[T]:
        """Only the first ``page_size`` items (one request)."""
        return list(await self._fetch(0, self.page_size))

    def blocking(self, portal: Portal) -> SyncPaginator[T]:
        """The same listing as the control plane's :class:`SyncPaginator`, each page run on ``portal``."""

        def fetch(offset: int, size: int) -> Sequence[T]:
            return portal.run(_page(self._fetch, offset, size))

        return SyncPaginator(fetch, self.page_size)


async def _page(fetch: PageFetch[T], offset: int, size: int) -> Sequence[T]:
    return await fetch(offset, size)


def sync_paginator(paginator: AsyncPaginator[T], portal: Portal) -> SyncPaginator[T]:
    """``paginator`` for the blocking client."""
    return paginator.blocking(portal)


def page_items(answer: Any) -> list[Any]:
    """The ``data`` list of a listing answer (an error naming the shape when it is not one)."""
    from ..errors import MalformedResponseError

    items = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(items, list):
        raise MalformedResponseError("expected a listing {'data': [...]} from the server")
    return items
