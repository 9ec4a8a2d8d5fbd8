"""The adapter protocol: how a provider's wire format is translated, and nothing more.

An adapter is pure: it builds an :class:`~strands_portkey.types.HttpRequest` from a canonical
:class:`~strands_portkey.types.ChatRequest` and a :class:`Target`, parses a complete response,
parses a stream incrementally, and maps an error status to the error tree. It never sends
anything, sleeps, retries or reads credentials from a vault: the gateway does those.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..embeddings import EmbeddingRequest, EmbeddingResponse
from ..errors import UpstreamError
from ..types import ChatChunk, ChatRequest, ChatResponse
from ..wire import HttpRequest, HttpResponse, Secret

__all__ = ["Adapter", "EmbeddingAdapter", "StreamParser", "Target", "embedding_adapter"]


@dataclass(frozen=True, slots=True)
class Target:
    """Everything an adapter needs to address one upstream.

    Attributes:
        provider: The provider id as written in the config (``openai``, ``groq``, ``portkey``...).
        base_url: The base URL the endpoint path is appended to (``custom_host`` wins).
        api_key: The provider credential, if the provider needs one.
        headers: Extra headers for this target (``x-portkey-*`` for Portkey's gateway,
            ``OpenAI-Organization``...). Values may be secrets; adapters list them in
            ``HttpRequest.secrets`` when they are.
        options: Provider-specific settings (Azure ``api_version``, AWS region...).
    """

    provider: str
    base_url: str
    api_key: Secret | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        key = "set" if self.api_key else "none"
        return f"Target(provider={self.provider!r}, base_url={self.base_url!r}, api_key={key})"


class StreamParser(Protocol):
    """Incremental parser of one streamed response.

    ``feed`` takes raw bytes exactly as they arrive (any split) and returns the complete chunks
    they finish; ``close`` is called at end of input and raises
    :class:`~strands_portkey.errors.StreamInterruptedError` when the stream was not complete
    (e.g. no ``[DONE]`` and no finish reason). A provider error event inside the stream is raised
    from ``feed`` as the mapped :class:`~strands_portkey.errors.GatewayError`.
    """

    def feed(self, data: bytes) -> list[ChatChunk]:
        """Parse more bytes; return the chunks they complete."""
        ...

    def close(self) -> list[ChatChunk]:
        """End of input: return any final chunk, or raise if the stream was cut short."""
        ...


class Adapter(Protocol):
    """Translate between the canonical types and one provider's HTTP API."""

    name: str

    def build_request(
        self,
        request: ChatRequest,
        target: Target,
        *,
        trace_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> HttpRequest:
        """The HTTP request for ``request`` at ``target`` (streaming when ``request.stream``).

        ``trace_id`` and ``metadata`` are the caller's; adapters of gateways that understand them
        (Portkey) forward them, others ignore them.
        """
        ...

    def parse_response(self, response: HttpResponse, request: ChatRequest) -> ChatResponse:
        """A complete 2xx response as a :class:`ChatResponse` (``route`` left unset)."""
        ...

    def stream_parser(self, request: ChatRequest) -> StreamParser:
        """A fresh incremental parser for one streamed 2xx response."""
        ...

    def map_error(self, status_code: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
        """The error for a non-2xx response (status, headers lower-cased, raw body)."""
        ...

    def prepare_target(self, target: Target, env: Mapping[str, str]) -> Target:
        """Complete and check ``target`` once, when the gateway is built (never per request).

        Native providers derive what the config leaves implicit here (Bedrock's regional URL,
        Azure's deployment URL, credentials from ``env``) and refuse an unusable target with a
        :class:`~strands_portkey.errors.ConfigurationError` whose ``path`` names the field
        (``aws_region``); the caller prefixes the target's JSON path.
        """
        ...


class EmbeddingAdapter(Protocol):
    """The optional half of an adapter whose provider offers embeddings (``Gateway.embed``).

    Errors of an embeddings call are mapped by the adapter's ``map_error``, as for chat.
    """

    name: str

    def build_embedding_request(
        self,
        request: EmbeddingRequest,
        target: Target,
        *,
        trace_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> HttpRequest:
        """The HTTP request embedding ``request``'s inputs at ``target``."""
        ...

    def parse_embedding_response(
        self, response: HttpResponse, request: EmbeddingRequest
    ) -> EmbeddingResponse:
        """A 2xx embeddings answer as an :class:`EmbeddingResponse` (``route`` left unset)."""
        ...


def embedding_adapter(adapter: object) -> EmbeddingAdapter | None:
    """``adapter`` when it offers embeddings, else ``None`` (its provider has none here)."""
    if hasattr(adapter, "build_embedding_request") and hasattr(adapter, "parse_embedding_response"):
        return adapter  # type: ignore[return-value]
    return None
