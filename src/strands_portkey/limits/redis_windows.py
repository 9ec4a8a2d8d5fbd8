"""Fixed-window counters in Redis (the ``[redis]`` extra): every worker sharing the Redis shares them.

One Lua script per start, which Redis runs atomically: ``INCR`` the key's counter, give a new
counter the window as its expiry (Redis's own clock, so hosts need not agree on the time), and
refuse past the limit with the counter's remaining lifetime as the wait. The calls are
synchronous (the service layer that asks runs in a worker thread). Redis unreachable: the start
is refused with :class:`~strands_portkey.errors.LimitsUnavailableError` (503), never let through
uncounted.
"""

from __future__ import annotations

import math
import threading
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import LimitsUnavailableError

__all__ = ["RedisWindows"]

# KEYS[1]: the counter. ARGV[1]: limit; ARGV[2]: window (ms). Returns 0 admitted, else the wait (ms).
_TAKE = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if count <= tonumber(ARGV[1]) then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]); ttl = tonumber(ARGV[2]) end
return ttl
"""


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class RedisWindows:
    """Fixed windows in Redis 6.2+ under ``prefix`` (keys ``{prefix}{key}``)."""

    def __init__(self, url: str, *, prefix: str = "spk:windows:", timeout_s: float = 0.5) -> None:
        try:
            import redis  # noqa: F401
        except ImportError as error:
            raise ImportError(
                "RedisWindows needs the [redis] extra: pip install 'strands-agents-portkey[redis]'"
            ) from error
        self._url = url
        self._prefix = prefix
        self._timeout_s = timeout_s
        self._script: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RedisWindows(url={_redacted(self._url)!r}, prefix={self._prefix!r})"

    def _take_script(self) -> Any:
        with self._lock:
            if self._script is None:
                import redis

                client = redis.Redis.from_url(
                    self._url, socket_timeout=self._timeout_s, socket_connect_timeout=self._timeout_s
                )
                self._script = client.register_script(_TAKE)
            return self._script

    def take(self, key: str, *, limit: int, window_s: float) -> float | None:
        """See :class:`~strands_portkey.limits.windows.WindowCounter`."""
        window_ms = max(1, math.ceil(window_s * 1000))
        try:
            wait_ms = int(self._take_script()(keys=[f"{self._prefix}{key}"], args=[limit, window_ms]))
        except Exception as error:  # redis.exceptions.RedisError, OSError
            raise LimitsUnavailableError(
                f"the limits' store (Redis {_redacted(self._url)}) is unreachable ({type(error).__name__})"
            ) from None
        return None if wait_ms <= 0 else wait_ms / 1000
