"""Guardrail stages of a leaf: input hooks before the call, output hooks after it.

Leaf order (Portkey's): **input hooks** -> cache lookup -> retry loop around (**upstream call ->
output hooks**). So an input denial makes no upstream call and is not retried; an output denial
is a 446 the retry loop re-issues at once when 446 is in ``retry.on_status_codes``, and fallback
moves on from it to the next target.

Results land on ``RouteInfo.hook_results``; a failed hook without ``deny`` sets
``RouteInfo.status_code`` to 246 and the answer is returned. ``async`` hooks run in the
background on a copy of the context and never delay, deny or rewrite; their results are
appended when they finish.

Streaming policy (output hooks): text passes through as it arrives, rewritten chunk by chunk by
streaming redactors (PII redaction holds back a short tail so no match is split). Every other
output check needs the whole text, so it runs when the upstream reports the end (the chunk with a
finish reason), **before** that chunk is passed on: a failed deny hook then raises
:class:`~strands_portkey.errors.GuardrailDeniedError` instead of a finished answer. Retry and
fallback cannot act at that point (the stream is committed).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from ..embeddings import EmbeddingRequest, EmbeddingResponse
from ..errors import GuardrailDeniedError
from ..guardrails.context import (
    CheckContext,
    HttpSend,
    apply_request_texts,
    apply_response_texts,
    request_texts,
    response_texts,
)
from ..guardrails.runner import CompiledHook, run_hook
from ..hook_results import HookEvent, HookResult, HookResults
from ..types import ChatChunk, ChatRequest, ChatResponse, ChunkChoice, Delta, Usage
from .base import ChunkStream, Handler, RequestContext

__all__ = ["InputGuard", "OutputGuard"]


class _Hooks:
    """Runs a list of compiled hooks, keeping background (async) hooks alive until they finish."""

    def __init__(self, hooks: tuple[CompiledHook, ...], send: HttpSend | None, provider: str) -> None:
        self._sync = tuple(hook for hook in hooks if not hook.config.is_async)
        self._async = tuple(hook for hook in hooks if hook.config.is_async and hook.config.type != "mutator")
        self._send = send
        self._provider = provider
        self._background: set[asyncio.Task[None]] = set()

    def context(
        self,
        event: HookEvent,
        request: ChatRequest,
        texts: list[str],
        meta: RequestContext,
        response: ChatResponse | None = None,
    ) -> CheckContext:
        return CheckContext(
            event,
            request,
            texts,
            response=response,
            provider=self._provider,
            metadata=meta.metadata,
            send=self._send,
        )

    async def run(self, context: CheckContext, meta: RequestContext) -> list[HookResult]:
        results = meta.route.hook_results
        if results is None:
            results = meta.route.hook_results = HookResults()
        bucket = (
            results.before_request_hooks
            if context.event == "beforeRequestHook"
            else results.after_request_hooks
        )
        for hook in self._async:
            copy = CheckContext(
                context.event,
                context.request,
                list(context.texts),
                response=context.response,
                provider=context.provider,
                metadata=context.metadata,
                send=context.send,
            )
            task = asyncio.get_running_loop().create_task(_background(hook, copy, bucket))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        ran = [await run_hook(hook, context) for hook in self._sync]
        bucket.extend(ran)
        return ran

    @property
    def redactors(self) -> list[Any]:
        """Fresh streaming redactors (one set per stream) for this list's rewriting checks."""
        made = [
            check.streaming_redactor(check.params)
            for hook in self._sync
            for check in hook.checks
            if check.streaming_redactor is not None
        ]
        return [redactor for redactor in made if redactor is not None]


async def _background(hook: CompiledHook, context: CheckContext, bucket: list[HookResult]) -> None:
    bucket.append(await run_hook(hook, context))


def _verdict(ran: list[HookResult], meta: RequestContext, stage: str) -> None:
    denied = [hook.id for hook in ran if hook.deny]
    if denied:
        assert meta.route.hook_results is not None
        raise GuardrailDeniedError(
            f"{stage} blocked by guardrail hook(s) {', '.join(denied)}",
            hook_results=meta.route.hook_results,
            stage=stage,
            code="hooks_failed",
            option_index=meta.route.last_used_option_index,
        )


def _flag(meta: RequestContext) -> None:
    if meta.route.hook_results is not None and meta.route.hook_results.failed:
        meta.route.status_code = 246


