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

``mode: "semantic"`` adds a semantic lookup after the exact one (see :mod:`..cache.semantic`):
an exact hit still reports ``HIT``; otherwise the last user turn is embedded and a similar stored
question in the same scope answers (``SEMANTIC HIT``), else ``SEMANTIC MISS``. When the embedder
is unavailable the stage matches exactly only and reports ``MISS`` (logged once per gateway).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..cache.codec import StreamFold, decode_response, encode_response, replay_chunks
from ..cache.embedders import Vectors
from ..cache.keys import exact_key
from ..cache.semantic import SemanticCache
from ..cache.stores import CacheStore
from ..config.plan import CachePlan
from ..embeddings import EmbeddingRequest, EmbeddingResponse
from ..errors import GatewayError
from ..types import CacheStatus, ChatChunk, ChatRequest, ChatResponse
from .base import ChunkStream, Handler, RequestContext

__all__ = ["DEFAULT_MAX_AGE_S", "Caching"]

DEFAULT_MAX_AGE_S = 7 * 24 * 3600.0
"""Entries live 7 days unless ``max_age`` says otherwise (the hosted gateway's default)."""

_log = logging.getLogger("strands_portkey.cache")
_STORE_ERRORS = (ValueError, OSError, GatewayError)


@dataclass(slots=True)
class _Entry:
    """Where a request's answer goes: its exact key and, for semantic caches, scope and vector."""

    key: str
    parts: tuple[str, str] | None = None
    vector: Vectors | None = None


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
        semantic: SemanticCache | None = None,
    ) -> None:
        self._inner = inner
        self._ttl = policy.max_age_s or DEFAULT_MAX_AGE_S
        self._store = store
        self._path = path
        self._provider = provider
        self._host = host
        self._overrides = override_params
        self._warned = False
        self._semantic = semantic if policy.mode == "semantic" else None

    def _entry(self, request: ChatRequest, context: RequestContext) -> _Entry:
        prepared = request.with_overrides(self._overrides)
        provider, host, namespace = self._provider, self._host, context.cache_namespace
        entry = _Entry(exact_key(prepared, provider=provider, host=host, namespace=namespace))
        if self._semantic is not None:
            entry.parts = self._semantic.parts(prepared, provider=provider, host=host, namespace=namespace)
        return entry

    async def chat(self, request: ChatRequest, context: RequestContext) -> ChatResponse:
        """The stored answer, or the upstream's (stored when complete)."""
        if context.cache_bypass:
            return await self._inner.chat(request, context)
        entry = self._entry(request, context)
        cached = await self._lookup(entry, context)
        if cached is not None:
            cached.route = context.route
            return cached
        response = await self._inner.chat(request, context)
        await self.save(entry, response)
        return response

    async def open_stream(self, request: ChatRequest, context: RequestContext) -> ChunkStream:
        """The stored answer replayed as a stream, or the upstream's stream (stored when it ends)."""
        if context.cache_bypass:
            return await self._inner.open_stream(request, context)
        entry = self._entry(request, context)
        cached = await self._lookup(entry, context)
        if cached is not None:
            return _Replay(replay_chunks(cached))
        return _Recording(await self._inner.open_stream(request, context), self, entry)

    async def embed(self, request: EmbeddingRequest, context: RequestContext) -> EmbeddingResponse:
        """Embeddings are not cached (the route's cache status stays ``DISABLED``)."""
        return await self._inner.embed(request, context)

    async def _lookup(self, entry: _Entry, context: RequestContext) -> ChatResponse | None:
        """Exact first (``HIT``), then semantic (``SEMANTIC HIT``); None on a miss or refresh."""
        route = context.route
        if context.cache_force_refresh:
            route.cache_status = "REFRESH"
            if self._semantic is not None and entry.parts is not None:
                entry.vector = await self._semantic.embed(entry.parts[1])
            return None
        route.cache_status = "MISS"
        response = await self._get(entry.key)
        if response is not None:
            return self._hit(response, "HIT", context)
        if self._semantic is None or entry.parts is None:
            return None
        entry.vector = await self._semantic.embed(entry.parts[1])
        if entry.vector is None:
            return None
        route.cache_status = "SEMANTIC MISS"
        try:
            candidates = await self._semantic.search(entry.parts[0], entry.parts[1], entry.vector)
        except _STORE_ERRORS as error:
            self._warn("semantic lookup", error)
            return None
        for _score, key in candidates:
            response = await self._get(key)
            if response is not None:
                return self._hit(response, "SEMANTIC HIT", context)
        return None

    async def _get(self, key: str) -> ChatResponse | None:
        try:
            data = await self._store.get(key)
            return decode_response(data) if data is not None else None
        except _STORE_ERRORS as error:
            self._warn("lookup", error)
            return None

    def _hit(self, response: ChatResponse, status: CacheStatus, context: RequestContext) -> ChatResponse:
        route = context.route
        route.cache_status = status
        route.last_used_option_index = self._path
        route.provider = self._provider
        route.model = response.model
        route.status_code = 200
        route.retry_attempt_count = 0
        return response

    async def save(self, entry: _Entry, response: ChatResponse) -> None:
        """Store a complete response, and its question's vector (a failing store is logged once)."""
        try:
            await self._store.set(entry.key, encode_response(response), self._ttl)
            if self._semantic is not None and entry.parts is not None and entry.vector is not None:
                await self._semantic.add(entry.parts[0], entry.parts[1], entry.vector, entry.key, self._ttl)
        except _STORE_ERRORS as error:
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

    def __init__(self, inner: ChunkStream, cache: Caching, entry: _Entry) -> None:
        self._inner = inner
        self._cache = cache
        self._entry = entry

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[ChatChunk]:
        fold = StreamFold()
        async for chunk in self._inner:
            fold.add(chunk)
            yield chunk
        response = fold.response()
        if response is not None:
            await self._cache.save(self._entry, response)

    async def aclose(self) -> None:
        """Close the upstream stream."""
        await self._inner.aclose()
