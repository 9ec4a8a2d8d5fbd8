"""The stages around each leaf's upstream call, outermost first: input hooks, cache, retry, output hooks.

Portkey's order (see :mod:`.pipeline.guardrails`). The gateway builds one :class:`LeafStages`
from its own parts (check registry, backoff, sleep, randomness, cache) and wraps every leaf with it.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .cache.semantic import SemanticCache
from .cache.stores import CacheStore
from .config.plan import LeafPlan
from .guardrails import CheckRegistry
from .guardrails.runner import compile_hooks
from .pipeline.base import Handler
from .pipeline.cache import Caching
from .pipeline.guardrails import InputGuard, OutputGuard
from .pipeline.retry import Backoff, Retrying, Sleep
from .wire import HttpRequest, HttpResponse

__all__ = ["LeafStages"]

SendCheck = Callable[[HttpRequest, float], Awaitable[HttpResponse]]


@dataclass(frozen=True, slots=True)
class LeafStages:
    """The gateway's parts the stages need; :meth:`wrap` applies the leaf's own settings."""

    checks: CheckRegistry
    send_check: SendCheck
    backoff: Backoff
    sleep: Sleep
    rng: random.Random
    cache_store: CacheStore
    semantic: SemanticCache

    def wrap(self, leaf: LeafPlan, call: Handler, provider: str, host: str) -> Handler:
        """``call`` (the upstream call of ``leaf``, at ``provider`` / ``host``) inside its stages."""
        handler = call
        if leaf.after_hooks:
            after = compile_hooks(leaf.after_hooks, "afterRequestHook", self.checks)
            handler = OutputGuard(handler, after, self.send_check, provider)
        if leaf.retry is not None:
            handler = Retrying(handler, leaf.retry, self.backoff, self.sleep, self.rng)
        if leaf.cache is not None:
            handler = Caching(
                handler,
                leaf.cache,
                self.cache_store,
                path=leaf.path,
                provider=provider,
                host=host,
                override_params=leaf.override_params,
                semantic=self.semantic,
            )
        if leaf.before_hooks:
            before = compile_hooks(leaf.before_hooks, "beforeRequestHook", self.checks)
            handler = InputGuard(handler, before, self.send_check, provider, leaf.path)
        return handler
