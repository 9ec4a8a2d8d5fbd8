"""Model discovery: the rated models of enabled providers, in LiteLLM's listing format (pure).

``litellm_models`` gives one flat entry per (provider, model)::

    {"key": "openai/gpt-4o", "model": "gpt-4o", "type": "chat", "provider": "openai",
     "providerId": "prov-...", "providerDisplayName": "OpenAI",
     "input_credits_per_token": 0.003, "output_credits_per_token": 0.012,
     "modelMetadata": {"maxTokens": 128000, "features": ["tools", "vision"]},
     "status": "available"}

``status`` is ``available`` when the provider has an active credential, else ``unavailable``.
``chat_models`` groups chat rates by model name with the providers serving each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from typing import Any

from ..store.providers import ProviderRecord
from .rates import RateRecord

__all__ = ["LISTING_TYPES", "chat_models", "litellm_models"]

LISTING_TYPES: Mapping[str, str] = {
    "chatCompletion": "chat",
    "embedding": "embedding",
    "imageGeneration": "image_generation",
    "video": "video",
}
"""Rate types -> LiteLLM ``type`` names."""


def litellm_models(
    rates: Iterable[RateRecord],
    providers: Mapping[str, ProviderRecord],
    serving: Set[str],
    *,
    type: str | None = None,
) -> list[dict[str, Any]]:
    """Flat LiteLLM-format entries for rates of enabled providers (``providers`` by id)."""
    out = []
    for rate in rates:
        provider = providers.get(rate.provider_id)
        listing_type = LISTING_TYPES.get(rate.type, rate.type)
        if provider is None or not provider.enabled or (type is not None and listing_type != type):
            continue
        out.append(
            {
                "key": f"{provider.name}/{rate.model}",
                "model": rate.model,
                "type": listing_type,
                "provider": provider.name,
                "providerId": provider.id,
                "providerDisplayName": provider.display_name,
                "input_credits_per_token": float(rate.input_rate),
                "output_credits_per_token": float(rate.output_rate),
                "modelMetadata": dict(rate.model_metadata),
                "status": "available" if provider.name in serving else "unavailable",
            }
        )
    return sorted(out, key=lambda entry: entry["key"])


def chat_models(
    rates: Iterable[RateRecord], providers: Mapping[str, ProviderRecord], serving: Set[str]
) -> list[dict[str, Any]]:
    """Chat models grouped by name: ``[{"model", "modelMetadata", "providers": [...]}]``."""
    groups: dict[str, dict[str, Any]] = {}
    for entry in litellm_models(rates, providers, serving, type="chat"):
        group = groups.setdefault(
            entry["model"],
            {"model": entry["model"], "modelMetadata": entry["modelMetadata"], "providers": []},
        )
        group["providers"].append(
            {
                "id": entry["providerId"],
                "name": entry["provider"],
                "displayName": entry["providerDisplayName"],
                "input_credits_per_token": entry["input_credits_per_token"],
                "output_credits_per_token": entry["output_credits_per_token"],
                "status": entry["status"],
            }
        )
    return [groups[name] for name in sorted(groups)]
