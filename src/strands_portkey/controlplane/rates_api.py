"""``gw.providers.rates``: model rates — list, batch create, update, delete, bulk re-price, import.

Bodies take the providers API's camelCase (``inputRate``, ``unitCosts``, ``modelMetadata``) or
snake_case. Every call that changes several rows is one transaction: a batch create for three
providers where the third already has that rate stores none of them.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..catalog.billing import PriceBook
from ..catalog.litellm import load_price_map
from ..catalog.rates import (
    RateRecord,
    all_rates,
    bulk_update,
    count_rates,
    create_rates,
    find_rate,
    parse_rate_body,
    query_rates,
    rate_record,
    to_decimal,
    update_rate,
)
from ..errors import InvalidRequestError
from ..store.providers import find_provider
from ..store.tables import ModelRateRow, ProviderRow
from .plane import ControlPlane
from .views import SyncPaginator, iso

__all__ = ["ImportReport", "ModelRate", "ModelRates", "model_rate"]

_MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class ModelRate:
    """A model's rate at one provider (amounts as exact decimals; timestamps ISO-8601)."""

    id: str
    provider_id: str
    provider: str
    model: str
    type: str
    input_rate: Decimal
    output_rate: Decimal
    cache_read_rate: Decimal | None
    cache_write_rate: Decimal | None
    unit_costs: Mapping[str, Decimal]
    model_metadata: Mapping[str, Any]
    description: str | None
    created_at: str
    updated_at: str


