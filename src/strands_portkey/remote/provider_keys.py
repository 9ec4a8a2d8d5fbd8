"""``client.ai.provider_keys``: provider keys over HTTP (``/api/ai/provider-keys``), as in ``gw.ai``.

Same methods, arguments and return types as
:class:`~strands_portkey.controlplane.provider_keys.ProviderKeys`. ``validate=`` is the
server's to decide (its ``STRANDS_PORTKEY_VALIDATE_KEYS``): the remote face accepts only
``None``. The key goes to the server once, in the create (or update) body; answers are masked.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from ..controlplane.views import ProviderKey, ProviderKeyTestResult, SyncPaginator
from ..errors import InvalidRequestError
from .decode import decode, decode_list
from .http import RemoteHTTP, segment
from .paging import AsyncPaginator, page_items
from .portal import Portal

__all__ = ["AsyncProviderKeys", "ProviderKeys"]

_BASE = "/api/ai/provider-keys"
_MAX_PAGE = 1000
STATUSES = ("active", "inactive")  # the vault's (a test keeps them equal); the client imports no vault


def _path(key_id: str, action: str = "") -> str:
    return f"{_BASE}/{segment(key_id)}" + (f"/{action}" if action else "")


def _body(body: Any) -> Any:
    return dict(body) if isinstance(body, Mapping) else body


def _server_validates(validate: bool | None) -> None:
    if validate is not None:
        raise InvalidRequestError(
            "the server decides whether keys are validated (STRANDS_PORTKEY_VALIDATE_KEYS); "
            "leave validate unset with a remote client",
            path="validate",
        )


class AsyncProviderKeys:
    """The async face; mirrors :class:`~strands_portkey.controlplane.provider_keys.ProviderKeys`."""

    def __init__(self, http: RemoteHTTP) -> None:
        self._http = http

    def __repr__(self) -> str:
        return f"AsyncProviderKeys({self._http.base_url!r})"

    def list(
        self,
        *,
        provider: str | None = None,
        status: str | None = None,
        search: str | None = None,
        limit: int = 50,
    ) -> AsyncPaginator[ProviderKey]:
        """Keys (the caller's own, unless an admin), oldest first, ``limit`` per page."""
        if status is not None and status not in STATUSES:
            raise InvalidRequestError(
                f"unknown status {status!r}: use one of {', '.join(STATUSES)}", path="status"
            )
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= _MAX_PAGE:
            raise InvalidRequestError(f"expected a page size from 1 to {_MAX_PAGE}", path="limit")
        filters = {"provider": provider, "status": status, "search": search}
        http = self._http

        async def fetch(offset: int, size: int) -> builtins.list[ProviderKey]:
            answer = await http.call("GET", _BASE, params={**filters, "limit": size, "offset": offset})
            return decode_list(ProviderKey, page_items(answer))

        return AsyncPaginator(fetch, limit)

    async def create(self, body: Mapping[str, Any], *, validate: bool | None = None) -> ProviderKey:
        """Store a key (``name``, ``provider``, ``api_key`` ...); returns it masked."""
        _server_validates(validate)
        return decode(ProviderKey, await self._http.call("POST", _BASE, json=_body(body)))

    async def retrieve(self, key_id: str) -> ProviderKey:
        """A key by id or name."""
        return decode(ProviderKey, await self._http.get(_path(key_id)))

    async def update(
        self, key_id: str, body: Mapping[str, Any], *, validate: bool | None = None
    ) -> ProviderKey:
        """Change name, description, weight, ... or the key itself."""
        _server_validates(validate)
        return decode(ProviderKey, await self._http.call("PUT", _path(key_id), json=_body(body)))

    async def delete(self, key_id: str) -> dict[str, Any]:
        """Delete a key: ``{"id": ..., "deleted": True}``."""
        answer: dict[str, Any] = await self._http.call("DELETE", _path(key_id))
        return answer

    async def test(self, key_id: str) -> ProviderKeyTestResult:
        """Check a key against its provider now."""
        return decode(ProviderKeyTestResult, await self._http.call("POST", _path(key_id, "test")))


class ProviderKeys:
    """The blocking face: each method runs :class:`AsyncProviderKeys`' on the client's portal."""

    def __init__(self, inner: AsyncProviderKeys, portal: Portal) -> None:
        self._inner = inner
        self._portal = portal

    def __repr__(self) -> str:
        return repr(self._inner).removeprefix("Async")

    def list(
        self,
        *,
        provider: str | None = None,
        status: str | None = None,
        search: str | None = None,
        limit: int = 50,
    ) -> SyncPaginator[ProviderKey]:
        """Keys (the caller's own, unless an admin), oldest first, ``limit`` per page."""
        paginator = self._inner.list(provider=provider, status=status, search=search, limit=limit)
        return paginator.blocking(self._portal)

    def create(self, body: Mapping[str, Any], *, validate: bool | None = None) -> ProviderKey:
        """Store a key; returns it masked."""
        return self._portal.run(self._inner.create(body, validate=validate))

    def retrieve(self, key_id: str) -> ProviderKey:
        """A key by id or name."""
        return self._portal.run(self._inner.retrieve(key_id))

    def update(self, key_id: str, body: Mapping[str, Any], *, validate: bool | None = None) -> ProviderKey:
        """Change a key's fields or the key itself."""
        return self._portal.run(self._inner.update(key_id, body, validate=validate))

    def delete(self, key_id: str) -> dict[str, Any]:
        """Delete a key."""
        return self._portal.run(self._inner.delete(key_id))

    def test(self, key_id: str) -> ProviderKeyTestResult:
        """Check a key against its provider now."""
        return self._portal.run(self._inner.test(key_id))
