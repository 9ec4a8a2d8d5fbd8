"""The shape of a canonical chat request, checked once for every provider.

A body becomes a :class:`~strands_portkey.types.ChatRequest` only through these checks, so the
same malformed request is refused the same way, before any upstream call, whichever provider a
target names (an OpenAI-format target used to send it on; a native adapter refused it its own
way). The errors name the field: ``request.messages[2].content: ...``.

What is checked is the OpenAI chat-completions *shape* (see :mod:`.messages`), not what a given
provider can do with it (a content part type Anthropic cannot take is still refused by its
adapter):

* ``model`` a non-empty string; ``messages`` a non-empty list; ``stream`` true or false;
* each message an object whose ``role`` is ``system``, ``developer``, ``user``, ``assistant`` or
  ``tool``; ``content`` a string or a list of content parts (objects with a string ``type``; a
  ``text`` part has a string ``text``, an ``image_url`` part an object with a string ``url``),
  required except on an assistant message (which may carry only ``tool_calls``, or null);
* an assistant's ``tool_calls`` a list of ``{"id"?, "function": {"name", "arguments"?}}`` with
  string ``name`` and JSON-string ``arguments``; a tool message's ``tool_call_id`` a string;
* ``tools`` a list of ``{"type": "function", "function": {"name", "parameters"?}}``;
  ``tool_choice`` ``"auto"``, ``"required"``, ``"none"`` or ``{"type": "function",
  "function": {"name": ...}}``;
* no field nests deeper than :data:`~strands_portkey.nesting.MAX_JSON_DEPTH` levels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeGuard

from .errors import InvalidRequestError
from .nesting import JSON_LEAF_TYPES, MAX_JSON_DEPTH, check_json_value

__all__ = ["ROLES", "check_request_body", "check_request_fields", "json_type"]

ROLES = ("system", "developer", "user", "assistant", "tool")
_TOOL_CHOICES = ("auto", "required", "none")
_CHECKED_MESSAGE_KEYS = frozenset({"role", "content", "tool_calls"})  # their depth is checked on the way

Fail = Callable[..., Exception]


def check_request_body(body: object, path: str = "request") -> Mapping[str, Any]:
    """``body`` as a mapping, if it is a valid chat request; else :class:`InvalidRequestError`."""
    if not _is_mapping(body):
        raise InvalidRequestError(
            f"a chat request must be a mapping like {{'model': ..., 'messages': [...]}}, "
            f"got {type(body).__name__}",
            path=path,
        )
    if "model" not in body:
        _model(None, f"{path}.model", InvalidRequestError)
    if "messages" not in body:
        _messages(None, f"{path}.messages", InvalidRequestError)
    check_request_fields(body, path)
    return body


def check_request_fields(
    fields: Mapping[str, Any], path: str = "request", *, error: Fail = InvalidRequestError
) -> None:
    """Check the request fields present in ``fields`` (a body, or ``override_params`` merged into one).

    ``error(message, path=...)`` builds the exception: :class:`InvalidRequestError` for a request,
    ``ConfigurationError`` for ``override_params`` checked at construction.
    """
    for key, value in fields.items():
        if type(key) is not str:
            raise error(f"field names must be strings, got {type(key).__name__} {key!r}", path=path)
        where = f"{path}.{key}"
        check = _FIELD_CHECKS.get(key)
        if check is not None:
            check(value, where, error)
        elif type(value) not in JSON_LEAF_TYPES:
            check_json_value(value, where, error=error)


def _model(value: object, path: str, error: Fail) -> None:
    if not isinstance(value, str) or not value.strip():
        raise error("'model' is required and must be a non-empty string (e.g. 'gpt-4o')", path=path)


def _stream(value: object, path: str, error: Fail) -> None:
    if not isinstance(value, bool):
        raise error("'stream' must be true or false", path=path)


def _messages(value: object, path: str, error: Fail) -> None:
    if not isinstance(value, list) or not value:
        raise error("'messages' must be a non-empty list", path=path)
    for index, message in enumerate(value):
        _message(message, path, index, error)


# Paths are built only on failure (``base``, ``index`` ... passed down instead): this runs for every
# message of every request, and formatting a path per message would cost more than the checks.


def _message(message: object, base: str, index: int, error: Fail) -> None:
    if not _is_mapping(message) or not isinstance(message.get("role"), str):
        raise error("each message must be a mapping with a string 'role'", path=f"{base}[{index}]")
    role = message["role"]
    if role not in ROLES:
        raise error(
            f"unknown role {role!r}; expected one of {', '.join(ROLES)}", path=f"{base}[{index}].role"
        )
    content = message.get("content")
    if content is None:
        if role != "assistant":
            raise error(
                f"a {role} message needs 'content': a string or a list of content parts",
                path=f"{base}[{index}].content",
            )
    elif type(content) is not str:
        _content(content, base, index, error)
    if role == "assistant" and message.get("tool_calls") is not None:
        _tool_calls(message["tool_calls"], f"{base}[{index}].tool_calls", error)
    if role == "tool" and not isinstance(message.get("tool_call_id"), str):
        raise error("a tool message needs a string 'tool_call_id'", path=f"{base}[{index}].tool_call_id")
    for key, value in message.items():
        if type(value) not in JSON_LEAF_TYPES and key not in _CHECKED_MESSAGE_KEYS:
            check_json_value(value, f"{base}[{index}].{key}", limit=MAX_JSON_DEPTH - 2, error=error)


def _content(content: object, base: str, index: int, error: Fail) -> None:
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        raise error(
            f"content must be a string or a list of content parts, got {json_type(content)}",
            path=f"{base}[{index}].content",
        )
    for position, part in enumerate(content):
        problem = _part_problem(part)
        if problem is not None:
            reason, suffix = problem
            raise error(reason, path=f"{base}[{index}].content[{position}]{suffix}")
        for value in part.values():
            if type(value) not in JSON_LEAF_TYPES:  # a nested member: bound its depth
                path = f"{base}[{index}].content[{position}]"
                check_json_value(part, path, limit=MAX_JSON_DEPTH - 3, error=error)
                break


def _part_problem(part: Any) -> tuple[str, str] | None:
    """What is wrong with one content part, and the path suffix saying where (None: nothing)."""
    if not _is_mapping(part):
        return f"a content part must be an object ({{'type': 'text', ...}}), got {json_type(part)}", ""
    kind = part.get("type")
    if not isinstance(kind, str):
        return "a content part needs a string 'type' ('text', 'image_url', 'file', ...)", ".type"
    if kind == "text" and not isinstance(part.get("text"), str):
        return "a text part needs a string 'text'", ".text"
    if kind == "image_url":
        image = part.get("image_url")
        if not _is_mapping(image) or not isinstance(image.get("url"), str):
            return "an image_url part needs {'image_url': {'url': '...'}}", ".image_url"
    return None


def _tool_calls(calls: object, path: str, error: Fail) -> None:
    if not isinstance(calls, list):
        raise error(f"'tool_calls' must be a list, got {json_type(calls)}", path=path)
    for index, call in enumerate(calls):
        problem = _tool_call_problem(call)
        if problem is not None:
            reason, suffix = problem
            raise error(reason, path=f"{path}[{index}]{suffix}")
        if not _flat(call, "function") or not _flat(call["function"], None):
            check_json_value(call, f"{path}[{index}]", limit=MAX_JSON_DEPTH - 3, error=error)


def _tool_call_problem(call: Any) -> tuple[str, str] | None:
    """What is wrong with one tool call, and the path suffix saying where (None: nothing)."""
    if not _is_mapping(call):
        return f"a tool call must be an object, got {json_type(call)}", ""
    if call.get("id") is not None and not isinstance(call["id"], str):
        return "a tool call's 'id' must be a string", ".id"
    function = call.get("function")
    if not _is_mapping(function) or not isinstance(function.get("name"), str):
        return "a tool call needs {'function': {'name': ..., 'arguments': '<JSON>'}}", ".function"
    arguments = function.get("arguments")
    if arguments is not None and not isinstance(arguments, str):
        return f"'arguments' must be a JSON string, got {json_type(arguments)}", ".function.arguments"
    return None


def _flat(mapping: Mapping[str, Any], besides: str | None) -> bool:
    """Whether every member of ``mapping`` but ``besides`` is a scalar (nothing to bound)."""
    for key, value in mapping.items():  # noqa: SIM110 - a loop: all() over a generator is slower here
        if type(value) not in JSON_LEAF_TYPES and key != besides:
            return False
    return True


def _tools(tools: object, path: str, error: Fail) -> None:
    if tools is None:
        return
    if not isinstance(tools, list):
        raise error("'tools' must be a list", path=path)
    for index, tool in enumerate(tools):
        here = f"{path}[{index}]"
        function = tool.get("function") if _is_mapping(tool) else None
        if not _is_mapping(function) or not isinstance(function.get("name"), str) or not function["name"]:
            raise error("a tool needs {'type': 'function', 'function': {'name': ...}}", path=here)
        if tool.get("type", "function") != "function":
            raise error(f"expected tool type 'function', got {tool.get('type')!r}", path=f"{here}.type")
        parameters = function.get("parameters")
        if parameters is not None and not _is_mapping(parameters):
            raise error("'parameters' must be a JSON Schema object", path=f"{here}.function.parameters")
        check_json_value(tool, here, limit=MAX_JSON_DEPTH - 1, error=error)


def _tool_choice(choice: object, path: str, error: Fail) -> None:
    if choice is None or choice in _TOOL_CHOICES:
        return
    if _is_mapping(choice):
        function = choice.get("function")
        if _is_mapping(function) and isinstance(function.get("name"), str):
            check_json_value(choice, path, error=error)
            return
    raise error(
        "expected 'auto', 'required', 'none' or {'type': 'function', 'function': {'name': ...}}", path=path
    )


_FIELD_CHECKS: dict[str, Callable[[Any, str, Fail], None]] = {
    "model": _model,
    "messages": _messages,
    "stream": _stream,
    "tools": _tools,
    "tool_choice": _tool_choice,
}


def _is_mapping(value: object) -> TypeGuard[Mapping[str, Any]]:
    """``isinstance(value, Mapping)``, with the common case (a dict) first: this runs per message."""
    return type(value) is dict or isinstance(value, Mapping)


def json_type(value: object) -> str:
    """The JSON name of ``value``'s type, for messages such as "expected an object, got array"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__
