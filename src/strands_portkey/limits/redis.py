"""The limits in Redis (the ``[redis]`` extra): every worker that shares the Redis shares the limits.

Each step is ONE Lua script, which Redis runs atomically: ``reserve`` reads every bucket and
budget counter, refuses if any limit is over, and otherwise takes from all of them; ``settle``
applies the differences between estimate and actual. Time is Redis's own clock (``TIME``), so
workers on several hosts agree on the buckets whatever their clocks say; a budget's calendar
period comes from the worker's wall clock (a few seconds of skew only matter at midnight UTC).

Buckets are hashes (``l``: level, ``t``: when) expiring once they would be full again; budget
counters are ``INCRBYFLOAT`` keys per period, expiring a day after their period ends.

**Redis unreachable.** Commands time out after ``timeout_s`` (0.25 s by default) and are not
retried, so a request never hangs. ``reserve`` then fails closed with
:class:`~strands_portkey.errors.LimitsUnavailableError` (503), or, with ``fail_open=True``,
admits the request uncounted and logs a warning (at most one per ``warn_every`` seconds).
``settle`` never raises (the answer has been given): it logs.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import LimitsUnavailableError
from .engine import Bucket, Budget, LimitsEngine, Plan, Refusal

__all__ = ["RedisLimits"]

_log = logging.getLogger("strands_portkey.limits")

# KEYS: bucket keys, then budget keys (with their period). ARGV[1]: number of buckets; then
# (capacity, rate, take) per bucket; then (limit, amount, ttl_ms) per budget.
# Returns {0, used..., level...} when admitted (budgets' usage, then buckets' levels),
# {1, index, wait} over a rate limit, {2, index, used} over a budget.
_RESERVE = """
local nb = tonumber(ARGV[1])
local budgets = #KEYS - nb
for j = 1, budgets do
  local a = 2 + nb * 3 + (j - 1) * 3
  local used = tonumber(redis.call('GET', KEYS[nb + j]) or '0')
  if used >= tonumber(ARGV[a]) then return {2, j - 1, tostring(used)} end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local levels = {}
local worst, wait = -1, 0
for i = 1, nb do
  local a = 2 + (i - 1) * 3
  local cap, rate = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local state = redis.call('HMGET', KEYS[i], 'l', 't')
  local level, at = tonumber(state[1]), tonumber(state[2])
  if level == nil then level = cap elseif now > at then level = math.min(cap, level + (now - at) * rate) end
  levels[i] = level
  if level < 1 and (1 - level) / rate > wait then wait = (1 - level) / rate; worst = i - 1 end
end
if worst >= 0 then return {1, worst, tostring(wait)} end
for i = 1, nb do
  local a = 2 + (i - 1) * 3
  local cap, rate, take = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local level = levels[i] - take
  redis.call('HSET', KEYS[i], 'l', tostring(level), 't', tostring(now))
  redis.call('PEXPIRE', KEYS[i], math.ceil((cap - level) / rate * 1000) + 1000)
end
local out = {0}
for j = 1, budgets do
  local a = 2 + nb * 3 + (j - 1) * 3
  out[j + 1] = redis.call('INCRBYFLOAT', KEYS[nb + j], ARGV[a + 1])
  local ttl = tonumber(ARGV[a + 2])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[nb + j], ttl) end
end
for i = 1, nb do
  out[budgets + 1 + i] = tostring(levels[i] - tonumber(ARGV[2 + (i - 1) * 3 + 2]))
end
return out
"""

# KEYS: bucket keys, then budget keys. ARGV[1]: number of buckets; then (capacity, rate, delta)
# per bucket; then delta per budget. A budget counter that is gone (its period ended) stays gone.
_SETTLE = """
local nb = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
for i = 1, nb do
  local a = 2 + (i - 1) * 3
  local cap, rate, delta = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local state = redis.call('HMGET', KEYS[i], 'l', 't')
  local level, at = tonumber(state[1]), tonumber(state[2])
  if level == nil then level = cap elseif now > at then level = math.min(cap, level + (now - at) * rate) end
  level = math.min(cap, level - delta)
  redis.call('HSET', KEYS[i], 'l', tostring(level), 't', tostring(now))
  redis.call('PEXPIRE', KEYS[i], math.ceil((cap - level) / rate * 1000) + 1000)
