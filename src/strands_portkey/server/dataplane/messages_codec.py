"""Anthropic's Messages API as a front door: Anthropic bodies in, canonical requests out, and back.

The ``POST /v1/messages`` route is thin: :func:`chat_request_from_messages` turns the caller's
body into the canonical :class:`~strands_portkey.types.ChatRequest` that ``Gateway.chat`` /
``Gateway.stream`` route to *any* provider (a Claude-style client can be served by GPT or a local
model); :func:`message_from_response` turns the answer back into an Anthropic ``message``;
:func:`~.messages_stream.message_events` re-emits a stream as Anthropic's SSE events; and
:func:`anthropic_error_body` gives any error Anthropic's error shape. This module is pure (no web
framework); it is the inverse of the Anthropic *upstream* adapter (:mod:`..providers.anthropic`),
whose tables (stop reasons, the ``thinking_blocks`` convention) it shares.

Translation policies (what a caller can rely on):

* **Required**: ``model`` (a non-empty string), ``max_tokens`` (a positive integer, as Anthropic
  requires it) and ``messages`` (a non-empty list of ``user`` / ``assistant`` turns).
* **System**: a string or a list of ``text`` blocks becomes one ``system`` message (its blocks
  keep ``cache_control``).
* **Blocks**: ``text``; ``image`` (``base64`` -> a data URL, ``url`` -> the URL); ``document``
  (base64 PDF, or plain text) -> a ``file`` part; ``tool_use`` -> the assistant's ``tool_calls``
  (``input`` serialised as the JSON arguments); ``tool_result`` -> a ``tool`` message per result,
  placed before the rest of its user turn. A result's text blocks are joined; its images follow
  in a user message (chat-completions tool messages carry text only). ``is_error: true`` prefixes
  the text with ``Error: `` (unless it already starts with ``Error``), which is also how the
  Anthropic upstream adapter restores ``is_error``.
* **Thinking** in history: signed ``thinking`` and ``redacted_thinking`` blocks are kept as the
  assistant message's ``thinking_blocks`` (sent back to Anthropic and Bedrock upstreams, dropped
  by OpenAI-format ones, which cannot verify them).
* **Tools**: ``{name, description, input_schema}`` -> function tools. Anthropic's server tools
  (a ``type`` other than ``custom``: web search, bash, computer use...) are refused: no other
  provider runs them. ``tool_choice`` ``auto`` / ``any`` / ``tool`` / ``none`` -> ``auto`` /
  ``required`` / the named function / ``none``; ``disable_parallel_tool_use`` ->
  ``parallel_tool_calls: false``.
* **Parameters**: ``stop_sequences`` -> ``stop``; ``temperature``, ``top_p`` as they are;
  ``metadata.user_id`` -> ``user``. ``top_k`` and ``thinking`` are passed through as parameters
  (the Anthropic, Bedrock and Gemini adapters use them; an OpenAI-format upstream may refuse them).
  Other fields (``service_tier``, ``container``...) are dropped.
* **Answers**: reasoning -> a ``thinking`` block (its signature when the upstream gave one, else
  ``""``), text -> a ``text`` block, tool calls -> ``tool_use`` blocks whose ``input`` is the
  parsed arguments. Arguments that are not a JSON object (malformed, or cut by ``max_tokens``) are
  returned as ``{"_raw_arguments": "<text>"}``: nothing the model produced is lost, and a tool's
  schema check fails visibly instead of running with an empty input. ``stop_sequence`` is always
  ``null`` (a canonical answer does not say which sequence matched: that stop is ``end_turn``).
* **Usage**: ``input_tokens`` is the uncached input (the canonical prompt count minus cache
  reads and writes, as Anthropic counts); ``cache_read_input_tokens`` /
  ``cache_creation_input_tokens`` are set when the upstream reported caching.

Bad input raises :class:`~strands_portkey.errors.InvalidRequestError` whose ``path`` is in
Anthropic's terms: ``messages[2].content[0].type``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from ...errors import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    GatewayError,
    GuardrailDeniedError,
    InvalidRequestError,
    LimitExceededError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    ResourceNotFoundError,
)
from ...providers._anthropic_stream import stop_reason
from ...types import ChatResponse, ToolCall, Usage
from .messages_request import chat_body_from_messages, chat_request_from_messages

__all__ = [
    "anthropic_error_body",
    "anthropic_usage",
    "chat_body_from_messages",
    "chat_request_from_messages",
    "message_from_response",
    "message_id",
    "tool_input",
]

# --------------------------------------------------------------------------- response


def message_id(upstream_id: str | None = None) -> str:
    """An Anthropic message id: the upstream's when it is one (``msg_...``), else a fresh one."""
    if upstream_id and upstream_id.startswith("msg_"):
        return upstream_id
    return f"msg_{uuid.uuid4().hex}"


