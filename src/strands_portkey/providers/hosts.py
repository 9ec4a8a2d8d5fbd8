"""Where each provider lives by default: the :class:`HostSpec` rows.

The OpenAI-compatible hosts are pure data (one row each, served by one adapter); native
providers define their own row beside their adapter. Kept apart from the adapter code so
adding a host never touches parsing.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OPENAI_COMPATIBLE_HOSTS", "HostSpec"]


@dataclass(frozen=True, slots=True)
class HostSpec:
    """Where a provider lives by default and which credential it takes.

    Attributes:
        name: The provider id (Portkey's provider slug: ``openai``, ``together-ai``...).
        base_url: The default base URL; a target's ``custom_host`` replaces it.
        api_key_env: The environment variable conventionally holding the key, if any.
        requires_key: Whether a request without a key is a configuration error.
        aliases: Other ids accepted for this provider (``together`` for ``together-ai``).
        accepts_null_content: False for servers that reject ``"content": null`` on an assistant
            message carrying ``tool_calls`` (OpenAI allows it); ``""`` is sent instead.
    """

    name: str
    base_url: str
    api_key_env: str | None
    requires_key: bool
    aliases: tuple[str, ...] = ()
    accepts_null_content: bool = True


OPENAI_COMPATIBLE_HOSTS: tuple[HostSpec, ...] = (
    HostSpec("openai", "https://api.openai.com/v1", "OPENAI_API_KEY", True),
    HostSpec("groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY", True),
    HostSpec("together-ai", "https://api.together.xyz/v1", "TOGETHER_API_KEY", True, ("together",)),
    HostSpec("mistral-ai", "https://api.mistral.ai/v1", "MISTRAL_API_KEY", True, ("mistral",)),
    HostSpec("deepseek", "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY", True),
    HostSpec(
        "fireworks-ai", "https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY", True, ("fireworks",)
    ),
    HostSpec("openrouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", True),
    HostSpec("ollama", "http://127.0.0.1:11434/v1", None, False),
    HostSpec("vllm", "http://127.0.0.1:8000/v1", "VLLM_API_KEY", False),
    HostSpec(
        "google-openai",
        "https://generativelanguage.googleapis.com/v1beta/openai",
        "GEMINI_API_KEY",
        True,
        ("gemini-openai",),
    ),
    HostSpec("llama-cpp", "http://127.0.0.1:8080/v1", None, False, ("llamacpp",), accepts_null_content=False),
)
"""The OpenAI-compatible hosts known by name. One row per host."""
