"""What a check sees: the request or response text, plus the facts Portkey's checks read.

The text under check follows Portkey: before the upstream call it is the **last message's**
content (the text parts of a multi-part message, joined by newlines); after it, the first choice's
message content. Transformations (redaction) come back as new text parts and are written back
into the same place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

from ..hook_results import HookEvent
from ..types import ChatRequest, ChatResponse
from ..wire import HttpRequest, HttpResponse

__all__ = ["CheckContext", "HttpSend", "apply_request_texts", "apply_response_texts", "request_texts"]

HttpSend = Callable[[HttpRequest, float], Awaitable[HttpResponse]]
"""Sends one HTTP request with a timeout in seconds (the gateway's transport; webhooks use it)."""


class CheckContext:
    """The input of one check. ``texts`` are the text parts under check; ``text`` joins them."""

    __slots__ = (
        "_text",
        "_texts",
        "event",
        "metadata",
        "provider",
        "request",
        "request_type",
        "response",
        "send",
    )

    def __init__(
        self,
        event: HookEvent,
        request: ChatRequest,
        texts: list[str],
        *,
        response: ChatResponse | None = None,
        provider: str = "",
        metadata: Mapping[str, str] | None = None,
        send: HttpSend | None = None,
        request_type: str = "chatComplete",
    ) -> None:
        self.event = event
        self.request = request
        self.response = response
        self._texts = texts
        self._text: str | None = None
        self.provider = provider
        self.metadata: Mapping[str, str] = metadata or {}
        self.send = send
        self.request_type = request_type

    @property
    def texts(self) -> list[str]:
        """The text parts under check."""
        return self._texts

    @texts.setter
    def texts(self, value: list[str]) -> None:
        self._texts, self._text = value, None

    @property
    def text(self) -> str:
        """The non-empty text parts joined by newlines (Portkey's ``getText``), computed once."""
        if self._text is None:
            self._text = "\n".join(part for part in self._texts if part)
        return self._text

    @property
    def model(self) -> str:
        """The model the request asks for."""
        return self.request.model

    def to_json(self) -> dict[str, Any]:
        """The context as Portkey posts it to a webhook (request/response JSON and text)."""
        response_json = self.response.to_dict() if self.response is not None else {}
        return {
            "request": {"json": self.request.to_body(), "text": _last_text(self.request)},
            "response": {
                "json": response_json,
                "text": self.text if self.event == "afterRequestHook" else "",
            },
            "provider": self.provider,
            "requestType": self.request_type,
            "metadata": dict(self.metadata),
            "eventType": self.event,
        }


def request_texts(request: ChatRequest) -> list[str]:
    """The last message's text parts (a string content is one part; non-text parts count as "")."""
    content = request.messages[-1].get("content")
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [part.get("text") or "" if isinstance(part, Mapping) else "" for part in content]
    return []


def response_texts(response: ChatResponse) -> list[str]:
    """The first choice's content as one part."""
    return [response.message.content or ""]


def _last_text(request: ChatRequest) -> str:
    return "\n".join(part for part in request_texts(request) if part)


def apply_request_texts(request: ChatRequest, texts: list[str]) -> ChatRequest:
    """``request`` with its last message's text parts replaced by ``texts``."""
    messages = list(request.messages)
    last: dict[str, Any] = dict(messages[-1])
    content = last.get("content")
    if isinstance(content, list):
        parts = []
        for index, part in enumerate(content):
            if isinstance(part, Mapping) and "text" in part and index < len(texts):
                parts.append({**part, "text": texts[index]})
            else:
                parts.append(part)
        last["content"] = parts
    elif texts:
        last["content"] = texts[0]
    messages[-1] = last  # type: ignore[call-overload]
    return replace(request, messages=messages)


def apply_response_texts(response: ChatResponse, texts: list[str]) -> ChatResponse:
    """``response`` with its first choice's content replaced by ``texts[0]``."""
    if not response.choices or not texts:
        return response
    first = response.choices[0]
    changed = replace(first, message=replace(first.message, content=texts[0]))
    return replace(response, choices=(changed, *response.choices[1:]))
