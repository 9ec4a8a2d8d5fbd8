"""A cache store in Redis (the ``[redis]`` extra): one cache shared by every gateway process.

Answers are plain keys with an expiry (``SET ... PX``). Semantic records go to one Redis list per
scope (``RPUSH``), whose expiry is pushed out to the longest-living record it holds; each gateway
reads only the records it has not seen yet (``LRANGE cursor -1``), so a semantic entry written by
one process is found by the others on their next lookup in that scope.

Redis being down, slow or gone mid-run never fails a request: every Redis error is raised as a
``ConnectionError`` (an ``OSError``), which the cache stage logs once and then serves the request
from the provider. Timeouts are short (one second by default) so a dead Redis costs little.
Clients are kept per event loop (a synchronous ``agent(...)`` call runs a fresh loop each time).
"""

from __future__ import annotations

import asyncio
import math
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = ["RedisStore"]


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class RedisStore:
    """A :class:`~strands_portkey.cache.stores.CacheStore` (and vector log) in Redis 7+.

    Args:
        url: ``redis://[:password@]host:port/db`` (``rediss://`` for TLS).
        prefix: Prepended to every key, so several caches can share a database.
        timeout_s: Connect and per-command timeout.
    """

    def __init__(
        self, url: str = "redis://127.0.0.1:6379/0", *, prefix: str = "spk:cache:", timeout_s: float = 1.0
    ) -> None:
        try:
            import redis.asyncio  # noqa: F401
        except ImportError as error:
            raise ImportError(
                "RedisStore needs the [redis] extra: pip install 'strands-agents-portkey[redis]'"
            ) from error
        self._url = url
        self._prefix = prefix
        self._timeout_s = timeout_s
        self._clients: dict[asyncio.AbstractEventLoop, Any] = {}

    def __repr__(self) -> str:
        return f"RedisStore(url={_redacted(self._url)!r}, prefix={self._prefix!r})"

    def _client(self) -> Any:
        import redis.asyncio

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            for other in [known for known in self._clients if known.is_closed()]:
                del self._clients[other]
            client = redis.asyncio.Redis.from_url(
                self._url,
                socket_timeout=self._timeout_s,
                socket_connect_timeout=self._timeout_s,
                health_check_interval=30,
            )
            self._clients[loop] = client
        return client

    async def _run(self, what: str, operation: Any) -> Any:
        from redis.exceptions import RedisError

        try:
            return await operation(self._client())
        except (RedisError, OSError, asyncio.TimeoutError) as error:
            raise ConnectionError(
                f"redis {what} at {_redacted(self._url)} failed: {type(error).__name__}: {error}"
            ) from error

    async def get(self, key: str) -> bytes | None:
        """The live entry for ``key``, or None."""
        value = await self._run("GET", lambda client: client.get(self._prefix + key))
        return bytes(value) if value is not None else None

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        """Store ``value`` under ``key`` for ``ttl_s`` seconds."""
        ttl_ms = max(1, math.ceil(ttl_s * 1000))
        await self._run("SET", lambda client: client.set(self._prefix + key, value, px=ttl_ms))

    async def append_vector(self, scope: str, record: bytes, ttl_s: float) -> None:
        """Append a semantic record; the scope's list lives as long as its longest-living record."""
        name = f"{self._prefix}vec:{scope}"
        seconds = max(1, math.ceil(ttl_s))

        async def append(client: Any) -> None:
            async with client.pipeline(transaction=True) as pipe:
                pipe.rpush(name, record)
                pipe.expire(name, seconds, nx=True)
                pipe.expire(name, seconds, gt=True)
                await pipe.execute()

        await self._run("RPUSH", append)

    async def read_vectors(self, scope: str, cursor: int) -> tuple[int, list[bytes], bool]:
        """Records after position ``cursor``; ``reset`` when the list expired and started over."""
        name = f"{self._prefix}vec:{scope}"

        async def read(client: Any) -> tuple[int, list[bytes], bool]:
            async with client.pipeline(transaction=False) as pipe:
                pipe.llen(name)
                pipe.lrange(name, cursor, -1)
                length, records = await pipe.execute()
            if length < cursor:
                records = await client.lrange(name, 0, -1)
                return len(records), [bytes(r) for r in records], True
            return cursor + len(records), [bytes(r) for r in records], False

        result: tuple[int, list[bytes], bool] = await self._run("LRANGE", read)
        return result

    async def aclose(self) -> None:
        """Close the client of the running loop (others belong to loops that are gone)."""
        clients, self._clients = self._clients, {}
        loop = asyncio.get_running_loop()
        client = clients.get(loop)
        if client is not None:
            await client.aclose()
