"""The fields of a prompt version as ``gw.prompts`` checks them, and what ``completions`` needs.

Every error names the field. Parameters may not hold a credential (``api_key``,
``authorization``, ...): a prompt is shown to whoever can read it, and keys live in the vault.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from ..errors import InvalidRequestError
from ..prompts.render import compile_template
from ..prompts.template import check_params, compile_messages
from .saved_configs import SECRET_FIELDS

__all__ = ["PromptGateway", "checked_body", "checked_params", "optional_text"]


class PromptGateway(Protocol):
    """What ``completions`` needs of a gateway (a protocol: the gateway sits above this layer)."""

    async def chat(self, request: Any, *, metadata: Mapping[str, Any] | None = None) -> Any:
        """Answer a request whole."""
        ...

    def stream(self, request: Any, *, metadata: Mapping[str, Any] | None = None) -> Any:
        """Answer a request as a stream."""
        ...


def checked_body(messages: Any, template: Any, path: str = "") -> tuple[str, Any]:
    """``("prompt", messages)`` or ``("partial", template)``, checked (every template parsed)."""
    if (messages is None) == (template is None):
        raise InvalidRequestError(
            "give either 'messages' (a prompt) or 'template' (a partial)", path=path or "messages"
        )
    if template is not None:
        compile_template(template, "template")
        return "partial", template
    compile_messages(messages)
    return "prompt", [dict(m) for m in messages]


def optional_text(value: Any, path: str, limit: int = 2000) -> str | None:
    """``None``, or a string of at most ``limit`` characters (a note, a description, a model)."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidRequestError(f"expected a string of at most {limit} characters", path=path)
    return value


def checked_params(params: Any, path: str = "params") -> dict[str, Any]:
    """The request parameters, checked, refusing a credential anywhere in them."""
    clean = check_params(params, path)
    _no_secrets(clean, path)
    return clean


def _no_secrets(value: Any, path: str) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}"
            if isinstance(key, str) and key.lower() in SECRET_FIELDS and item not in (None, ""):
                raise InvalidRequestError(
                    "a prompt may not hold a credential: keep keys in the vault (gw.ai.provider_keys) "
                    "and route with a config",
                    path=where,
                )
            _no_secrets(item, where)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _no_secrets(item, f"{path}[{index}]")