def model_rate(record: RateRecord) -> ModelRate:
    """The API view of a rate record."""
    return ModelRate(
        record.id,
        record.provider_id,
        record.provider,
        record.model,
        record.type,
        record.input_rate,
        record.output_rate,
        record.cache_read_rate,
        record.cache_write_rate,
        dict(record.unit_costs),
        dict(record.model_metadata),
        record.description,
        iso(record.created_at) or "",
        iso(record.updated_at) or "",
    )


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did: rates created, rates updated, entries skipped (provider not configured)."""

    created: int
    updated: int
    skipped: int


class ModelRates:
    """Model rates over the control plane's store."""

    def __init__(self, plane: ControlPlane) -> None:
        self._plane = plane

    def __repr__(self) -> str:
        return "ModelRates()"

    def list(
        self,
        *,
        provider: str | None = None,
        model: str | None = None,
        type: str | None = None,
        search: str | None = None,
        limit: int = 50,
    ) -> SyncPaginator[ModelRate]:
        """Rates by provider, model and type; ``limit`` per page, fetched lazily."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= _MAX_PAGE:
            raise InvalidRequestError(f"expected a page size from 1 to {_MAX_PAGE}", path="limit")
        store = self._plane.store

        def fetch(offset: int, size: int) -> builtins.list[ModelRate]:
            with store.reading() as session:
                rows = query_rates(
                    session,
                    provider=provider,
                    model=model,
                    rate_type=type,
                    search=search,
                    offset=offset,
                    limit=size,
                )
                return [model_rate(rate_record(row)) for row in rows]

        return SyncPaginator(fetch, limit)

    def page(
        self,
        *,
        provider: str | None = None,
        model: str | None = None,
        type: str | None = None,
        search: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[builtins.list[ModelRate], int]:
        """One page of the rates :meth:`list` iterates, and how many match in all (one read).

        What a REST listing answers (``data`` and ``total``); ``offset`` skips that many.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= _MAX_PAGE:
            raise InvalidRequestError(f"expected a page size from 1 to {_MAX_PAGE}", path="limit")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidRequestError("expected a whole number >= 0", path="offset")
        filters: dict[str, Any] = {"provider": provider, "model": model, "rate_type": type, "search": search}
        with self._plane.store.reading() as session:
            rows = query_rates(session, **filters, offset=offset, limit=limit)
            return [model_rate(rate_record(row)) for row in rows], count_rates(session, **filters)

    def create(self, body: Mapping[str, Any]) -> builtins.list[ModelRate]:
        """The same rate for every provider in ``body["providers"]`` (ids or names), all or none."""
        if not isinstance(body, Mapping):
            raise InvalidRequestError(f"expected an object, got {type(body).__name__}", path="body")
        refs = body.get("providers")
        if not isinstance(refs, list) or not refs or not all(isinstance(ref, str) for ref in refs):
            raise InvalidRequestError(
                "expected a non-empty list of provider ids or names", path="body.providers"
            )
        fields = parse_rate_body({k: v for k, v in body.items() if k != "providers"}, partial=False)
        with self._plane.store.changing() as session:
            providers = [find_provider(session, ref, path="body.providers") for ref in refs]
            rows = create_rates(session, fields, providers)
            created = [model_rate(rate_record(row)) for row in rows]
        self._plane.refresh_prices()
        return created

    def retrieve(self, rate_id: str) -> ModelRate:
        """One rate by id."""
        with self._plane.store.reading() as session:
            return model_rate(rate_record(find_rate(session, rate_id)))

    def update(self, provider: str, rate_id: str, body: Mapping[str, Any]) -> ModelRate:
        """Change a rate's amounts, unit costs, metadata or description."""
        fields = parse_rate_body(body, partial=True)
        with self._plane.store.changing() as session:
            row = find_rate(session, rate_id, provider=provider)
            updated = model_rate(rate_record(update_rate(session, row, fields)))
        self._plane.refresh_prices()
        return updated

    def delete(self, provider: str, rate_id: str) -> dict[str, Any]:
        """Delete a rate."""
        with self._plane.store.changing() as session:
            session.delete(find_rate(session, rate_id, provider=provider))
        self._plane.refresh_prices()
        return {"id": rate_id, "deleted": True}

    def bulk_update(self, *, profit_margin: Any, credit_price: Any) -> dict[str, Any]:
        """Re-price every rate with unit costs (``profitMargin`` %, ``creditPrice`` USD/credit)."""
        with self._plane.store.changing() as session:
            count = bulk_update(session, profit_margin, credit_price)
        self._plane.refresh_prices()
        return {"updated": count, "profitMargin": str(profit_margin), "creditPrice": str(credit_price)}

    def import_litellm(
        self,
        path: str | Path,
        *,
        providers: Sequence[str] | None = None,
        profit_margin: Any = 0,
        credit_price: Any = 1,
    ) -> ImportReport:
        """Import a LiteLLM price map into configured providers (one transaction; existing rates updated)."""
        margin, price = to_decimal(profit_margin, "profit_margin"), to_decimal(credit_price, "credit_price")
        if price <= 0:
            raise InvalidRequestError("expected a USD price per credit > 0", path="credit_price")
        entries = load_price_map(path, providers=providers)
        created = updated = skipped = 0
        with self._plane.store.changing() as session:
            by_name = {row.name: row for row in session.scalars(select(ProviderRow))}
            for entry in entries:
                provider = by_name.get(entry.provider)
                if provider is None:
                    skipped += 1
                    continue
                fields = entry.rate_fields(margin, price)
                existing = session.scalars(
                    select(ModelRateRow).where(
                        ModelRateRow.provider_id == provider.id,
                        ModelRateRow.model == entry.model,
                        ModelRateRow.type == entry.type,
                    )
                ).first()
                if existing is None:
                    create_rates(session, fields, [provider])
                    created += 1
                else:
                    update_rate(session, existing, fields)
                    updated += 1
        self._plane.refresh_prices()
        return ImportReport(created, updated, skipped)

    def records(self) -> builtins.list[RateRecord]:
        """Every rate (for discovery and the price book)."""
        with self._plane.store.reading() as session:
            return all_rates(session)

    def price_book(self) -> PriceBook:
        """An in-memory snapshot of the chat rates, to cost usages without the database."""
        return PriceBook(self.records())
