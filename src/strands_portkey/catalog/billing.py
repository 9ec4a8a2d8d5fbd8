"""What a request cost, in USD and in credits, from its usage and the model's rate (pure; no I/O).

Usage follows the canonical (OpenAI-shaped) convention: ``prompt_tokens`` *includes* the cached
tokens read (``cache_read_tokens``) and written (``cache_write_tokens``). So the bill is::

    uncached = prompt - cache_read - cache_write           (never below 0)
    credits  = uncached x inputRate + cache_read x readRate + cache_write x writeRate
               + completion x outputRate
    usd      = the same with unitCosts (input, cache_read, cache_write, output)

Cache rates fall back to the input rate when a model has none. Results are rounded half-up to 10
decimals. ``usd`` is ``None`` when the rate has no unit costs (credits alone are still exact).
:class:`PriceBook` is an in-memory snapshot of every rate, for the analytics writer's hot path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from .rates import RateRecord

__all__ = ["PriceBook", "UsageCost", "UsageLike", "usage_cost"]

_PLACES = Decimal(1).scaleb(-10)
_BILLED = {"embedding": 0, "chatCompletion": 1}  # the later type wins for one (provider, model)


class UsageLike(Protocol):
    """Token counts (``strands_portkey.types.Usage`` fits)."""

    @property
    def prompt_tokens(self) -> int:
        """Prompt tokens, cached ones included."""

    @property
    def completion_tokens(self) -> int:
        """Completion tokens."""

    @property
    def cache_read_tokens(self) -> int:
        """Prompt tokens read from the provider's cache."""

    @property
    def cache_write_tokens(self) -> int:
        """Prompt tokens written to the provider's cache."""


@dataclass(frozen=True, slots=True)
class UsageCost:
    """The cost of one request: USD (``None`` without unit costs) and credits."""

    usd: Decimal | None
    credits: Decimal


def _bill(
    counts: tuple[int, int, int, int],
    input_: Decimal,
    read: Decimal | None,
    write: Decimal | None,
    output: Decimal,
) -> Decimal:
    uncached, cache_read, cache_write, completion = counts
    total = (
        uncached * input_
        + cache_read * (input_ if read is None else read)
        + cache_write * (input_ if write is None else write)
        + completion * output
    )
    return total.quantize(_PLACES, rounding=ROUND_HALF_UP)


def usage_cost(rate: RateRecord, usage: UsageLike) -> UsageCost:
    """USD and credits of ``usage`` at ``rate`` (see the module docstring for the formula)."""
    read, write = max(usage.cache_read_tokens, 0), max(usage.cache_write_tokens, 0)
    counts = (max(usage.prompt_tokens - read - write, 0), read, write, max(usage.completion_tokens, 0))
    credits = _bill(counts, rate.input_rate, rate.cache_read_rate, rate.cache_write_rate, rate.output_rate)
    costs = rate.unit_costs
    usd = None
    if "input" in costs and "output" in costs:
        usd = _bill(
            counts, costs["input"], costs.get("cache_read"), costs.get("cache_write"), costs["output"]
        )
    return UsageCost(usd, credits)


class PriceBook:
    """Rates by (provider, model) in memory: cost a usage without touching the database."""

    def __init__(self, rates: Iterable[RateRecord] = ()) -> None:
        by_type = sorted(
            (rate for rate in rates if rate.type in _BILLED), key=lambda rate: _BILLED[rate.type]
        )
        # a model's chat rate wins; an embedding model (``Gateway.embed``) has its embedding rate
        self._rates: Mapping[tuple[str, str], RateRecord] = {
            (rate.provider, rate.model): rate for rate in by_type
        }

    def __len__(self) -> int:
        return len(self._rates)

    def rate(self, provider: str, model: str) -> RateRecord | None:
        """The chat rate of ``model`` at ``provider`` (else its embedding rate), if one is stored."""
        return self._rates.get((provider, model))

    def cost(self, provider: str, model: str, usage: UsageLike) -> UsageCost | None:
        """The cost of ``usage``, or ``None`` when the model has no rate at that provider."""
        rate = self._rates.get((provider, model))
        return usage_cost(rate, usage) if rate is not None else None
