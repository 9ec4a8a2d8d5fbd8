"""A prompt version's body: chat messages whose text is Mustache, and the request parameters.

:func:`compile_messages` checks the shape (roles, content strings or content parts) and parses
every template once; :func:`render_messages` fills them in. Text parts (``{"type": "text"}``) and
image URLs are templates; any other part is passed on as written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidRequestError
from .render import Compiled, Renderer, compile_template, render_text

__all__ = ["ROLES", "CompiledMessage", "check_params", "compile_messages", "render_messages", "templates_of"]

ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
MAX_MESSAGES = 200
# Keys a prompt's parameters may not hold: the prompt itself supplies them, or the call decides.
_NOT_PARAMS = frozenset({"messages", "model", "stream", "prompt_id", "variables"})


@dataclass(frozen=True, slots=True)
class CompiledMessage:
    """One message: its role and other fields, and its content as one template or as parts."""

    role: str
    fields: Mapping[str, Any]
    text: Compiled | None
    parts: tuple[tuple[Mapping[str, Any], Compiled | None], ...]


def _part(part: object, path: str) -> tuple[Mapping[str, Any], Compiled | None]:
    if not isinstance(part, Mapping) or not isinstance(part.get("type"), str):
        raise InvalidRequestError("expected a content part with a 'type'", path=path)
    if part["type"] == "text":
        return part, compile_template(part.get("text"), f"{path}.text")
    image = part.get("image_url")
    if part["type"] == "image_url" and isinstance(image, Mapping):
        return part, compile_template(image.get("url"), f"{path}.image_url.url")
    return part, None


def compile_messages(messages: object, path: str = "messages") -> tuple[CompiledMessage, ...]:
    """Check and parse a prompt's messages; every error names the JSON path."""
    if not isinstance(messages, Sequence) or isinstance(messages, str) or not messages:
        raise InvalidRequestError("expected a non-empty list of chat messages", path=path)
    if len(messages) > MAX_MESSAGES:
        raise InvalidRequestError(f"at most {MAX_MESSAGES} messages, got {len(messages)}", path=path)
    compiled: list[CompiledMessage] = []
    for index, message in enumerate(messages):
        where = f"{path}[{index}]"
        if not isinstance(message, Mapping):
            raise InvalidRequestError("expected a message object with 'role' and 'content'", path=where)
        role = message.get("role")
        if role not in ROLES:
            raise InvalidRequestError(
                f"expected a role among {sorted(ROLES)}, got {role!r}", path=f"{where}.role"
            )
        content = message.get("content")
        fields = {k: v for k, v in message.items() if k not in ("role", "content")}
        if isinstance(content, str):
            compiled.append(CompiledMessage(role, fields, compile_template(content, f"{where}.content"), ()))
        elif isinstance(content, Sequence) and content:
            parts = tuple(_part(p, f"{where}.content[{i}]") for i, p in enumerate(content))
            compiled.append(CompiledMessage(role, fields, None, parts))
        elif content is None and role == "assistant" and fields.get("tool_calls"):
            compiled.append(CompiledMessage(role, fields, None, ()))
        else:
            raise InvalidRequestError(
                "expected a template string or a list of content parts", path=f"{where}.content"
            )
    return tuple(compiled)


def check_params(params: object, path: str = "params") -> dict[str, Any]:
    """The request parameters (temperature, max_tokens, tools, ...) as a plain dict."""
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise InvalidRequestError("expected an object of request parameters", path=path)
    for key, value in params.items():
        if not isinstance(key, str) or key in _NOT_PARAMS:
            raise InvalidRequestError(f"{key!r} is not a prompt parameter", path=f"{path}.{key}")
        if key == "temperature" and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InvalidRequestError(f"expected a number, got {value!r}", path=f"{path}.temperature")
        if key in ("max_tokens", "max_completion_tokens") and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise InvalidRequestError(f"expected a positive integer, got {value!r}", path=f"{path}.{key}")
    return dict(params)


def templates_of(messages: Sequence[CompiledMessage]) -> list[Compiled]:
    """Every template of the messages (to find the variables they need)."""
    found = [m.text for m in messages if m.text is not None]
    found.extend(c for m in messages for _, c in m.parts if c is not None)
    return found


def _filled_part(
    renderer: Renderer, part: Mapping[str, Any], compiled: Compiled | None, variables: Mapping[str, Any]
) -> Any:
    if compiled is None:
        return dict(part)
    text = render_text(renderer, compiled, variables)
    if part["type"] == "text":
        return {**part, "text": text}
    return {**part, "image_url": {**part["image_url"], "url": text}}


def render_messages(
    renderer: Renderer, messages: Sequence[CompiledMessage], variables: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The messages with every template filled in (OpenAI chat shape)."""
    out: list[dict[str, Any]] = []
    for message in messages:
        filled: dict[str, Any] = {"role": message.role}
        if message.text is not None:
            filled["content"] = render_text(renderer, message.text, variables)
        elif message.parts:
            filled["content"] = [_filled_part(renderer, p, c, variables) for p, c in message.parts]
        else:
            filled["content"] = None
        filled.update(message.fields)
        out.append(filled)
    return out
