"""Helpers shared by the native adapters (Anthropic, Bedrock, Gemini): reading the canonical request.

The canonical request is OpenAI-shaped. Native APIs need it in other forms: content as typed parts,
media as raw base64 with a MIME type, tool arguments as objects, tool results grouped with the
user turn, and a JSON schema out of ``response_format``. These helpers do that reading once, with
errors that name the offending field (``request.messages[3].tool_calls[0].function.arguments``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import GatewayError, InvalidRequestError, MalformedResponseError, StreamInterruptedError
from ..messages import Message
from ..wire import JSONTooDeepError, decode_json

__all__ = [
    "DataURL",
    "decode_json_body",
    "event_failure",
    "generated_tool_id",
    "max_tokens",
    "not_json",
    "parse_data_url",
    "parts_of",
    "response_schema",
    "snippet",
    "stop_sequences",
    "thinking_blocks",
    "token_count",
    "tool_arguments",
    "tool_names_by_id",
    "tool_result_text",
]

_SNIPPET_CHARS = 200
_MAX_COUNT = 2**53  # the largest integer every JSON reader keeps exactly


def token_count(value: object) -> int:
    """A token count from an upstream's usage: a whole number in ``[0, 2**53)``, anything else 0.

    A usage field that is a string, ``1e999``, ``NaN``, negative, a list or too large for a
    database integer would otherwise travel on into ``Usage``, Strands' metadata, the cache and
    an analytics row (where it would fail the batch it is written with).
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 <= value < _MAX_COUNT else 0
    if isinstance(value, float) and value.is_integer() and 0 <= value < _MAX_COUNT:
        return int(value)
    return 0


class DataURL(tuple[str, str]):
    """``(mime_type, base64_data)`` of a ``data:`` URL."""

    __slots__ = ()

    @property
    def mime_type(self) -> str:
        """The MIME type (``image/png``)."""
        return self[0]

    @property
    def data(self) -> str:
        """The base64 payload, unchanged."""
        return self[1]


def snippet(content: bytes | str) -> str:
    """The start of a body, quoted, for error messages."""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    return repr(text[:_SNIPPET_CHARS] + ("..." if len(text) > _SNIPPET_CHARS else ""))


def not_json(error: ValueError) -> str:
    """How a body that did not decode is described: refused as too deep, or not JSON at all."""
    return str(error) if isinstance(error, JSONTooDeepError) else "not JSON"


def decode_json_body(provider: str, content: bytes) -> dict[str, Any]:
    """A complete response body as a JSON object, or a :class:`MalformedResponseError` naming it."""
    try:
        payload = decode_json(content)
    except ValueError as error:
        raise MalformedResponseError(
            f"{provider} returned a response that is {not_json(error)}: {snippet(content)}", provider=provider
        ) from None
    if not isinstance(payload, dict):
        raise MalformedResponseError(
            f"{provider} returned a response that is not a JSON object: {snippet(content)}", provider=provider
        )
    return payload


def event_failure(error: ValueError, *, at_end: bool) -> tuple[type[GatewayError], str]:
    """The error class and wording for a stream event whose data did not decode.

    The last event of a stream that ended inside it is a truncation (:class:`StreamInterruptedError`);
    any other event that is not JSON, and a complete event nested too deep, is a malformed answer.
    """
    if isinstance(error, JSONTooDeepError):
        return MalformedResponseError, f"sent a stream event of {error}"
    kind = StreamInterruptedError if at_end else MalformedResponseError
    return kind, "sent a stream event that is not complete JSON"


def unexpected(provider: str, what: str, data: bytes | str) -> GatewayError:
    """The error for an answer of unexpected shape: names the provider and the surprise."""
    return MalformedResponseError(f"{provider} sent {what}: {snippet(data)}", provider=provider)


