"""One adapter for every OpenAI-compatible chat-completions host, driven by a data table.

Adding a host is one :class:`HostSpec` row in :data:`.hosts.OPENAI_COMPATIBLE_HOSTS`; any other
OpenAI-compatible server is reached by giving a target a ``custom_host`` (its ``base_url``).
The canonical types are OpenAI-shaped, so requests pass through almost untouched; the work is
in parsing responses and streams strictly: a malformed body, an in-stream error event or a
stream cut before its end is an error, never a quietly truncated answer.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from ..embeddings import EmbeddingRequest
from ..errors import (
    GatewayError,
    InvalidRequestError,
    MalformedResponseError,
    StreamInterruptedError,
    UpstreamError,
)
from ..types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    Choice,
    ChunkChoice,
    Delta,
    Message,
    ResponseMessage,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from ..wire import HttpRequest, HttpResponse, decode_json
from ._convert import event_failure, not_json, token_count
from ._embeddings import OpenAIEmbeddings
from ._errors import classify_error_event, classify_error_response, classify_in_band_error
from ._headers import content_headers, merge_headers, secret_header_values
from ._sse import SSEDecoder, SSEEvent
from .base import Target
from .hosts import OPENAI_COMPATIBLE_HOSTS, HostSpec

__all__ = [
    "OPENAI_COMPATIBLE_HOSTS",
    "HostSpec",
    "OpenAICompatAdapter",
    "OpenAIStreamParser",
]

_SNIPPET_CHARS = 200
_NOTHING: Mapping[str, Any] = MappingProxyType({})


def _empty_if_null(message: Message) -> Message:
    """The message with ``content: ""`` instead of null (copied only when changed)."""
    if message["role"] == "assistant" and message.get("content") is None:
        return {**message, "content": ""}
    return message


def _snippet(content: bytes | str) -> str:
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    return repr(text[:_SNIPPET_CHARS] + ("..." if len(text) > _SNIPPET_CHARS else ""))


def _text(content: object) -> str | None:
    """Message content: a string, ``None``, or a list of text parts joined together."""
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(_part_text(part) for part in content)
    raise TypeError(f"content must be a string, null or a list of parts, got {type(content).__name__}")


def _part_text(part: object) -> str:
    if isinstance(part, str):
        return part
    if isinstance(part, dict):
        text = part.get("text")
        return text if isinstance(text, str) else ""
    raise TypeError(f"a content part must be an object or a string, got {type(part).__name__}")


def _name(value: object, field: str) -> str | None:
    """A string field the caller acts on (finish reason, tool call id and name), or ``None``.

    Anything else is an answer of unexpected shape (the caller's ``TypeError`` handler makes it a
    :class:`MalformedResponseError`), never a dict travelling on into Strands.
    """
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"{field} must be a string, got {type(value).__name__}")


def _label(value: object, default: str) -> str:
    """An informational string (response id, model name): a non-string is replaced by ``default``."""
    return value if isinstance(value, str) and value else default


def _created(value: object) -> int:
    """The ``created`` timestamp as whole seconds (some servers send a float), else 0."""
    if isinstance(value, float) and math.isfinite(value):
        value = int(value)
    return token_count(value)


def _index(data: Mapping[str, Any], position: int) -> int:
    index = data.get("index")
    return index if isinstance(index, int) else position


def _reasoning(source: Mapping[str, Any]) -> str | None:
    reasoning = source.get("reasoning_content")
    if reasoning is None:
        reasoning = source.get("reasoning")
    return reasoning if isinstance(reasoning, str) else None


def _arguments(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _usage(data: Mapping[str, Any]) -> Usage:
    details = data.get("prompt_tokens_details") or {}
    cache_write = details.get("cache_write_tokens") or data.get("cache_creation_input_tokens")
    return Usage(
        prompt_tokens=token_count(data.get("prompt_tokens")),
        completion_tokens=token_count(data.get("completion_tokens")),
        total_tokens=token_count(data.get("total_tokens")),
        cache_read_tokens=token_count(details.get("cached_tokens")),
        cache_write_tokens=token_count(cache_write),
    )


def _tool_call(data: Mapping[str, Any]) -> ToolCall:
    function = data.get("function") or {}
    name = _name(function.get("name"), "a tool call's name") or ""
    return ToolCall(
        _name(data.get("id"), "a tool call's id") or "", name, _arguments(function.get("arguments"))
    )


def _choice(position: int, data: Mapping[str, Any]) -> Choice:
    message = data.get("message") or {}
    tool_calls = tuple(_tool_call(call) for call in message.get("tool_calls") or ())
    return Choice(
        index=_index(data, position),
        message=ResponseMessage(
            content=_text(message.get("content")), tool_calls=tool_calls, reasoning=_reasoning(message)
        ),
        finish_reason=_name(data.get("finish_reason"), "finish_reason"),
    )


def _tool_call_delta(position: int, data: Mapping[str, Any]) -> ToolCallDelta:
    function = data.get("function") or _NOTHING
    return ToolCallDelta(
        _index(data, position),
        _name(data.get("id"), "a tool call's id"),
        _name(function.get("name"), "a tool call's name"),
        _arguments(function.get("arguments")),
    )


def _chunk_choice(position: int, data: Mapping[str, Any]) -> ChunkChoice:
    delta = data.get("delta") or _NOTHING
    calls = delta.get("tool_calls")
    tool_calls = tuple([_tool_call_delta(i, call) for i, call in enumerate(calls)]) if calls else ()
    return ChunkChoice(
        _index(data, position),
        Delta(
            _text(delta.get("content")), _reasoning(delta), None, tool_calls, _name(delta.get("role"), "role")
        ),
        _name(data.get("finish_reason"), "finish_reason"),
    )


def _chunk(payload: Mapping[str, Any], model: str) -> ChatChunk:
    """One ``chat.completion.chunk`` object as a :class:`ChatChunk` (hot path: kept flat)."""
    choices = payload.get("choices")
    usage = payload.get("usage")
    return ChatChunk(
        _label(payload.get("id"), ""),
        _label(payload.get("model"), model),
        tuple([_chunk_choice(i, choice) for i, choice in enumerate(choices)]) if choices else (),
        _usage(usage) if usage else None,
        _created(payload.get("created")),
    )


class OpenAIStreamParser:
    """Incremental parser of an OpenAI ``chat.completion.chunk`` SSE stream.

    ``data: [DONE]`` or any ``finish_reason`` makes the stream complete; :meth:`close` raises
    :class:`~strands_portkey.errors.StreamInterruptedError` otherwise. An ``{"error": ...}``
    payload or an ``event: error`` is raised from :meth:`feed` as the classified error.
    """

    __slots__ = ("_decoder", "_done", "_finished", "_model", "_provider")

    def __init__(self, provider: str, model: str) -> None:
        self._provider = provider
        self._model = model
        self._decoder = SSEDecoder()
        self._done = False
        self._finished = False

    def feed(self, data: bytes) -> list[ChatChunk]:
        """Parse more bytes; return the chunks they complete."""
        if self._done:
            return []
        return self._chunks(self._decoder.feed(data), at_end=False)

    def close(self) -> list[ChatChunk]:
        """End of input: return a last unterminated chunk, or raise if the stream was cut short."""
        chunks = [] if self._done else self._chunks(self._decoder.close(), at_end=True)
        if not (self._done or self._finished):
            raise StreamInterruptedError(
                f"{self._provider} stream ended before it was complete (no [DONE] and no finish_reason); "
                "the answer may be truncated",
                provider=self._provider,
            )
        return chunks

    def _chunks(self, events: list[SSEEvent], *, at_end: bool) -> list[ChatChunk]:
        chunks: list[ChatChunk] = []
        for event in events:
            data = event.data
            if data == "[DONE]":
                self._done = True
                break
            if event.event == "error":
                raise classify_error_event(self._provider, data)
            if not data:
                continue
            try:
                payload = decode_json(data)
            except ValueError as error:
                if at_end and self._finished:
                    break  # a cut trailing event after the answer was complete
                raise self._error(*event_failure(error, at_end=at_end), data) from None
            chunk = self._build(payload, data)
            if not self._finished:
                self._finished = any([choice.finish_reason for choice in chunk.choices])
            chunks.append(chunk)
        return chunks

    def _build(self, payload: object, data: str) -> ChatChunk:
        if not isinstance(payload, dict):
            raise self._error(MalformedResponseError, "sent a stream event that is not a JSON object", data)
        if payload.get("error"):
            raise classify_in_band_error(self._provider, payload)
        try:
            return _chunk(payload, self._model)
        except (AttributeError, TypeError, ValueError) as exc:
            raise self._error(
                MalformedResponseError, f"sent a chunk of unexpected shape ({exc})", data
            ) from None

    def _error(self, kind: type[GatewayError], problem: str, data: str) -> GatewayError:
        return kind(f"{self._provider} {problem}: {_snippet(data)}", provider=self._provider)


class OpenAICompatAdapter(OpenAIEmbeddings):
    """The adapter for OpenAI-compatible hosts (see :data:`OPENAI_COMPATIBLE_HOSTS`); embeddings too.

    Args:
        name: The provider id, used in error messages (``groq error: ...``).
        default_base_url: Used when a target has no ``base_url`` of its own.
    """

    __slots__ = ("accepts_null_content", "default_base_url", "name")

    def __init__(self, name: str, default_base_url: str = "", *, accepts_null_content: bool = True) -> None:
        self.name = name
        self.default_base_url = default_base_url
        self.accepts_null_content = accepts_null_content

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def prepare_target(self, target: Target, env: Mapping[str, str]) -> Target:
        """Nothing to derive: the URL and key come from the host row or the config."""
        return target

    def build_request(
        self,
        request: ChatRequest,
        target: Target,
        *,
        trace_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> HttpRequest:
        """``POST {base_url}/chat/completions`` with the OpenAI body (``trace_id``/``metadata`` unused)."""
        headers = self.request_headers(request, target, trace_id=trace_id, metadata=metadata)
        return HttpRequest(
            method="POST",
            url=f"{self.base_url(target)}/chat/completions",
            headers=headers,
            json=self.request_body(request),
            secrets=secret_header_values(headers),
        )

    def base_url(self, target: Target) -> str:
        """Return the target's base URL (or the default), without a trailing slash."""
        base_url = (target.base_url or self.default_base_url).rstrip("/")
        if not base_url:
            raise InvalidRequestError(
                f"no base URL for provider {self.name!r}; set custom_host", path="target"
            )
        return base_url

    def request_headers(
        self,
        request: ChatRequest | EmbeddingRequest,
        target: Target,
        *,
        trace_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """Content type, accept, bearer key, then the target's headers (lower-cased names)."""
        headers = content_headers(stream=request.stream)
        if target.api_key:
            headers["authorization"] = f"Bearer {target.api_key.reveal()}"
        merge_headers(headers, target.headers)
        return headers

    def request_body(self, request: ChatRequest) -> dict[str, Any]:
        """Return the OpenAI body; a stream asks for a final usage chunk unless told otherwise."""
        body = request.to_body()
        if request.stream and "stream_options" not in body:
            body["stream_options"] = {"include_usage": True}
        messages = request.messages
        if not self.accepts_null_content or any("thinking_blocks" in message for message in messages):
            body["messages"] = [self._for_chat_completions(message) for message in messages]
        return body

    def _for_chat_completions(self, message: Message) -> Message:
        """Drop ``thinking_blocks`` (native-provider signatures) and, where needed, null content."""
        if "thinking_blocks" in message:
            message = {k: v for k, v in message.items() if k != "thinking_blocks"}  # type: ignore[assignment]
        return message if self.accepts_null_content else _empty_if_null(message)

    def parse_response(self, response: HttpResponse, request: ChatRequest) -> ChatResponse:
        """Parse a complete ``chat.completion`` body into a :class:`ChatResponse`."""
        try:
            payload = decode_json(response.content)
        except ValueError as error:
            raise self._malformed(f"is {not_json(error)}", response.content) from None
        if not isinstance(payload, dict):
            raise self._malformed("is not a JSON object", response.content)
        choices = payload.get("choices")
        if not isinstance(choices, list):
            if payload.get("error"):
                raise classify_in_band_error(self.name, payload)
            raise self._malformed("has no 'choices' list", response.content)
        try:
            usage = payload.get("usage")
            return ChatResponse(
                id=_label(payload.get("id"), ""),
                model=_label(payload.get("model"), request.model),
                choices=tuple(_choice(i, choice) for i, choice in enumerate(choices)),
                usage=_usage(usage) if usage else Usage(),
                created=_created(payload.get("created")),
            )
        except (AttributeError, TypeError, ValueError) as exc:
            raise self._malformed(f"has an unexpected shape ({exc})", response.content) from None

    def stream_parser(self, request: ChatRequest) -> OpenAIStreamParser:
        """Return a fresh parser for one streamed response."""
        return OpenAIStreamParser(self.name, request.model)

    def map_error(
        self, status_code: int, headers: Mapping[str, str], body: bytes, *, secrets: Iterable[str] = ()
    ) -> UpstreamError:
        """Classify a non-2xx answer; ``secrets`` are scrubbed from the error message."""
        return classify_error_response(self.name, status_code, headers, body, secrets=secrets)

    def _malformed(self, problem: str, content: bytes) -> MalformedResponseError:
        return MalformedResponseError(
            f"{self.name} returned a response that {problem}: {_snippet(content)}", provider=self.name
        )
