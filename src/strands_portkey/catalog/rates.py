"""Model rates: what a model costs at a provider, in credits (what users pay) and USD (what we pay).

A rate row links ``model`` + ``type`` to a provider with ``inputRate`` / ``outputRate`` (credits
per token; optional cache read/write rates), ``unitCosts`` (USD per token: ``input``, ``output``,
``cache_read``, ``cache_write``) and ``modelMetadata`` (``maxTokens``, ``features`` such as
``tools`` and ``vision``). Amounts are exact decimals with 10 places.

**Bulk update** re-prices every rate that has unit costs:
``rate = unitCost x (1 + profitMargin / 100) / creditPrice``, rounded half-up to 10 decimals.
Example: 2.5e-6 USD/token at a 20 % margin and 0.001 USD/credit is 0.003 credits/token.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..errors import ConflictError, InvalidRequestError, ResourceNotFoundError
from ..store.providers import new_id
from ..store.tables import ModelRateRow, ProviderRow, utcnow

__all__ = [
    "RATE_TYPES",
    "RateRecord",
    "all_rates",
    "bulk_update",
    "compute_rate",
    "count_rates",
    "create_rates",
    "find_rate",
    "parse_rate_body",
    "query_rates",
    "rate_record",
    "to_decimal",
    "update_rate",
]

RATE_TYPES = ("chatCompletion", "embedding", "imageGeneration", "video")
_TYPE_ALIASES = {
    "chat": "chatCompletion",
    "image_generation": "imageGeneration",
    "completion": "chatCompletion",
}
_PLACES = Decimal(1).scaleb(-10)
_UNIT_KEYS = {
    "input": "input",
    "output": "output",
    "cache_read": "cache_read",
    "cacheRead": "cache_read",
    "cache_write": "cache_write",
    "cacheWrite": "cache_write",
}
_ALIASES = {
    "inputRate": "input_rate",
    "outputRate": "output_rate",
    "cacheReadRate": "cache_read_rate",
    "cacheWriteRate": "cache_write_rate",
    "unitCosts": "unit_costs",
    "modelMetadata": "model_metadata",
}
_FIELDS = frozenset(
    {
        "model",
        "type",
        "input_rate",
        "output_rate",
        "cache_read_rate",
        "cache_write_rate",
        "unit_costs",
        "model_metadata",
        "description",
        "caching",
    }
)


def to_decimal(value: Any, path: str) -> Decimal:
    """A non-negative number (int, float or decimal string) as an exact 10-place Decimal."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise InvalidRequestError(f"expected a number, got {type(value).__name__}", path=path)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise InvalidRequestError(f"expected a number, got {value!r}", path=path) from None
    if not number.is_finite() or number < 0:
        raise InvalidRequestError(f"expected a number >= 0, got {value!r}", path=path)
    return number.quantize(_PLACES, rounding=ROUND_HALF_UP)


