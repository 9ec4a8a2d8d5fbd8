"""The shared state in Redis (the ``[redis]`` extra): every worker on every host shares it.

Each step is ONE command or ONE Lua script, which Redis runs atomically: ``swrr_pick`` reads the
scope's counters (a hash), skips disabled members, caps throttled ones, chooses and writes back in
one script, so picks from many processes interleave into one smooth round-robin sequence.
Cooldowns and disables are keys with an expiry on Redis's own clock (``SET ... PX``), so hosts
need not agree on the time. Keys: ``{prefix}swrr:{scope}`` (expires after ``positions_ttl_s``
without a pick), ``{prefix}cd:{member}`` and ``{prefix}off:{member}``. Values are numbers and
``1``; no key, no error text (a provider's message may echo part of a key) is ever written.

**Redis unreachable.** Commands time out after ``timeout_s`` (0.1 s) and are not retried; the
step is then served from an in-process :class:`~.memory.MemoryState` (balancing is not a security
limit: it fails open), a warning is logged at most once per ``warn_every`` seconds, and Redis is
tried again ``retry_s`` seconds later; picks and cooldowns go back to Redis as soon as it answers.
The calls are synchronous (a pick is decided before the request is built): about one round trip
each, a loopback one in ~0.1 ms; while Redis is down at most one timeout per ``retry_s``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from . import MemberStatus, SwrrChoice
from .memory import MemoryState

__all__ = ["RedisState"]

_log = logging.getLogger("strands_portkey.shared_state")
_T = TypeVar("_T")

# KEYS[1]: the scope's counters; with a cap, KEYS[1+i] / KEYS[1+n+i]: member i's cooldown / disable.
# ARGV[1]: counters' ttl (ms); ARGV[2]: the throttled weight ('' = no cooldowns); then id, weight pairs.
# Returns {id, throttled} or nil when no member is usable. '%.17g' keeps every double exact.
_PICK = """
local n = (#ARGV - 2) / 2
local cap = tonumber(ARGV[2])
local ids = {}
for i = 1, n do ids[i] = ARGV[1 + 2 * i] end
local cur = redis.call('HMGET', KEYS[1], unpack(ids))
local best, total, throttled = 0, 0, 0
local changed = {}
for i = 1, n do
  local w = tonumber(ARGV[2 + 2 * i])
  local usable, t = true, 0
  if cap then
    if redis.call('EXISTS', KEYS[1 + n + i]) == 1 then
      usable = false
    elseif redis.call('EXISTS', KEYS[1 + i]) == 1 then
      t = 1
      if w > cap then w = cap end
    end
  end
  if usable then
    cur[i] = (tonumber(cur[i]) or 0) + w
    total = total + w
    changed[#changed + 1] = i
    if best == 0 or cur[i] > cur[best] then best = i; throttled = t end
  end
end
if best == 0 then return false end
cur[best] = cur[best] - total
local args = {}
for _, i in ipairs(changed) do
  args[#args + 1] = ids[i]
  args[#args + 1] = string.format('%.17g', cur[i])
end
redis.call('HSET', KEYS[1], unpack(args))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return {ids[best], throttled}
"""


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


class RedisState:
    """Round-robin positions and cooldowns shared through one Redis 6.2+.

    Args:
        url: ``redis://[:password@]host:port/db`` (``rediss://`` for TLS).
        prefix: Prepended to every key (several gateways may share one database).
        timeout_s: Connect and per-command timeout; commands are never retried.
        retry_s: After a failure, seconds served locally before Redis is tried again.
        warn_every: Seconds between two warnings about an unreachable Redis.
        positions_ttl_s: A scope's counters expire after this long without a pick.
        clock: Monotonic seconds (the local fallback's cooldowns, the retry timer).
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "spk:",
        timeout_s: float = 0.1,
        retry_s: float = 2.0,
        warn_every: float = 10.0,
        positions_ttl_s: float = 86_400.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry
        except ImportError as error:
            raise ImportError(
                "RedisState needs the [redis] extra: pip install 'strands-agents-portkey[redis]'"
            ) from error
        if not timeout_s > 0:
            raise ValueError(f"timeout_s: expected seconds > 0, got {timeout_s!r}")
        self._url = url
        self._prefix = prefix
        self._retry_s = retry_s
        self._warn_every = warn_every
        self._positions_ttl_ms = _ms(positions_ttl_s)
        self._clock = clock
        self.local = MemoryState(clock=clock)  # what serves while Redis is unreachable
        self._lock = threading.Lock()
        self._down_until = -math.inf
        self._warned_at = -math.inf
        self._client: Any = redis.Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 0),
            retry_on_error=[],
        )
        self._pick_script: Any = self._client.register_script(_PICK)

    def __repr__(self) -> str:
        return f"RedisState(url={_redacted(self._url)!r}, prefix={self._prefix!r})"

    @property
    def available(self) -> bool:
        """Whether the last step reached Redis (False while serving from the local fallback)."""
        return self._down_until == -math.inf

    def _run(self, step: str, remote: Callable[[Any], _T], local: Callable[[], _T]) -> _T:
        """``remote`` on Redis; ``local`` while it is known to be down or when it fails now."""
        if self._down_until != -math.inf and self._clock() < self._down_until:
            return local()
        from redis.exceptions import RedisError

        try:
            result = remote(self._client)
        except (RedisError, OSError) as error:
            self._went_down(step, error)
            return local()
        if self._down_until != -math.inf:
            with self._lock:
                self._down_until = -math.inf
            _log.warning("shared state: Redis %s is back; positions and cooldowns shared again", self)
        return result

    def _went_down(self, step: str, error: BaseException) -> None:
        now = self._clock()
        with self._lock:
            self._down_until = now + self._retry_s
            warn = now - self._warned_at >= self._warn_every
            if warn:
                self._warned_at = now
        if warn:
            _log.warning(
                "shared state: Redis %s unreachable during %s (%s); balancing and cooldowns are "
                "local to this process until it is back",
                _redacted(self._url),
                step,
                type(error).__name__,
            )

    def swrr_pick(
        self, scope: str, members: Sequence[tuple[str, float]], *, throttled_weight: float | None = None
    ) -> SwrrChoice | None:
        """One smooth weighted round-robin step, in one script (see :class:`SharedState`)."""
        if not members:
            return None
        keys = [f"{self._prefix}swrr:{scope}"]
        if throttled_weight is not None:
            keys += [f"{self._prefix}cd:{member}" for member, _ in members]
            keys += [f"{self._prefix}off:{member}" for member, _ in members]
        args: list[str | int] = [
            self._positions_ttl_ms,
            "" if throttled_weight is None else repr(throttled_weight),
        ]
        for member, weight in members:
            args += [member, repr(float(weight))]

        def remote(_client: Any) -> SwrrChoice | None:
            found = self._pick_script(keys=keys, args=args)
            if found is None:
                return None
            member, throttled = found
            return SwrrChoice(member.decode() if isinstance(member, bytes) else str(member), bool(throttled))

        return self._run(
            "swrr_pick",
            remote,
            lambda: self.local.swrr_pick(scope, members, throttled_weight=throttled_weight),
        )

    def throttle(self, member: str, seconds: float) -> None:
        """Cap ``member``'s weight for ``seconds`` (here and, for the fallback, locally)."""
        self.local.throttle(member, seconds)
        self._run("throttle", lambda c: c.set(f"{self._prefix}cd:{member}", 1, px=_ms(seconds)), lambda: None)

    def disable(self, member: str, seconds: float) -> None:
        """Skip ``member`` for ``seconds`` (here and locally)."""
        self.local.disable(member, seconds)
        self._run("disable", lambda c: c.set(f"{self._prefix}off:{member}", 1, px=_ms(seconds)), lambda: None)

    def restore(self, member: str) -> None:
        """Clear ``member``'s cooldown and disable (here and locally)."""
        self.local.restore(member)
        keys = (f"{self._prefix}cd:{member}", f"{self._prefix}off:{member}")
        self._run("restore", lambda c: c.delete(*keys), lambda: None)

    def status(self, members: Sequence[str]) -> dict[str, MemberStatus]:
        """Seconds left on each member's cooldown and disable (``PTTL``s, one round trip)."""

        def remote(client: Any) -> dict[str, MemberStatus]:
            pipe = client.pipeline(transaction=False)
            for member in members:
                pipe.pttl(f"{self._prefix}cd:{member}")
                pipe.pttl(f"{self._prefix}off:{member}")
            ttls = pipe.execute()
            return {
                member: MemberStatus(_left(ttls[2 * i]), _left(ttls[2 * i + 1]))
                for i, member in enumerate(members)
            }

        return self._run("status", remote, lambda: self.local.status(members))

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


def _left(pttl: int) -> float | None:
    """Seconds from a ``PTTL`` reply (negative: no such key, or no expiry)."""
    return pttl / 1000 if pttl >= 0 else None