end
for j = 1, #KEYS - nb do
  local key = KEYS[nb + j]
  if redis.call('EXISTS', key) == 1 then
    local used = tonumber(redis.call('INCRBYFLOAT', key, ARGV[1 + nb * 3 + j]))
    if used < 0 then redis.call('SET', key, '0', 'KEEPTTL') end
  end
end
return 0
"""


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _ms(seconds: float) -> int:
    return 0 if math.isinf(seconds) else max(1, math.ceil(seconds * 1000))


class RedisLimits(LimitsEngine):
    """Limits shared by every worker on one Redis 6.2+.

    :meth:`usage` reads with a synchronous client of its own (one, made on first use), in one
    ``MULTI`` / ``EXEC`` with Redis's ``TIME``, so it agrees with the scripts.

    Args:
        url: ``redis://[:password@]host:port/db`` (``rediss://`` for TLS).
        prefix: Prepended to every key (several gateways may share one database).
        timeout_s: Connect and per-command timeout; commands are never retried.
        fail_open: When Redis cannot be reached, admit requests uncounted (logged) instead of
            refusing them with :class:`LimitsUnavailableError` (the default: fail closed).
        wall_clock: Epoch seconds for the budgets' calendar periods (injected in tests).
        warn_every: Seconds between two warnings about an unreachable Redis.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "spk:limits:",
        timeout_s: float = 0.25,
        fail_open: bool = False,
        wall_clock: Callable[[], float] = time.time,
        warn_every: float = 10.0,
    ) -> None:
        try:
            import redis.asyncio  # noqa: F401
        except ImportError as error:
            raise ImportError(
                "RedisLimits needs the [redis] extra: pip install 'strands-agents-portkey[redis]'"
            ) from error
        if not timeout_s > 0:
            raise ValueError(f"timeout_s: expected seconds > 0, got {timeout_s!r}")
        super().__init__(prefix=prefix, wall_clock=wall_clock)
        self._url = url
        self._timeout_s = timeout_s
        self.fail_open = fail_open
        self._warn_every = warn_every
        self._warned_at = -math.inf
        self._clients: dict[asyncio.AbstractEventLoop, tuple[Any, Any, Any]] = {}
        self._reader: Any = None  # the synchronous client of usage()
        self._reader_lock = threading.Lock()

    counted_in = "redis"

    def __repr__(self) -> str:
        mode = "open" if self.fail_open else "closed"
        return f"RedisLimits(url={_redacted(self._url)!r}, prefix={self.prefix!r}, fails={mode})"

    def _client(self) -> tuple[Any, Any, Any]:
        """The client and both scripts for the running event loop (a client is bound to its loop)."""
        loop = asyncio.get_running_loop()
        found = self._clients.get(loop)
        if found is None:
            import redis.asyncio
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            client = redis.asyncio.Redis.from_url(
                self._url,
                socket_timeout=self._timeout_s,
                socket_connect_timeout=self._timeout_s,
                retry=Retry(NoBackoff(), 0),
                retry_on_error=[],
            )
            found = (client, client.register_script(_RESERVE), client.register_script(_SETTLE))
            for stale in [other for other in self._clients if other.is_closed()]:
                del self._clients[stale]
            self._clients[loop] = found
        return found

    def _unreachable(self, error: BaseException, step: str) -> None:
        now = time.monotonic()
        if now - self._warned_at >= self._warn_every:
            self._warned_at = now
            _log.warning(
                "limits: Redis %s unreachable during %s (%s); %s",
                _redacted(self._url),
                step,
                type(error).__name__,
                "requests pass uncounted (fail_open)"
                if self.fail_open and step == "reserve"
                else "requests are refused until it is back"
                if step == "reserve"
                else "this usage is not counted",
            )

    async def _reserve(self, plan: Plan) -> tuple[float, ...] | Refusal | None:
        keys = [bucket.key for bucket in plan.buckets]
        keys += [f"{budget.key}:{budget.period}" for budget in plan.budgets]
        args: list[Any] = [len(plan.buckets)]
        for bucket in plan.buckets:
            args += [repr(bucket.capacity), repr(bucket.rate), repr(bucket.take)]
        for budget in plan.budgets:
            args += [repr(budget.limit), repr(budget.amount), _ms(budget.ttl)]
        try:
            _client, script, _settle = self._client()
            reply = await script(keys=keys, args=args)
        except Exception as error:  # redis.exceptions.RedisError, OSError, asyncio.TimeoutError
            self._unreachable(error, "reserve")
            if self.fail_open:
                return None
            raise LimitsUnavailableError(
                f"the limits' store (Redis {_redacted(self._url)}) is unreachable "
                f"({type(error).__name__}); requests are refused until it is back"
            ) from None
        status = int(reply[0])
        if status == 0:
            return tuple(float(used) for used in reply[1:])
        return Refusal(status == 2, int(reply[1]), float(reply[2]))

    def _sync_client(self) -> Any:
        with self._reader_lock:
            if self._reader is None:
                import redis
                from redis.backoff import NoBackoff
                from redis.retry import Retry

                self._reader = redis.Redis.from_url(
                    self._url,
                    socket_timeout=self._timeout_s,
                    socket_connect_timeout=self._timeout_s,
                    retry=Retry(NoBackoff(), 0),
                    retry_on_error=[],
                )
            return self._reader

    def _read(self, plan: Plan) -> tuple[tuple[float, ...], tuple[float, ...]]:
        try:
            pipe = self._sync_client().pipeline(transaction=True)
            pipe.time()
            for bucket in plan.buckets:
                pipe.hmget(bucket.key, "l", "t")
            for budget in plan.budgets:
                pipe.get(f"{budget.key}:{budget.period}")
            reply = pipe.execute()
        except Exception as error:  # redis.exceptions.RedisError, OSError
            raise LimitsUnavailableError(
                f"the limits' store (Redis {_redacted(self._url)}) is unreachable "
                f"({type(error).__name__}); usage cannot be read"
            ) from None
        seconds, micros = reply[0]
        now = float(seconds) + float(micros) / 1_000_000
        levels = []
        for bucket, (level, at) in zip(plan.buckets, reply[1 : 1 + len(plan.buckets)], strict=True):
            if level is None:
                levels.append(bucket.capacity)
            else:
                refill = max(0.0, now - float(at)) * bucket.rate
                levels.append(min(bucket.capacity, float(level) + refill))
        used = tuple(float(value or 0) for value in reply[1 + len(plan.buckets) :])
        return tuple(levels), used

    async def _settle(
        self, buckets: tuple[tuple[Bucket, float], ...], budgets: tuple[tuple[Budget, float], ...]
    ) -> None:
        keys = [bucket.key for bucket, _ in buckets] + [f"{b.key}:{b.period}" for b, _ in budgets]
        args: list[Any] = [len(buckets)]
        for bucket, delta in buckets:
            args += [repr(bucket.capacity), repr(bucket.rate), repr(delta)]
        args += [repr(delta) for _, delta in budgets]
        try:
            _client, _reserve, script = self._client()
            await script(keys=keys, args=args)
        except Exception as error:
            self._unreachable(error, "settle")

    async def aclose(self) -> None:
        """Close this event loop's connections (others' go with their loops)."""
        found = self._clients.pop(asyncio.get_running_loop(), None)
        if found is not None:
            await found[0].aclose()
        with self._reader_lock:
            reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()
