"""Rate limits and budgets of gateway API keys: ``reserve`` before a call, ``settle`` after it.

A pure library (no HTTP): the server calls it between authenticating a key and routing the
request. Each step is one atomic operation, in memory (:class:`MemoryLimits`, one worker) or in
Redis (:class:`~strands_portkey.limits.redis.RedisLimits`, every worker sharing it; the
``[redis]`` extra, imported only when used). See :mod:`.model` for the semantics.
"""

from __future__ import annotations

from .engine import LimitsEngine, MemoryLimits, Reservation
from .model import Limits, LimitSubject, RateLimit, Spend, UsageLimit
from .usage import LimitsUsage, RateLimitUsage, UsageLimitUsage

__all__ = [
    "LimitSubject",
    "Limits",
    "LimitsEngine",
    "LimitsUsage",
    "MemoryLimits",
    "RateLimit",
    "RateLimitUsage",
    "Reservation",
    "Spend",
    "UsageLimit",
    "UsageLimitUsage",
]