def compute_rate(unit_cost: Decimal, profit_margin: Decimal, credit_price: Decimal) -> Decimal:
    """Credits per token for a USD unit cost: ``unitCost x (1 + margin/100) / creditPrice``, 10 places."""
    return (unit_cost * (1 + profit_margin / 100) / credit_price).quantize(_PLACES, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class RateRecord:
    """A stored rate."""

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
    created_at: dt.datetime
    updated_at: dt.datetime


def rate_record(row: ModelRateRow) -> RateRecord:
    """The record of a row."""
    return RateRecord(
        id=row.id,
        provider_id=row.provider_id,
        provider=row.provider.name,
        model=row.model,
        type=row.type,
        input_rate=row.input_rate,
        output_rate=row.output_rate,
        cache_read_rate=row.cache_read_rate,
        cache_write_rate=row.cache_write_rate,
        unit_costs={key: Decimal(value) for key, value in (row.unit_costs or {}).items()},
        model_metadata=dict(row.model_metadata or {}),
        description=row.description,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _unit_costs(value: Any, path: str) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidRequestError("expected an object such as {'input': 2.5e-6, 'output': 1e-5}", path=path)
    out: dict[str, str] = {}
    for key, amount in value.items():
        name = _UNIT_KEYS.get(key)
        if name is None:
            raise InvalidRequestError(
                f"unknown unit cost {key!r}: use input, output, cache_read, cache_write", path=path
            )
        out[name] = format(to_decimal(amount, f"{path}.{key}"), "f")
    return out


def _metadata(value: Any, path: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidRequestError(
            "expected an object such as {'maxTokens': 4096, 'features': ['tools']}", path=path
        )
    features = value.get("features")
    if features is not None and not (
        isinstance(features, list) and all(isinstance(f, str) for f in features)
    ):
        raise InvalidRequestError("expected a list of strings", path=f"{path}.features")
    for key in ("maxTokens", "max_tokens"):
        if key in value and (
            isinstance(value[key], bool) or not isinstance(value[key], int) or value[key] <= 0
        ):
            raise InvalidRequestError("expected a positive whole number", path=f"{path}.{key}")
    return dict(value)


def parse_rate_body(body: Mapping[str, Any], *, partial: bool, path: str = "body") -> dict[str, Any]:
    """Validated rate fields (snake_case; amounts as Decimal). ``partial`` for updates."""
    if not isinstance(body, Mapping):
        raise InvalidRequestError(f"expected an object, got {type(body).__name__}", path=path)
    fields: dict[str, Any] = {}
    for key, value in body.items():
        name = _ALIASES.get(key, key)
        if name not in _FIELDS:
            raise InvalidRequestError(f"unknown field {key!r} for a model rate", path=path)
        fields[name] = value
    caching = fields.pop("caching", None)
    if isinstance(caching, Mapping):
        fields.setdefault("cache_read_rate", caching.get("readRate"))
        fields.setdefault("cache_write_rate", caching.get("writeRate"))
    for required in ("model", "input_rate", "output_rate"):
        if not partial and fields.get(required) is None:
            raise InvalidRequestError(f"missing: a model rate needs {required!r}", path=f"{path}.{required}")
    if "model" in fields and (not isinstance(fields["model"], str) or not fields["model"].strip()):
        raise InvalidRequestError("expected a non-empty model name", path=f"{path}.model")
    rate_type = _TYPE_ALIASES.get(fields.get("type", "chatCompletion"), fields.get("type", "chatCompletion"))
    if "type" in fields or not partial:
        if rate_type not in RATE_TYPES:
            raise InvalidRequestError(
                f"unknown rate type {fields.get('type')!r}: use one of {', '.join(RATE_TYPES)}",
                path=f"{path}.type",
            )
        fields["type"] = rate_type
    for key in ("input_rate", "output_rate", "cache_read_rate", "cache_write_rate"):
        if fields.get(key) is not None:
            fields[key] = to_decimal(fields[key], f"{path}.{key}")
    if "unit_costs" in fields:
        fields["unit_costs"] = _unit_costs(fields["unit_costs"], f"{path}.unitCosts")
    if "model_metadata" in fields:
        fields["model_metadata"] = _metadata(fields["model_metadata"], f"{path}.modelMetadata")
    return fields


def all_rates(session: Session) -> list[RateRecord]:
    """Every stored rate, with its provider's name (what a price book is built from)."""
    return [rate_record(row) for row in session.scalars(select(ModelRateRow).join(ProviderRow))]


def create_rates(
    session: Session, fields: Mapping[str, Any], providers: Sequence[ProviderRow]
) -> list[ModelRateRow]:
    """The same rate for each provider (all or none: the caller's transaction)."""
    rows = []
    now = utcnow()
    for provider in providers:
        clash = session.scalars(
            select(ModelRateRow.id).where(
                ModelRateRow.provider_id == provider.id,
                ModelRateRow.model == fields["model"],
                ModelRateRow.type == fields["type"],
            )
        ).first()
        if clash is not None:
            raise ConflictError(
                f"provider {provider.name!r} already has a {fields['type']} rate "
                f"for {fields['model']!r} ({clash})"
            )
        row = ModelRateRow(
            id=new_id("rate"), provider_id=provider.id, created_at=now, updated_at=now, **fields
        )
        row.provider = provider
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def _filtered(
    statement: Any,
    *,
    provider: str | None,
    model: str | None,
    rate_type: str | None,
    search: str | None,
) -> Any:
    """``statement`` (over rates joined to providers) narrowed by the listing's filters."""
    if provider is not None:
        statement = statement.where(or_(ProviderRow.id == provider, ProviderRow.name == provider))
    if model is not None:
        statement = statement.where(ModelRateRow.model == model)
    if rate_type is not None:
        statement = statement.where(ModelRateRow.type == _TYPE_ALIASES.get(rate_type, rate_type))
    if search:
        pattern = f"%{search.lower()}%"
        statement = statement.where(
            or_(
                func.lower(ModelRateRow.model).like(pattern),
                func.lower(func.coalesce(ModelRateRow.description, "")).like(pattern),
                func.lower(ProviderRow.name).like(pattern),
            )
        )
    return statement


def query_rates(
    session: Session,
    *,
    provider: str | None = None,
    model: str | None = None,
    rate_type: str | None = None,
    search: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> list[ModelRateRow]:
    """One page of rates ordered by provider, model, type.

    ``search`` matches part of the model, the description or the provider's name (any case).
    """
    statement = _filtered(
        select(ModelRateRow).join(ProviderRow),
        provider=provider,
        model=model,
        rate_type=rate_type,
        search=search,
    )
    statement = statement.order_by(ProviderRow.name, ModelRateRow.model, ModelRateRow.type, ModelRateRow.id)
    return list(session.scalars(statement.offset(offset).limit(limit)))


def count_rates(
    session: Session,
    *,
    provider: str | None = None,
    model: str | None = None,
    rate_type: str | None = None,
    search: str | None = None,
) -> int:
    """How many rates :func:`query_rates` pages through with the same filters."""
    statement = _filtered(
        select(func.count(ModelRateRow.id)).select_from(ModelRateRow).join(ProviderRow),
        provider=provider,
        model=model,
        rate_type=rate_type,
        search=search,
    )
    return int(session.scalar(statement) or 0)


def find_rate(session: Session, rate_id: str, *, provider: str | None = None) -> ModelRateRow:
    """A rate by id (checked to belong to ``provider`` when given)."""
    row = session.get(ModelRateRow, rate_id)
    if row is None or (provider is not None and provider not in (row.provider_id, row.provider.name)):
        where = f" at provider {provider!r}" if provider is not None else ""
        raise ResourceNotFoundError(f"rate_id: no model rate {rate_id!r}{where}")
    return row


def update_rate(session: Session, row: ModelRateRow, fields: Mapping[str, Any]) -> ModelRateRow:
    """Apply validated fields."""
    for key, value in fields.items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    session.flush()
    return row


def bulk_update(session: Session, profit_margin: Any, credit_price: Any) -> int:
    """Re-price every rate with unit costs; the number of rates changed."""
    margin = to_decimal(profit_margin, "profitMargin")
    price = to_decimal(credit_price, "creditPrice")
    if price <= 0:
        raise InvalidRequestError("expected a USD price per credit > 0", path="creditPrice")
    count = 0
    now = utcnow()
    rows: Iterable[ModelRateRow] = session.scalars(
        select(ModelRateRow).where(ModelRateRow.unit_costs.is_not(None))
    )
    for row in rows:
        costs = {key: Decimal(value) for key, value in (row.unit_costs or {}).items()}
        if not costs:
            continue
        for column, key in (
            ("input_rate", "input"),
            ("output_rate", "output"),
            ("cache_read_rate", "cache_read"),
            ("cache_write_rate", "cache_write"),
        ):
            if key in costs:
                setattr(row, column, compute_rate(costs[key], margin, price))
        row.updated_at = now
        count += 1
    session.flush()
    return count