class InputGuard:
    """A :class:`Handler` running before-request hooks, then ``inner`` with the (rewritten) request."""

    def __init__(
        self, inner: Handler, hooks: tuple[CompiledHook, ...], send: HttpSend | None, provider: str, path: str
    ) -> None:
        self._inner = inner
        self._hooks = _Hooks(hooks, send, provider)
        self._path = path

    async def _check(self, request: ChatRequest, meta: RequestContext) -> ChatRequest:
        meta.route.last_used_option_index = self._path
        context = self._hooks.context("beforeRequestHook", request, request_texts(request), meta)
        original = list(context.texts)
        ran = await self._hooks.run(context, meta)
        _verdict(ran, meta, "input")
        if context.texts == original:
            return request
        assert meta.route.hook_results is not None
        meta.route.hook_results.rewritten_input = list(context.texts)
        return apply_request_texts(request, context.texts)

    async def chat(self, request: ChatRequest, context: RequestContext) -> ChatResponse:
        """Check the request, then answer it (rewritten if a mutator changed it)."""
        response = await self._inner.chat(await self._check(request, context), context)
        _flag(context)
        return response

    async def open_stream(self, request: ChatRequest, context: RequestContext) -> ChunkStream:
        """Check the request, then open the stream."""
        stream = await self._inner.open_stream(await self._check(request, context), context)
        _flag(context)
        return stream

    async def embed(self, request: EmbeddingRequest, context: RequestContext) -> EmbeddingResponse:
        """Embeddings are not checked: hooks read chat messages, which an embeddings request has none of."""
        return await self._inner.embed(request, context)


class OutputGuard:
    """A :class:`Handler` running after-request hooks on ``inner``'s successful answers."""

    def __init__(
        self, inner: Handler, hooks: tuple[CompiledHook, ...], send: HttpSend | None, provider: str
    ) -> None:
        self._inner = inner
        self._hooks = _Hooks(hooks, send, provider)

    async def chat(self, request: ChatRequest, context: RequestContext) -> ChatResponse:
        """Answer, then check the answer (rewritten if a mutator changed it)."""
        response = await self._inner.chat(request, context)
        _reset_after(context)
        check = self._hooks.context("afterRequestHook", request, response_texts(response), context, response)
        original = list(check.texts)
        ran = await self._hooks.run(check, context)
        _verdict(ran, context, "output")
        _flag(context)
        return apply_response_texts(response, check.texts) if check.texts != original else response

    async def open_stream(self, request: ChatRequest, context: RequestContext) -> ChunkStream:
        """Open the stream; the answer is checked as it flows (see the module's streaming policy)."""
        stream = await self._inner.open_stream(request, context)
        _reset_after(context)
        return _GuardedStream(stream, self._hooks, request, context)

    async def embed(self, request: EmbeddingRequest, context: RequestContext) -> EmbeddingResponse:
        """Embeddings are not checked (vectors have no text for a hook to read)."""
        return await self._inner.embed(request, context)


def _reset_after(context: RequestContext) -> None:
    """A retried or fallen-back call starts with no after-hook results of the previous attempt."""
    if context.route.hook_results is not None:
        context.route.hook_results.after_request_hooks = []


class _GuardedStream:
    """Streams ``inner``'s chunks through redactors; runs whole-text checks before the finish chunk."""

    def __init__(self, inner: ChunkStream, hooks: _Hooks, request: ChatRequest, meta: RequestContext) -> None:
        self._inner = inner
        self._hooks = hooks
        self._request = request
        self._meta = meta
        self._redactors = hooks.redactors
        self._text: list[str] = []

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[ChatChunk]:
        checked = False
        last: ChatChunk | None = None
        async for raw in self._inner:
            last = raw
            finishing = any(choice.finish_reason for choice in raw.choices)
            chunk = self._redact(raw)
            if finishing and not checked:
                tail = self._flush(chunk)
                if tail is not None:
                    yield tail
                await self._check(chunk)
                checked = True
            if chunk.choices or chunk.usage is not None:
                yield chunk
        if not checked and last is not None:
            tail = self._flush(last)
            if tail is not None:
                yield tail
            await self._check(last)

    def _redact(self, chunk: ChatChunk) -> ChatChunk:
        choices = []
        for choice in chunk.choices:
            content = choice.delta.content
            if choice.index == 0 and content:
                for redactor in self._redactors:
                    content = redactor.feed(content)
                self._text.append(content)
                choices.append(replace(choice, delta=replace(choice.delta, content=content)))
            else:
                choices.append(choice)
        return replace(chunk, choices=tuple(choices))

    def _flush(self, chunk: ChatChunk) -> ChatChunk | None:
        rest = ""
        for index, redactor in enumerate(self._redactors):
            piece = redactor.flush()
            for later in self._redactors[index + 1 :]:
                piece = later.feed(piece)
            rest += piece
        if not rest:
            return None
        self._text.append(rest)
        return ChatChunk(chunk.id, chunk.model, (ChunkChoice(0, Delta(content=rest)),), None, chunk.created)

    async def _check(self, chunk: ChatChunk) -> None:
        text = "".join(self._text)
        response = ChatResponse(chunk.id, chunk.model, (), Usage())
        context = self._hooks.context("afterRequestHook", self._request, [text], self._meta, response)
        ran = await self._hooks.run(context, self._meta)
        _verdict(ran, self._meta, "output")
        _flag(self._meta)

    async def aclose(self) -> None:
        """Close the upstream stream."""
        await self._inner.aclose()
