"""``POST /v1/chat/completions``: OpenAI's chat completions over ``Gateway.chat`` / ``Gateway.stream``.

Non-streamed: OpenAI's ``chat.completion`` JSON, status 200 (246 when a guardrail failed without
denying, with Portkey's ``hook_results`` in the body), Portkey's ``x-portkey-*`` headers and the
cost header. Streamed: ``text/event-stream`` of ``data: <chat.completion.chunk>`` events ending in
``data: [DONE]``; the headers are sent once the stream is committed (its first chunk read), so a
failure before that is an ordinary error response. A failure after it ends the stream with an
``data: {"error": ...}`` event and no ``[DONE]``: a truncated answer never looks complete. A client
that goes away closes the upstream call; analytics records the request once, as cancelled.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ..._json import dumps as _dumps
from ...chat_stream import ChatStream
from ...errors import GatewayError
from ...types import ChatRequest, ChatResponse, Usage
from ..errors import error_reply, status_of
from ..headers import response_headers
from ..limits import Outcome
from ..state import Admitted, ServerState

__all__ = ["answer", "chat_completions", "json_response", "open_stream"]

_log = logging.getLogger("strands_portkey.server")
_DONE = b"data: [DONE]\n\n"
_SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response without Starlette's re-validation (the body is ours)."""
    return Response(_dumps(body), status_code=status, headers=headers, media_type="application/json")


def error_response(error: BaseException) -> Response:
    """``error`` in OpenAI's shape with its status and headers (see :mod:`..errors`)."""
    reply = error_reply(error, "openai")
    return json_response(reply.body, reply.status, dict(reply.headers))


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.server
    return state


async def chat_completions(request: Request) -> Response:
    """Answer one chat-completions request (streamed when the body says ``"stream": true``)."""
    state = _state(request)
    try:
        admitted = await state.admit(request, "chat.completions")
    except Exception as error:
        return _unexpected(error)
    try:
        chat_request = ChatRequest.from_body(admitted.body)
        if chat_request.stream:
            return await _stream(state, admitted, chat_request)
        return await _chat(state, admitted, chat_request)
    except Exception as error:
        await state.settle(admitted, Outcome(status_of(error)))
        return _unexpected(error)


def _unexpected(error: Exception) -> Response:
    if not isinstance(error, GatewayError):
        _log.error("chat completions failed unexpectedly: %s", type(error).__name__)
    return error_response(error)


async def answer(
    state: ServerState,
    admitted: Admitted,
    chat_request: ChatRequest,
    render: Callable[[ChatResponse], dict[str, Any]],
) -> Response:
    """``Gateway.chat``, then the answer as ``render`` writes it in the caller's wire format.

    Shared by every route that answers a chat: Portkey's 246 with ``hook_results`` when a guardrail
    failed without denying, the cost at the control plane's rates, the limits settled once, the
    ``x-portkey-*`` and ``x-ratelimit-*`` headers.
    """
    options = admitted.options
    response = await admitted.gateway.chat(
        chat_request,
        trace_id=options.trace_id,
        metadata=options.metadata,
        cache_namespace=options.cache_namespace,
        cache_force_refresh=options.cache_force_refresh,
        forward=options.forward,
    )
    route = response.route
    body = render(response)
    status = 200
    if route is not None and route.hook_results is not None:
        body["hook_results"] = route.hook_results.to_dict()
        status = 246 if route.status_code == 246 else 200
    provider = route.provider if route is not None else ""
    cost = state.cost(
        provider, (route.model if route is not None and route.model else response.model), response.usage
    )
    await state.settle(admitted, Outcome(status, response.usage, cost))
    headers = response_headers(route, cost, admitted.reservation.headers)
    return json_response(body, status, headers)


async def open_stream(
    admitted: Admitted, chat_request: ChatRequest
) -> tuple[ChatStream, dict[str, str], int]:
    """``Gateway.stream`` opened (committed), with the SSE response's headers and status.

    A failure before the first chunk raises here and becomes an ordinary error response.
    """
    options = admitted.options
    stream = admitted.gateway.stream(
        chat_request,
        trace_id=options.trace_id,
        metadata=options.metadata,
        cache_namespace=options.cache_namespace,
        cache_force_refresh=options.cache_force_refresh,
        forward=options.forward,
    )
    await stream.open()
    headers = response_headers(stream.route, None, {**_SSE_HEADERS, **admitted.reservation.headers})
    return stream, headers, 246 if stream.route.status_code == 246 else 200


async def _chat(state: ServerState, admitted: Admitted, chat_request: ChatRequest) -> Response:
    return await answer(state, admitted, chat_request, ChatResponse.to_dict)


async def _stream(state: ServerState, admitted: Admitted, chat_request: ChatRequest) -> Response:
    stream, headers, status = await open_stream(admitted, chat_request)
    return StreamingResponse(
        _events(state, admitted, stream), status_code=status, headers=headers, media_type="text/event-stream"
    )


async def _events(state: ServerState, admitted: Admitted, stream: ChatStream) -> AsyncIterator[bytes]:
    usage: Usage | None = None
    outcome = Outcome(499)  # a client that went away, unless the stream ends otherwise
    try:
        async for chunk in stream:
            if chunk.usage is not None:
                usage = chunk.usage
            yield b"data: " + _dumps(chunk.to_dict()) + b"\n\n"
        outcome = Outcome(200, usage, state.cost(stream.route.provider, stream.route.model, usage))
        yield _DONE
    except GatewayError as error:
        outcome = Outcome(status_of(error), usage)
        yield b"data: " + _dumps(error_reply(error, "openai").body) + b"\n\n"
    finally:
        with anyio.CancelScope(shield=True):  # the client may be gone: close upstream anyway
            await stream.aclose()
            await state.settle(admitted, outcome)
