"""``POST /v1/messages``: Anthropic's Messages API over ``Gateway.chat`` / ``Gateway.stream``.

The body is translated to the canonical request (:mod:`.messages_codec`) and routed like a chat
completion, by the same headers and configs, to any provider: a Claude-style client can be
served by GPT or a local model. The answer is Anthropic's ``message`` JSON, or (``"stream":
true``) Anthropic's SSE events (:mod:`.messages_stream`), with Portkey's ``x-portkey-*``
response headers. Errors have Anthropic's shape (``{"type": "error", "error": {...}}``).

The Anthropic SDK sends the gateway key as ``x-api-key`` (read by the authenticator) and an
``anthropic-version`` header, which is accepted and not needed: the translation is fixed.

Streaming follows the chat route's rules: headers go out once the stream is committed (its first
chunk read), so an earlier failure is an ordinary error response; a later one ends the body with
Anthropic's ``error`` event and no ``message_stop``; a client that goes away closes the upstream
call, and the request is settled once.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ...chat_stream import ChatStream
from ...errors import GatewayError
from ...types import ChatChunk, ChatRequest, Usage
from ..errors import error_reply, status_of
from ..limits import Outcome
from ..state import Admitted, ServerState
from .messages_codec import chat_request_from_messages, message_from_response
from .messages_stream import message_events
from .openai import answer, json_response, open_stream

__all__ = ["messages"]

_log = logging.getLogger("strands_portkey.server")


def _error_response(error: BaseException) -> Response:
    if not isinstance(error, GatewayError):
        _log.error("messages failed unexpectedly: %s", type(error).__name__)
    reply = error_reply(error, "anthropic")
    return json_response(reply.body, reply.status, dict(reply.headers))


async def messages(request: Request) -> Response:
    """Answer one Anthropic Messages request (streamed when the body says ``"stream": true``)."""
    state: ServerState = request.app.state.server
    try:
        admitted = await state.admit(request, "messages")
    except Exception as error:
        return _error_response(error)
    try:
        chat_request = chat_request_from_messages(admitted.body)
        if chat_request.stream:
            return await _stream(state, admitted, chat_request)
        return await _message(state, admitted, chat_request)
    except Exception as error:
        await state.settle(admitted, Outcome(status_of(error)))
        return _error_response(error)


async def _message(state: ServerState, admitted: Admitted, chat_request: ChatRequest) -> Response:
    return await answer(
        state, admitted, chat_request, lambda r: message_from_response(r, model=chat_request.model)
    )


async def _stream(state: ServerState, admitted: Admitted, chat_request: ChatRequest) -> Response:
    stream, headers, status = await open_stream(admitted, chat_request)
    return StreamingResponse(
        _events(state, admitted, _Watched(stream), chat_request.model),
        status_code=status,
        headers=headers,
        media_type="text/event-stream",
    )


class _Watched:
    """The gateway stream as :func:`message_events` reads it, noting its usage and its failure."""

    def __init__(self, stream: ChatStream) -> None:
        self.stream = stream
        self.usage: Usage | None = None
        self.error: GatewayError | None = None

    async def __aiter__(self) -> AsyncIterator[ChatChunk]:
        try:
            async for chunk in self.stream:
                if chunk.usage is not None:
                    self.usage = chunk.usage
                yield chunk
        except GatewayError as error:
            self.error = error
            raise


async def _events(
    state: ServerState, admitted: Admitted, watched: _Watched, model: str
) -> AsyncIterator[bytes]:
    outcome = Outcome(499)  # a client that went away, unless the stream ends otherwise
    stream = watched.stream
    try:
        async for frame in message_events(watched, model=model):
            yield frame
        if watched.error is not None:  # sent as Anthropic's error event, never a message_stop
            outcome = Outcome(status_of(watched.error), watched.usage)
        else:
            usage = watched.usage
            outcome = Outcome(200, usage, state.cost(stream.route.provider, stream.route.model, usage))
    except Exception:  # a bug: message_events sent an api_error event; recorded as a 500
        outcome = Outcome(500, watched.usage)
        raise
    finally:
        with anyio.CancelScope(shield=True):  # the client may be gone: close upstream anyway
            await stream.aclose()
            await state.settle(admitted, outcome)
