"""``client.api_keys``: gateway API keys over HTTP (``/api/keys``), as ``gw.api_keys``.

Same methods, arguments and return types as :class:`~strands_portkey.controlplane.api_keys.ApiKeys`
for managing keys: ``create`` / ``rotate`` return a :class:`CreatedApiKey` whose ``key`` is the
secret (shown this once by the server), the rest masked :class:`GatewayApiKey` objects, ``usage``
an :class:`ApiKeyUsage` with the server's counts. A member's key manages its own keys only
(another user's key raises :class:`~strands_portkey.errors.ResourceNotFoundError`).
``authenticate`` is not offered: the server authenticates presented keys itself.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Mapping
from typing import Any

from ..controlplane.api_key_fields import ApiKeyUsage, CreatedApiKey, GatewayApiKey
from ..controlplane.views import SyncPaginator
from ..errors import InvalidRequestError, MalformedResponseError
from .decode import decode, decode_list
from .http import RemoteHTTP, segment
from .paging import AsyncPaginator, page_items
from .portal import Portal

__all__ = ["ApiKeys", "AsyncApiKeys"]

_BASE = "/api/keys"
_MAX_PAGE = 1000
_STATUSES = ("active", "expired", "revoked")


def _path(key_id: str, action: str = "") -> str:
    return f"{_BASE}/{segment(key_id)}" + (f"/{action}" if action else "")


def _body(body: Any) -> Any:
    """The body as JSON (a ``datetime`` ``expires_at`` as ISO 8601, as ``gw.api_keys`` accepts it)."""
    if not isinstance(body, Mapping):
        raise InvalidRequestError(f"expected an object, got {type(body).__name__}", path="body")
    return {
        name: value.isoformat() if isinstance(value, dt.datetime) else value for name, value in body.items()
    }


def _created(answer: Any) -> CreatedApiKey:
    key = answer.get("key") if isinstance(answer, dict) else None
    if not isinstance(key, str):
        raise MalformedResponseError("the server's answer has no new key")
    return CreatedApiKey(decode(GatewayApiKey, answer), key)


class AsyncApiKeys:
    """The async face; every method mirrors :class:`~strands_portkey.controlplane.api_keys.ApiKeys`."""

    def __init__(self, http: RemoteHTTP) -> None:
        self._http = http

    def __repr__(self) -> str:
        return f"AsyncApiKeys({self._http.base_url!r})"

    async def create(self, body: Mapping[str, Any]) -> CreatedApiKey:
        """Create a key; the returned ``.key`` (``spk-...``) is shown this once and never again."""
        return _created(await self._http.call("POST", _BASE, json=_body(body)))

    def list(
        self,
        *,
        user: str | None = None,
        organization_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
    ) -> AsyncPaginator[GatewayApiKey]:
        """Keys by creation time, ``limit`` per page (a member's: its own)."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= _MAX_PAGE:
            raise InvalidRequestError(
                f"expected a page size from 1 to {_MAX_PAGE}, got {limit!r}", path="limit"
            )
        if status not in (None, *_STATUSES):
            raise InvalidRequestError(f"expected active, expired or revoked, got {status!r}", path="status")
        filters = {"user": user, "organization_id": organization_id, "status": status}
        http = self._http

        async def fetch(offset: int, size: int) -> builtins.list[GatewayApiKey]:
            answer = await http.call("GET", _BASE, params={**filters, "limit": size, "offset": offset})
            return decode_list(GatewayApiKey, page_items(answer))

        return AsyncPaginator(fetch, limit)

    async def retrieve(self, key_id: str) -> GatewayApiKey:
        """One key by id (masked)."""
        return decode(GatewayApiKey, await self._http.get(_path(key_id)))

    async def update(self, key_id: str, body: Mapping[str, Any]) -> GatewayApiKey:
        """Change a key's fields; in force on every server worker within 1 s."""
        return decode(GatewayApiKey, await self._http.call("PATCH", _path(key_id), json=_body(body)))

    async def rotate(self, key_id: str) -> CreatedApiKey:
        """A new secret for the key (same id, fields and limits); the old secret stops working."""
        return _created(await self._http.call("POST", _path(key_id, "rotate")))

    async def revoke(self, key_id: str) -> GatewayApiKey:
        """Stop the key for good (kept, as ``revoked``, for the record)."""
        return decode(GatewayApiKey, await self._http.call("POST", _path(key_id, "revoke")))

    async def usage(self, key_id: str) -> ApiKeyUsage:
        """The key's limits and what the server has counted against them now."""
        return decode(ApiKeyUsage, await self._http.get(_path(key_id, "usage")))


class ApiKeys:
    """The blocking face: each method runs :class:`AsyncApiKeys`' on the client's portal."""

    def __init__(self, inner: AsyncApiKeys, portal: Portal) -> None:
        self._inner = inner
        self._portal = portal

    def __repr__(self) -> str:
        return repr(self._inner).removeprefix("Async")

    def create(self, body: Mapping[str, Any]) -> CreatedApiKey:
        """Create a key; the returned ``.key`` is shown this once."""
        return self._portal.run(self._inner.create(body))

    def list(
        self,
        *,
        user: str | None = None,
        organization_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
    ) -> SyncPaginator[GatewayApiKey]:
        """Keys by creation time, ``limit`` per page (a member's: its own)."""
        paginator = self._inner.list(user=user, organization_id=organization_id, status=status, limit=limit)
        return paginator.blocking(self._portal)

    def retrieve(self, key_id: str) -> GatewayApiKey:
        """One key by id (masked)."""
        return self._portal.run(self._inner.retrieve(key_id))

    def update(self, key_id: str, body: Mapping[str, Any]) -> GatewayApiKey:
        """Change a key's fields."""
        return self._portal.run(self._inner.update(key_id, body))

    def rotate(self, key_id: str) -> CreatedApiKey:
        """A new secret for the key; the old secret stops working."""
        return self._portal.run(self._inner.rotate(key_id))

    def revoke(self, key_id: str) -> GatewayApiKey:
        """Stop the key for good."""
        return self._portal.run(self._inner.revoke(key_id))

    def usage(self, key_id: str) -> ApiKeyUsage:
        """The key's limits and current usage."""
        return self._portal.run(self._inner.usage(key_id))
