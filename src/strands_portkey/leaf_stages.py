"""The stages around each leaf's upstream call, outermost first: prompt, hooks, cache, retry, hooks.

Portkey's order (see :mod:`.pipeline.guardrails`). The gateway builds one :class:`LeafStages`
from its own parts (check registry, backoff, sleep, randomness, cache) and wraps every leaf with it.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from .cache.semantic import SemanticCache
from .cache.stores import CacheStore
from .config.plan import LeafPlan
from .embeddings import EmbeddingRequest, EmbeddingResponse
from .errors import ConfigurationError
from .guardrails import CheckRegistry
from .guardrails.runner import compile_hooks
from .pipeline.base import ChunkStream, Handler, RequestContext
from .pipeline.cache import Caching
from .pipeline.guardrails import InputGuard, OutputGuard
from .pipeline.retry import Backoff, Retrying, Sleep
from .prompts.refs import parse_ref
from .types import ChatRequest, ChatResponse
from .wire import HttpRequest, HttpResponse

__all__ = ["LeafStages", "PromptTarget", "RenderPrompt"]

SendCheck = Callable[[HttpRequest, float], Awaitable[HttpResponse]]
# (prompt reference, variables, overrides, the prompt version the request was made through or None)
# -> the rendered OpenAI body (model, messages, params)
RenderPrompt = Callable[[str, Mapping[str, Any], Mapping[str, Any], str | None], dict[str, Any]]


class PromptTarget:
    """A leaf's request rendered from its ``prompt_id``; ``variables`` never go upstream.

    At a prompt leaf the prompt's model, messages and parameters come first; the request's
    parameters (and tools) override the prompt's, and its messages follow the prompt's. When the
    request was itself made through a prompt (``prompt_id`` / ``prompt_version`` metadata), the
    leaf's prompt replaces that prompt's messages (as Portkey lets a config's prompt targets win
    over the call's); the messages the caller added after them still follow.
    """

    __slots__ = ("_inner", "_prompt_id", "_render")

    def __init__(self, inner: Handler, prompt_id: str | None, render: RenderPrompt) -> None:
        self._inner, self._prompt_id, self._render = inner, prompt_id, render

    def _request(self, request: ChatRequest, context: RequestContext) -> ChatRequest:
        if self._prompt_id is None:
            if "variables" not in request.params:
                return request
            return replace(request, params={k: v for k, v in request.params.items() if k != "variables"})
        overrides: dict[str, Any] = {k: v for k, v in request.params.items() if k != "variables"}
        variables = request.params.get("variables") or {}
        overrides["messages"] = list(request.messages)
        called_id, called_version = context.metadata.get("prompt_id"), context.metadata.get("prompt_version")
        called = f"{called_id}@{called_version}" if called_id and called_version else None
        if request.tools:
            overrides["tools"] = request.tools
        if request.tool_choice is not None:
            overrides["tool_choice"] = request.tool_choice
        body = self._render(self._prompt_id, variables, overrides, called)
        body.setdefault("model", request.model)
        return ChatRequest.from_body({**body, "stream": request.stream})

    async def chat(self, request: ChatRequest, context: RequestContext) -> ChatResponse:
        """Render, then answer."""
        return await self._inner.chat(self._request(request, context), context)

    async def open_stream(self, request: ChatRequest, context: RequestContext) -> ChunkStream:
        """Render, then stream."""
        return await self._inner.open_stream(self._request(request, context), context)

    async def embed(self, request: EmbeddingRequest, context: RequestContext) -> EmbeddingResponse:
        """Embeddings have no prompt."""
        return await self._inner.embed(request, context)


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
    render_prompt: RenderPrompt | None = None

    def wrap(self, leaf: LeafPlan, call: Handler, provider: str, host: str) -> Handler:
        """``call`` (the upstream call of ``leaf``, at ``provider`` / ``host``) inside its stages."""
        handler = call
        if leaf.prompt_id is not None:  # a bad reference is a config error, raised at construction
            parse_ref(leaf.prompt_id, f"{leaf.path}.prompt_id", ConfigurationError)
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
        if self.render_prompt is not None:
            handler = PromptTarget(handler, leaf.prompt_id, self.render_prompt)
        return handler
