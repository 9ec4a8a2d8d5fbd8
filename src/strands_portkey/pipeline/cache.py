"""The exact response cache around one leaf (``cache: {"mode": "simple", "max_age": seconds}``).

It sits where Portkey's gateway looks its cache up: inside the leaf, before the retry loop, keyed
by the request after ``override_params`` and the leaf's target (see :mod:`..cache.keys`).

* A hit answers at once, with no upstream call: ``cache_status`` ``HIT`` (a streamed request
  gets the stored answer replayed as a stream).
* Otherwise the request goes upstream (``MISS``, or ``REFRESH`` when the caller forced a refresh)
  and only a complete, successful answer is stored: never an error, never a stream that broke or
  was abandoned before its end.
* A store that fails, or a corrupt entry, never fails the request: it is served from the provider
  and the problem is logged once per cache stage.
* ``cache_bypass`` skips the cache for one request (``DISABLED``).

``mode: "semantic"`` is matched exactly for now (a semantic hit needs an embedder, not built yet);
a warning when the config is loaded says so.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from ..cache.codec import StreamFold, decode_response, encode_response, replay_chunks
from ..cache.keys import exact_key
from ..cache.stores import CacheStore
from ..config.plan import CachePlan
from ..errors import GatewayError
from ..types import ChatChunk, ChatRequest, ChatResponse
from .base import ChunkStream, Handler, RequestContext

__all__ = ["DEFAULT_MAX_AGE_S", "Caching"]

DEFAULT_MAX_AGE_S = 7 * 24 * 3600.0
"""Entries live 7 days unless ``max_age`` says otherwise (the hosted gateway's default)."""

_log = logging.getLogger("strands_portkey.cache")


class Caching:
    """A :class:`Handler` answering from ``store`` when it can, filling it when it cannot."""

    def __init__(
        self,
        inner: Handler,
        policy: CachePlan,
        store: CacheStore,
        *,
        path: str,
        provider: str,
        host: str,
        override_params: Mapping[str, Any],
    ) -> None:
        self._inner = inner
        self._ttl = policy.max_age_s or DEFAULT_MAX_AGE_S
        self._store = store
        self._path = path
        self._provider = provider
        self._host = host
        self._overrides = override_params
        self._warned = False

    def _key(self, request: ChatRequest, context: RequestContext) -> str:
        prepared = request.with_overrides(self._overrides)
        return exact_key(
            prepared, provider=self._provider, host=self._host, namespace=context.cache_namespace
        )

    async def chat(self, request: ChatRequest, context: RequestContext) -> ChatResponse:
        """The stored answer, or the upstream's (stored when complete)."""
        if context.cache_bypass:
            return await self._inner.chat(request, context)
        key = self._key(request, context)
        cached = await self._lookup(key, context)
        if cached is not None:
            cached.route = context.route
            return cached
        response = await self._inner.chat(request, context)
        await self.save(key, response)
        return response

    async def open_stream(self, request: ChatRequest, context: RequestContext) -> ChunkStream:
        """The stored answer replayed as a stream, or the upstream's stream (stored when it ends)."""
        if context.cache_bypass:
            return await self._inner.open_stream(request, context)
        key = self._key(request, context)
        cached = await self._lookup(key, context)
        if cached is not None:
            return _Replay(replay_chunks(cached))
        return _Recording(await self._inner.open_stream(request, context), self, key)

    async def _lookup(self, key: str, context: RequestContext) -> ChatResponse | None:
        route = context.route
        if context.cache_force_refresh:
            route.cache_status = "REFRESH"
            return None
        route.cache_status = "MISS"
        try:
            data = await self._store.get(key)
            response = decode_response(data) if data is not None else None
        except (ValueError, OSError, GatewayError) as error:
            self._warn("lookup", error)
            return None
        if response is None:
            return None
        route.cache_status = "HIT"
        route.last_used_option_index = self._path
        route.provider = self._provider
        route.model = response.model
        route.status_code = 200
        route.retry_attempt_count = 0
        return response

    async def save(self, key: str, response: ChatResponse) -> None:
        """Store a complete response (a failing store is logged once, never raised)."""
        try:
            await self._store.set(key, encode_response(response), self._ttl)
        except (ValueError, OSError, GatewayError) as error:
            self._warn("store", error)

    def _warn(self, what: str, error: Exception) -> None:
        if not self._warned:
            self._warned = True
            _log.warning(
                "cache %s failed at %s (%s: %s); serving from the provider. Further cache failures "
                "of this target are not logged.",
                what,
                self._path,
                type(error).__name__,
                error,
            )


class _Replay:
    """A stored answer as a committed stream."""

    def __init__(self, chunks: list[ChatChunk]) -> None:
        self._chunks = chunks

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[ChatChunk]:
        for chunk in self._chunks:
            yield chunk

    async def aclose(self) -> None:
        """Nothing to release."""


class _Recording:
    """A live stream passed through unchanged, stored once it has ended complete."""

    def __init__(self, inner: ChunkStream, cache: Caching, key: str) -> None:
        self._inner = inner
        self._cache = cache
        self._key = key

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[ChatChunk]:
        fold = StreamFold()
        async for chunk in self._inner:
            fold.add(chunk)
            yield chunk
        response = fold.response()
        if response is not None:
            await self._cache.save(self._key, response)

    async def aclose(self) -> None:
        """Close the upstream stream."""
        await self._inner.aclose()
