"""Import model prices from a LiteLLM-format price map (``model_prices_and_context_window.json``).

Only the file format is used; LiteLLM itself is never imported or installed. Each entry is keyed
by model name and may carry ``litellm_provider``, ``mode``, ``input_cost_per_token``,
``output_cost_per_token``, ``cache_read_input_token_cost``, ``cache_creation_input_token_cost``,
``max_tokens`` / ``max_input_tokens`` / ``max_output_tokens`` and ``supports_*`` flags; the
``sample_spec`` entry documents the format and is skipped.

The USD unit costs are stored as given; credit rates are derived with
:func:`~strands_portkey.catalog.rates.compute_rate` (``profit_margin`` %, ``credit_price`` USD per
credit; the default 0 % and 1 USD makes credits equal to dollars).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import InvalidRequestError
from ..wire import decode_json
from .rates import compute_rate, to_decimal

__all__ = ["LITELLM_PROVIDERS", "PriceEntry", "load_price_map", "parse_price_map"]

LITELLM_PROVIDERS: Mapping[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "google",
    "vertex_ai-language-models": "vertex-ai",
    "bedrock": "bedrock",
    "azure": "azure-openai",
    "groq": "groq",
    "mistral": "mistral-ai",
    "together_ai": "together-ai",
    "deepseek": "deepseek",
    "fireworks_ai": "fireworks-ai",
    "openrouter": "openrouter",
    "ollama": "ollama",
}
"""LiteLLM's provider names -> this project's provider ids."""

_MODES = {
    "chat": "chatCompletion",
    "completion": "chatCompletion",
    "embedding": "embedding",
    "image_generation": "imageGeneration",
}
_FEATURES = {
    "supports_function_calling": "tools",
    "supports_tool_choice": "tools",
    "supports_vision": "vision",
    "supports_reasoning": "reasoning",
    "supports_response_schema": "structured_output",
    "supports_prompt_caching": "prompt_caching",
    "supports_pdf_input": "pdf",
    "supports_audio_input": "audio",
}


@dataclass(frozen=True, slots=True)
class PriceEntry:
    """One model's prices from the map, as a rate body for one provider."""

    provider: str
    model: str
    type: str
    unit_costs: Mapping[str, Decimal]
    model_metadata: Mapping[str, Any] = field(default_factory=dict)

    def rate_fields(self, profit_margin: Decimal, credit_price: Decimal) -> dict[str, Any]:
        """The rate's stored fields, credit rates computed from the unit costs."""
        rates = {
            column: compute_rate(self.unit_costs[key], profit_margin, credit_price)
            for column, key in (
                ("input_rate", "input"),
                ("output_rate", "output"),
                ("cache_read_rate", "cache_read"),
                ("cache_write_rate", "cache_write"),
            )
            if key in self.unit_costs
        }
        return {
            "model": self.model,
            "type": self.type,
            **rates,
            "unit_costs": {key: format(value, "f") for key, value in self.unit_costs.items()},
            "model_metadata": dict(self.model_metadata),
        }


def _metadata(entry: Mapping[str, Any]) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    max_tokens = entry.get("max_tokens") or entry.get("max_input_tokens")
    if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens > 0:
        metadata["maxTokens"] = max_tokens
    if isinstance(entry.get("max_output_tokens"), int):
        metadata["maxOutputTokens"] = entry["max_output_tokens"]
    features = sorted({name for flag, name in _FEATURES.items() if entry.get(flag) is True})
    if features:
        metadata["features"] = features
    return metadata


def _entry(name: str, entry: Mapping[str, Any]) -> PriceEntry | None:
    provider = LITELLM_PROVIDERS.get(str(entry.get("litellm_provider", "")))
    rate_type = _MODES.get(str(entry.get("mode", "chat")))
    if provider is None or rate_type is None:
        return None
    if "input_cost_per_token" not in entry or "output_cost_per_token" not in entry:
        return None
    where = f"price map[{name!r}]"
    costs = {
        "input": to_decimal(entry["input_cost_per_token"], f"{where}.input_cost_per_token"),
        "output": to_decimal(entry["output_cost_per_token"], f"{where}.output_cost_per_token"),
    }
    if entry.get("cache_read_input_token_cost") is not None:
        costs["cache_read"] = to_decimal(
            entry["cache_read_input_token_cost"], f"{where}.cache_read_input_token_cost"
        )
    if entry.get("cache_creation_input_token_cost") is not None:
        costs["cache_write"] = to_decimal(
            entry["cache_creation_input_token_cost"], f"{where}.cache_creation_input_token_cost"
        )
    model = name.split("/", 1)[1] if name.startswith(f"{entry['litellm_provider']}/") else name
    return PriceEntry(provider, model, rate_type, costs, _metadata(entry))


def parse_price_map(data: Any, *, providers: Sequence[str] | None = None) -> list[PriceEntry]:
    """Entries of a parsed price map for ``providers`` (default: all mapped providers)."""
    if not isinstance(data, Mapping):
        raise InvalidRequestError(
            "a LiteLLM price map is a JSON object keyed by model name", path="price_map"
        )
    wanted = set(providers) if providers is not None else None
    entries = []
    for name, entry in data.items():
        if name == "sample_spec" or not isinstance(entry, Mapping):
            continue
        parsed = _entry(str(name), entry)
        if parsed is not None and (wanted is None or parsed.provider in wanted):
            entries.append(parsed)
    return entries


def load_price_map(path: str | Path, *, providers: Sequence[str] | None = None) -> list[PriceEntry]:
    """Read and parse a price-map file; a clear error when it is missing or not JSON."""
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidRequestError(f"cannot read {file}: {error.strerror or error}", path="path") from None
    try:
        data = decode_json(text)
    except ValueError as error:
        raise InvalidRequestError(f"{file} is not valid JSON ({error})", path="path") from None
    return parse_price_map(data, providers=providers)
