"""The remote client's HTTP: one request to the admin API, with the key, a timeout and retries.

Requests go through the project's own :class:`~strands_portkey.transport.Transport` (aiohttp or
httpx, its error boundary and key scrubbing), never a second HTTP stack. Every call has a timeout
(``timeout`` seconds for the whole attempt). Idempotent calls (``GET``, ``PUT``, ``DELETE``) are
retried on a connection failure, a timeout, 502 or 503, with exponential backoff; ``POST`` and
``PATCH`` are never retried (a create must not happen twice). An error answer becomes the
library's exception through :func:`~.errors.error_from_answer`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from ..errors import ConfigurationError, MalformedResponseError, RequestTimeoutError, UpstreamConnectionError
from ..transport import AsyncHTTPTransport, Transport, TransportSettings
from ..wire import HttpRequest, HttpResponse, decode_json
from .errors import error_from_answer

__all__ = ["DEFAULT_RETRIES", "DEFAULT_TIMEOUT", "RemoteHTTP", "segment"]

DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 2
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE"})
_RETRY_STATUSES = frozenset({502, 503})
_RETRIED_ERRORS = (UpstreamConnectionError, RequestTimeoutError)


def segment(value: str) -> str:
    """``value`` as one path segment (ids with ``/`` or spaces cannot escape their place)."""
    if not isinstance(value, str) or not value:
        from ..errors import InvalidRequestError

        raise InvalidRequestError(f"expected a non-empty id, got {value!r}", path="id")
    return quote(value, safe="")


def _query(params: Mapping[str, Any] | None) -> str:
    if not params:
        return ""
    pairs = []
    for name, value in params.items():
        if value is None:
            continue
        pairs.append((name, ("true" if value else "false") if isinstance(value, bool) else str(value)))
    return f"?{urlencode(pairs)}" if pairs else ""


class RemoteHTTP:
    """Sends admin API requests to ``base_url`` as the holder of ``api_key``."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        transport: AsyncHTTPTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(f"expected an http(s) URL, got {base_url!r}", path="base_url")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ConfigurationError(
                f"expected a positive number of seconds, got {timeout!r}", path="timeout"
            )
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ConfigurationError(f"expected a whole number >= 0, got {retries!r}", path="retries")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout = float(timeout)
        self.retries = retries
        self._sleep = sleep
        self._rng = rng or random.Random()
        settings = TransportSettings(total_timeout=self.timeout, client="httpx" if transport else "auto")
        self._transport = Transport(transport, settings)

    def __repr__(self) -> str:
        return f"RemoteHTTP({self.base_url!r})"  # never the key

    def _headers(self, has_body: bool) -> dict[str, str]:
        headers = {"accept": "application/json"}
        if has_body:
            headers["content-type"] = "application/json"
        if self._api_key:
            headers["x-portkey-api-key"] = self._api_key
        return headers

    async def call(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> Any:
        """The decoded JSON answer of ``method path`` (an exception of the tree for an error)."""
        request = HttpRequest(
            method,
            f"{self.base_url}{path}{_query(params)}",
            self._headers(json is not None),
            json=json,
            secrets=(self._api_key,) if self._api_key else (),
        )
        attempts = 1 + (self.retries if method in _IDEMPOTENT else 0)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = await self._transport.send(request, timeout=self.timeout)
            except _RETRIED_ERRORS:
                if last:
                    raise
            else:
                if response.status_code not in _RETRY_STATUSES or last:
                    return _answer(response)
            await self._sleep(min(2.0, 0.1 * 2**attempt) * (0.5 + self._rng.random()))
        raise AssertionError("unreachable")  # pragma: no cover

    async def get(self, path: str, **params: Any) -> Any:
        """``GET path?params``."""
        return await self.call("GET", path, params=params)

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._transport.aclose()


def _answer(response: HttpResponse) -> Any:
    try:
        body = decode_json(response.content) if response.content else None
    except ValueError:
        body = None
        if response.status_code < 400:
            raise MalformedResponseError(
                f"the server's answer is not JSON (HTTP {response.status_code})"
            ) from None
    if response.status_code >= 400:
        raise error_from_answer(response.status_code, body, response.header("retry-after"))
    return body
