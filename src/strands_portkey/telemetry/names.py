"""The names telemetry speaks: GenAI semantic-convention attributes, our own namespace, label values.

The GenAI conventions (OpenTelemetry's ``gen_ai.*``, status Development) name the provider-attempt
spans and the ``gen_ai.client.*`` metrics; everything the gateway itself decides (which option
answered, retries, cache, guardrails, cost) lives under ``strands_portkey.*`` so a backend never
mistakes it for a provider's own figure. Every label value here is bounded: provider ids map onto
the conventions' well-known names, status codes become classes, errors their type names.
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = [
    "DURATION_BUCKETS",
    "NS",
    "TOKEN_BUCKETS",
    "error_type",
    "provider_name",
    "server_of",
    "status_class",
]

NS = "strands_portkey"
"""Our attribute and metric namespace."""

DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
"""Seconds: the boundaries the conventions give ``gen_ai.client.operation.duration`` and
``gen_ai.client.operation.time_to_first_chunk``."""

TOKEN_BUCKETS = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip
"""Tokens: the boundaries the conventions give ``gen_ai.client.token.usage``."""

_PROVIDERS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "bedrock": "aws.bedrock",
    "azure-openai": "azure.ai.openai",
    "google": "gcp.gemini",
    "gemini": "gcp.gemini",
    "google-openai": "gcp.gemini",
    "vertex-ai": "gcp.vertex_ai",
    "groq": "groq",
    "mistral-ai": "mistral_ai",
    "deepseek": "deepseek",
    "cohere": "cohere",
    "perplexity-ai": "perplexity",
    "x-ai": "x_ai",
}


def provider_name(provider: str) -> str:
    """``gen_ai.provider.name`` of a target's provider id: the well-known value, else the id itself."""
    return _PROVIDERS.get(provider, provider or "_OTHER")


def status_class(status: int | None) -> str:
    """``2xx`` ... ``5xx`` (``none`` when no upstream answered: network failure, timeout)."""
    if status is None:
        return "none"
    return f"{status // 100}xx" if 100 <= status < 600 else "other"


def error_type(error: BaseException) -> str:
    """``error.type``: the exception's class name (a bounded set: our error tree and a few built-ins)."""
    return type(error).__name__


def server_of(base_url: str) -> tuple[str, int] | None:
    """``server.address`` and ``server.port`` of a base URL; never its user info, path or query."""
    try:
        parts = urlsplit(base_url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host:
        return None
    return host, port if port is not None else (443 if parts.scheme == "https" else 80)
