from __future__ import annotations

import pytest

from strands_portkey.errors import ConfigurationError
from strands_portkey.providers import get_adapter, host_spec, known_providers
from strands_portkey.providers.anthropic import ANTHROPIC_HOST, AnthropicAdapter
from strands_portkey.providers.azure import AZURE_HOST, AzureOpenAIAdapter
from strands_portkey.providers.base import Target
from strands_portkey.providers.bedrock import BEDROCK_HOST, BedrockAdapter
from strands_portkey.providers.gemini import GEMINI_HOST, GeminiAdapter
from strands_portkey.providers.openai_compat import OPENAI_COMPATIBLE_HOSTS, HostSpec, OpenAICompatAdapter
from strands_portkey.providers.portkey import PORTKEY_HOST, PortkeyAdapter
from strands_portkey.types import ChatRequest

EXPECTED_IDS = (
    "anthropic",
    "azure-openai",
    "bedrock",
    "deepseek",
    "fireworks-ai",
    "google",
    "google-openai",
    "groq",
    "llama-cpp",
    "mistral-ai",
    "ollama",
    "openai",
    "openrouter",
    "portkey",
    "together-ai",
    "vllm",
)


def test_known_providers() -> None:
    assert known_providers() == EXPECTED_IDS


@pytest.mark.parametrize("spec", OPENAI_COMPATIBLE_HOSTS, ids=lambda spec: spec.name)
def test_every_host_row_is_registered(spec: HostSpec) -> None:
    adapter = get_adapter(spec.name)
    assert type(adapter) is OpenAICompatAdapter
    assert adapter.name == spec.name
    assert host_spec(spec.name) is spec


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("together", "together-ai"),
        ("mistral", "mistral-ai"),
        ("fireworks", "fireworks-ai"),
        ("llamacpp", "llama-cpp"),
        ("OpenAI", "openai"),
        ("gemini", "google"),
        ("azure", "azure-openai"),
        ("aws-bedrock", "bedrock"),
        ("gemini-openai", "google-openai"),
        (" groq ", "groq"),
    ],
)
def test_aliases_and_case_resolve(alias: str, canonical: str) -> None:
    assert get_adapter(alias) is get_adapter(canonical)
    assert get_adapter(alias).name == canonical
    spec = host_spec(alias)
    assert spec is not None
    assert spec.name == canonical


def test_portkey_is_its_own_adapter() -> None:
    adapter = get_adapter("portkey")
    assert isinstance(adapter, PortkeyAdapter)
    assert host_spec("portkey") is PORTKEY_HOST


@pytest.mark.parametrize(
    ("provider", "adapter_type", "spec"),
    [
        ("anthropic", AnthropicAdapter, ANTHROPIC_HOST),
        ("bedrock", BedrockAdapter, BEDROCK_HOST),
        ("azure-openai", AzureOpenAIAdapter, AZURE_HOST),
        ("google", GeminiAdapter, GEMINI_HOST),
    ],
)
def test_native_providers_are_registered(provider: str, adapter_type: type, spec: HostSpec) -> None:
    adapter = get_adapter(provider)
    assert type(adapter) is adapter_type
    assert adapter.name == provider
    assert host_spec(provider) is spec


def test_adapter_default_base_url_comes_from_the_row() -> None:
    request = ChatRequest.from_body({"model": "llama3", "messages": [{"role": "user", "content": "hi"}]})
    assert (
        get_adapter("ollama").build_request(request, Target("ollama", "")).url
        == "http://127.0.0.1:11434/v1/chat/completions"
    )


def test_unknown_host_spec_is_none() -> None:
    assert host_spec("nope") is None


def test_unknown_provider_suggests_close_matches() -> None:
    with pytest.raises(ConfigurationError) as caught:
        get_adapter("grok")
    message = str(caught.value)
    assert message.startswith("provider: unknown provider 'grok'. Did you mean 'groq'?")
    assert "Known providers: " + ", ".join(EXPECTED_IDS) in message
    assert caught.value.path == "provider"


def test_alias_typo_suggests_the_canonical_id() -> None:
    with pytest.raises(ConfigurationError, match=r"Did you mean 'together-ai'\?"):
        get_adapter("togeter")


def test_unknown_provider_without_close_match_lists_ids() -> None:
    with pytest.raises(ConfigurationError) as caught:
        get_adapter("zzzzzz")
    assert "Did you mean" not in str(caught.value)
    assert "Known providers: anthropic, azure-openai, " in str(caught.value)
