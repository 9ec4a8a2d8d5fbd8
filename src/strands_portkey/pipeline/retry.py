"""Retry around one leaf: Portkey's rules, with jitter, a cap and an injected sleep.

Rules (Portkey's gateway, unless noted):

* ``attempts`` re-tries, so at most ``attempts + 1`` calls; only statuses in ``on_status_codes``
  are retried (default 429, 500, 502, 503, 504 and -- added here -- 529). Network failures are
  always retried. A timeout is a 408, retried only when 408 is listed.
* Waits grow exponentially from ``Backoff.base_s`` (1 s, 2 s, 4 s... as Portkey), here with jitter
  and a cap, and through an injected ``sleep`` so tests never wait.
* With ``use_retry_after``, a 429's ``retry-after-ms`` / ``x-ms-retry-after-ms`` / ``retry-after``
  replaces the backoff wait. A wait of 60 s or more, or one that would overrun a 60 s total
  budget, gives up at once. (Portkey also sleeps after the last attempt before giving up; that
  wait serves no one and is skipped here.)
* A guardrail denial of the answer (446, retried only when listed) is re-issued at once, without
  backoff, as Portkey does.
* ``RouteInfo.retry_attempt_count`` is the retries the leaf made: ``2`` when the third call
  succeeded, ``-1`` when every allowed attempt failed on a retriable status or a Retry-After gave
  up, and the retries made so far when a non-retriable failure stopped it.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from ..config.plan import RetryPlan
from ..embeddings import EmbeddingRequest, EmbeddingResponse
from ..errors import (
    CredentialsUnavailableError,
    GatewayError,
    GuardrailDeniedError,
    RateLimitError,
    UpstreamConnectionError,
)
from ..types import ChatRequest, ChatResponse
from .base import ChunkStream, Handler, RequestContext, is_upstream_outcome

__all__ = ["Backoff", "Retrying", "Sleep"]

Sleep = Callable[[float], Awaitable[None]]
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with jitter.

    The n-th retry waits ``min(cap_s, base_s * factor**n)`` scaled by a random factor in
    ``[1 - jitter, 1]``, so many clients retrying together spread out instead of hammering the
    provider in step. ``retry_after_max_s`` bounds one Retry-After wait and the total of them.
    """

    base_s: float = 1.0
    factor: float = 2.0
    cap_s: float = 30.0
    jitter: float = 0.5
    retry_after_max_s: float = 60.0

    def __post_init__(self) -> None:
        if not (self.base_s >= 0 and self.factor >= 1 and self.cap_s >= 0 and 0 <= self.jitter <= 1):
            raise ValueError(
                f"Backoff needs base_s >= 0, factor >= 1, cap_s >= 0 and 0 <= jitter <= 1, got {self!r}"
            )

    def delay(self, retry_index: int, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry_index`` (0 for the first retry)."""
        nominal = min(self.cap_s, self.base_s * self.factor**retry_index)
        return nominal * (1 - self.jitter * rng.random())


class Retrying:
    """A :class:`Handler` re-sending to ``inner`` per a :class:`RetryPlan`."""

    def __init__(
        self, inner: Handler, policy: RetryPlan, backoff: Backoff, sleep: Sleep, rng: random.Random
    ) -> None:
        self._inner = inner
        self._policy = policy
        self._backoff = backoff
        self._sleep = sleep
        self._rng = rng

    async def chat(self, request: ChatRequest, context: RequestContext) -> ChatResponse:
        """Answer whole, retrying failed attempts."""
        return await self._run(lambda: self._inner.chat(request, context), context)

    async def open_stream(self, request: ChatRequest, context: RequestContext) -> ChunkStream:
        """Open a stream, retrying until one commits (a failure after that is not retried)."""
        return await self._run(lambda: self._inner.open_stream(request, context), context)

    async def embed(self, request: EmbeddingRequest, context: RequestContext) -> EmbeddingResponse:
        """Embed, retrying failed attempts (the same rules as chat)."""
        return await self._run(lambda: self._inner.embed(request, context), context)

    async def _run(self, attempt: Callable[[], Awaitable[_T]], context: RequestContext) -> _T:
        retries = 0
        waited_for_servers = 0.0
        while True:
            try:
                result = await attempt()
            except GatewayError as error:
                if not self._retriable(error):
                    context.route.retry_attempt_count = retries
                    raise
                if retries >= self._policy.attempts:
                    context.route.retry_attempt_count = -1
                    raise
                wait = self._wait(error, retries, waited_for_servers)
                if wait is None:
                    context.route.retry_attempt_count = -1
                    raise
                if isinstance(error, RateLimitError) and self._policy.use_retry_after and error.retry_after:
                    waited_for_servers += wait
                await self._sleep(wait)
                retries += 1
                continue
            context.route.retry_attempt_count = retries
            return result

    def _retriable(self, error: GatewayError) -> bool:
        if not is_upstream_outcome(error) or isinstance(error, CredentialsUnavailableError):
            return False
        if isinstance(error, UpstreamConnectionError):
            return True
        return error.status_code in self._policy.on_status_codes

    def _wait(self, error: GatewayError, retries: int, waited: float) -> float | None:
        """Seconds to wait before the next try, or None to give up now (Retry-After too long)."""
        if isinstance(error, GuardrailDeniedError):
            return 0.0  # Portkey re-issues a call its output guardrail denied at once, without backoff
        if self._policy.use_retry_after and isinstance(error, RateLimitError) and error.retry_after:
            limit = self._backoff.retry_after_max_s
            if error.retry_after >= limit or waited + error.retry_after > limit:
                return None
            return error.retry_after
        return self._backoff.delay(retries, self._rng)
