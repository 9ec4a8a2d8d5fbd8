from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from strands_portkey.catalog.billing import PriceBook, usage_cost
from strands_portkey.catalog.litellm import parse_price_map
from strands_portkey.catalog.rates import RateRecord, compute_rate, to_decimal
from strands_portkey.errors import InvalidRequestError
from strands_portkey.types import Usage

NOW = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)


def rate(**overrides: object) -> RateRecord:
    fields: dict[str, object] = {
        "id": "rate-1", "provider_id": "prov-1", "provider": "openai", "model": "gpt-4o",
        "type": "chatCompletion",
        "input_rate": Decimal("0.003"), "output_rate": Decimal("0.012"), "cache_read_rate": None,
        "cache_write_rate": None, "unit_costs": {"input": Decimal("2.5e-6"), "output": Decimal("1e-5")},
        "model_metadata": {}, "description": None, "created_at": NOW, "updated_at": NOW,
    }  # fmt: skip
    fields.update(overrides)
    return RateRecord(**fields)  # type: ignore[arg-type]


def test_compute_rate_example_and_rounding() -> None:
    assert compute_rate(Decimal("2.5e-6"), Decimal(20), Decimal("0.001")) == Decimal("0.003")
    assert compute_rate(Decimal("1e-8"), Decimal(0), Decimal(3)) == Decimal("0.0000000033")
    assert compute_rate(Decimal("5e-11"), Decimal(0), Decimal(1)) == Decimal("0.0000000001")  # half up


@pytest.mark.parametrize("bad", [-1, "x", None, True, float("nan")])
def test_to_decimal_rejects(bad: object) -> None:
    with pytest.raises(InvalidRequestError):
        to_decimal(bad, "inputRate")


def test_usage_cost_without_cache_and_without_unit_costs() -> None:
    cost = usage_cost(rate(), Usage(prompt_tokens=1000, completion_tokens=100))
    assert cost.credits == Decimal("4.2")
    assert cost.usd == Decimal("0.0035")
    assert usage_cost(rate(unit_costs={}), Usage(prompt_tokens=10)).usd is None


def test_cache_tokens_never_make_uncached_negative() -> None:
    cost = usage_cost(rate(cache_read_rate=Decimal("0.001")), Usage(prompt_tokens=10, cache_read_tokens=50))
    assert cost.credits == Decimal("0.05")


def test_price_book_looks_up_chat_rates_then_embedding_rates() -> None:
    book = PriceBook(
        [
            rate(),
            rate(model="emb", type="embedding"),
            rate(model="gpt-4o", type="embedding", input_rate=Decimal("99")),  # the chat rate wins
            rate(model="img", type="imageGeneration"),
        ]
    )
    assert len(book) == 2
    assert book.cost("openai", "gpt-4o", Usage(completion_tokens=1)).credits == Decimal("0.012")  # type: ignore[union-attr]
    assert book.cost("openai", "emb", Usage(prompt_tokens=1000)).credits == Decimal("3")  # type: ignore[union-attr]
    assert book.cost("openai", "img", Usage()) is None


def test_price_map_parsing_strips_provider_prefix_and_filters() -> None:
    data = {
        "groq/llama-3.1-8b-instant": {
            "litellm_provider": "groq", "mode": "chat", "input_cost_per_token": 5e-8,
            "output_cost_per_token": 8e-8,
            "max_tokens": 8192, "supports_tool_choice": True,
        },
        "gpt-4o": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 2.5e-6,
                   "output_cost_per_token": 1e-5},
        "mystery": {"litellm_provider": "nobody", "input_cost_per_token": 1, "output_cost_per_token": 1},
    }  # fmt: skip
    entries = parse_price_map(data)
    assert [(e.provider, e.model) for e in entries] == [
        ("groq", "llama-3.1-8b-instant"),
        ("openai", "gpt-4o"),
    ]
    assert entries[0].model_metadata == {"maxTokens": 8192, "features": ["tools"]}
    assert [e.model for e in parse_price_map(data, providers=["openai"])] == ["gpt-4o"]


def test_price_map_bad_number_names_the_entry() -> None:
    data = {
        "gpt-4o": {"litellm_provider": "openai", "input_cost_per_token": "cheap", "output_cost_per_token": 1}
    }
    with pytest.raises(InvalidRequestError, match=r"price map\['gpt-4o'\].input_cost_per_token"):
        parse_price_map(data)


def test_price_map_file_nested_too_deep_is_a_clear_error(tmp_path) -> None:
    from strands_portkey.catalog.litellm import load_price_map

    deep = tmp_path / "prices.json"
    deep.write_text("[" * 100_000)
    with pytest.raises(InvalidRequestError, match=r"prices\.json is not valid JSON \(JSON nested deeper"):
        load_price_map(deep)
