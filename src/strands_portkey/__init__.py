"""strands-agents-portkey: a Strands model provider with an in-process, Portkey-compatible AI gateway.

``PortkeyModel`` and ``Gateway`` are loaded on first use, so ``import strands_portkey`` stays fast
(the Strands SDK and httpx are imported only when a model or gateway is needed).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ContextWindowExceededError,
    ControlPlaneError,
    CredentialsUnavailableError,
    GatewayError,
    GatewayOverloadedError,
    GuardrailDeniedError,
    InvalidRequestError,
    MalformedResponseError,
    NotFoundError,
    OverloadedError,
    RateLimitError,
    RequestCancelledError,
    RequestTimeoutError,
    ServerError,
    StreamInterruptedError,
    UpstreamConnectionError,
    UpstreamError,
)
from .types import ChatChunk, ChatRequest, ChatResponse, RouteInfo, Usage

if TYPE_CHECKING:
    from .gateway import ChatStream, Gateway
    from .model import PortkeyModel
    from .remote import AsyncClient, Client

__all__ = [
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "ChatChunk",
    "ChatRequest",
    "ChatResponse",
    "ChatStream",
    "Client",
    "ConfigurationError",
    "ContextWindowExceededError",
    "ControlPlaneError",
    "CredentialsUnavailableError",
    "Gateway",
    "GatewayError",
    "GatewayOverloadedError",
    "GuardrailDeniedError",
    "InvalidRequestError",
    "MalformedResponseError",
    "NotFoundError",
    "OverloadedError",
    "PortkeyModel",
    "RateLimitError",
    "RequestCancelledError",
    "RequestTimeoutError",
    "RouteInfo",
    "ServerError",
    "StreamInterruptedError",
    "UpstreamConnectionError",
    "UpstreamError",
    "Usage",
]

_LAZY = {
    "PortkeyModel": ".model",
    "Gateway": ".gateway",
    "ChatStream": ".gateway",
    "Client": ".remote",
    "AsyncClient": ".remote",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'strands_portkey' has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


def __dir__() -> list[str]:
    return sorted(__all__)