def parts_of(content: object, path: str) -> list[Mapping[str, Any]]:
    """Message content as a list of parts (a string becomes one text part; ``None`` none)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if isinstance(content, list):
        for index, part in enumerate(content):
            if not isinstance(part, Mapping):
                raise InvalidRequestError("a content part must be an object", path=f"{path}[{index}]")
        return content
    raise InvalidRequestError("content must be a string, null or a list of parts", path=path)


def parse_data_url(url: object, path: str) -> DataURL | None:
    """``(mime, base64)`` of a ``data:<mime>;base64,<data>`` URL; ``None`` for a remote URL."""
    if not isinstance(url, str):
        raise InvalidRequestError("must be a string URL", path=path)
    if not url.startswith("data:"):
        return None
    header, _, data = url[5:].partition(",")
    mime, _, encoding = header.partition(";")
    if encoding != "base64" or not data:
        raise InvalidRequestError("a data URL must be 'data:<mime>;base64,<data>'", path=path)
    return DataURL((mime or "application/octet-stream", data))


def tool_arguments(arguments: object, path: str) -> dict[str, Any]:
    """A tool call's JSON-string arguments as an object (native APIs take objects)."""
    if isinstance(arguments, Mapping):
        return dict(arguments)
    if arguments is None or arguments == "":
        return {}
    if not isinstance(arguments, str):
        raise InvalidRequestError("must be a JSON string", path=path)
    try:
        value = decode_json(arguments)
    except ValueError:
        raise InvalidRequestError(f"is not valid JSON: {snippet(arguments)}", path=path) from None
    if not isinstance(value, dict):
        raise InvalidRequestError("must encode a JSON object", path=path)
    return value


def tool_result_text(content: object, path: str) -> str:
    """A ``tool`` message's content as text (parts joined with newlines)."""
    return "\n".join(
        str(part.get("text", "")) for part in parts_of(content, path) if part.get("type") == "text"
    )


def tool_names_by_id(messages: Iterable[Message]) -> dict[str, str]:
    """Tool-call id -> function name over the history (Gemini's tool results need the name)."""
    names: dict[str, str] = {}
    for message in messages:
        calls: Any = message.get("tool_calls") or ()
        for call in calls:
            function = call.get("function") or {}
            if isinstance(call.get("id"), str) and isinstance(function.get("name"), str):
                names[call["id"]] = function["name"]
    return names


def thinking_blocks(message: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Signed reasoning of an assistant message, as Anthropic-style thinking blocks.

    The Strands codec keeps reasoning signatures in ``thinking_blocks`` (``{"type": "thinking",
    "thinking", "signature"}`` or ``{"type": "redacted_thinking", "data"}``). Reasoning without a
    signature (from an OpenAI-format provider) yields nothing: native APIs reject unsigned thinking.
    """
    blocks = message.get("thinking_blocks")
    if not isinstance(blocks, list):
        return []
    return [
        block
        for block in blocks
        if isinstance(block, Mapping)
        and (
            (block.get("type") == "thinking" and block.get("signature"))
            or (block.get("type") == "redacted_thinking" and block.get("data"))
        )
    ]


def max_tokens(params: Mapping[str, Any], default: int | None) -> int | None:
    """``max_completion_tokens`` or ``max_tokens`` from the request, else ``default``."""
    for key in ("max_completion_tokens", "max_tokens"):
        value = params.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return default


def stop_sequences(params: Mapping[str, Any]) -> list[str] | None:
    """OpenAI ``stop`` (a string or a list) as a list."""
    stop = params.get("stop")
    if isinstance(stop, str):
        return [stop]
    if isinstance(stop, list) and stop:
        return [str(item) for item in stop]
    return None


def response_schema(params: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """``(name, schema)`` asked for by ``response_format`` (json_schema or json_object), or None.

    ``json_object`` (optionally with llama.cpp's ``schema``) yields a permissive object schema.
    """
    fmt = params.get("response_format")
    if not isinstance(fmt, Mapping):
        return None
    if fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema")
        if not isinstance(spec, Mapping) or not isinstance(spec.get("schema"), Mapping):
            raise InvalidRequestError(
                "json_schema needs {'name': ..., 'schema': {...}}", path="request.response_format.json_schema"
            )
        return str(spec.get("name") or "json_output"), dict(spec["schema"])
    if fmt.get("type") == "json_object":
        schema = fmt.get("schema")
        return "json_output", dict(schema) if isinstance(schema, Mapping) else {"type": "object"}
    return None


def generated_tool_id() -> str:
    """An id for a tool call whose provider sent none (Gemini before ids existed)."""
    return f"call_{uuid.uuid4().hex[:24]}"