def tool_input(arguments: str) -> dict[str, Any]:
    """A tool call's arguments as a ``tool_use`` input (see the module's policy on bad JSON)."""
    if not arguments.strip():
        return {}
    try:
        value = json.loads(arguments)
    except (ValueError, RecursionError):
        value = None
    return value if isinstance(value, dict) else {"_raw_arguments": arguments}


def anthropic_usage(usage: Usage) -> dict[str, int]:
    """Anthropic's ``usage``: uncached input, output, and the cache counts when known."""
    cached = usage.cache_read_tokens + usage.cache_write_tokens
    out = {
        "input_tokens": max(usage.prompt_tokens - cached, 0),
        "output_tokens": usage.completion_tokens,
    }
    if cached:
        out["cache_creation_input_tokens"] = usage.cache_write_tokens
        out["cache_read_input_tokens"] = usage.cache_read_tokens
    return out


def _tool_use(call: ToolCall) -> dict[str, Any]:
    call_id = call.id or f"toolu_{uuid.uuid4().hex[:24]}"
    return {"type": "tool_use", "id": call_id, "name": call.name, "input": tool_input(call.arguments)}


def message_from_response(response: ChatResponse, *, model: str | None = None) -> dict[str, Any]:
    """The Anthropic ``message`` JSON for a complete answer (``model`` defaults to the answer's)."""
    answer = response.message
    content: list[dict[str, Any]] = []
    if answer.reasoning:
        content.append(
            {"type": "thinking", "thinking": answer.reasoning, "signature": answer.reasoning_signature or ""}
        )
    if answer.content:
        content.append({"type": "text", "text": answer.content})
    content.extend(_tool_use(call) for call in answer.tool_calls)
    return {
        "id": message_id(response.id),
        "type": "message",
        "role": "assistant",
        "model": response.model or model or "",
        "content": content,
        "stop_reason": stop_reason(response.finish_reason),
        "stop_sequence": None,
        "usage": anthropic_usage(response.usage),
    }


# --------------------------------------------------------------------------- errors

_BY_CLASS: tuple[tuple[type[GatewayError], str, int], ...] = (
    (InvalidRequestError, "invalid_request_error", 400),
    (ConfigurationError, "invalid_request_error", 400),
    (BadRequestError, "invalid_request_error", 400),
    (ConflictError, "invalid_request_error", 409),
    (GuardrailDeniedError, "invalid_request_error", 446),
    (PermissionDeniedError, "permission_error", 403),
    (NotFoundError, "not_found_error", 404),
    (ResourceNotFoundError, "not_found_error", 404),
    (RateLimitError, "rate_limit_error", 429),
    (LimitExceededError, "rate_limit_error", 429),
    (OverloadedError, "overloaded_error", 529),
)


def anthropic_error_body(error: BaseException) -> tuple[int, dict[str, Any]]:
    """The HTTP status and Anthropic error body (``{"type": "error", "error": {...}}``) for ``error``.

    The status is the gateway's (Portkey's conventions: a timeout is 408, a guardrail denial 446);
    the error ``type`` is Anthropic's word for the class. An exception outside the error tree is
    a bug: it is reported as a 500 ``api_error`` without its text (which could hold anything).
    """
    if not isinstance(error, GatewayError):
        return 500, _error_body("api_error", "internal error in the gateway")
    kind, status = "api_error", 500
    if isinstance(error, AuthenticationError):
        kind, status = (
            ("permission_error", 403) if error.status_code == 403 else ("authentication_error", 401)
        )
    else:
        for cls, name, default in _BY_CLASS:
            if isinstance(error, cls):
                kind, status = name, default
                break
    return error.status_code or status, _error_body(kind, error.message)


def _error_body(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}
