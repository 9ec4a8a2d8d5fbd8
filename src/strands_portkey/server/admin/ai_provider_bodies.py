"""Request bodies of the AI providers API (seed 002), with its camelCase field names.

Strict (:class:`~.bodies.Body`): unknown fields and wrong types answer 400 naming the field. The
rules pydantic cannot say (a provider name's alphabet, a base URL's scheme and host, a rate type)
stay in the service layer, so both faces refuse the same bodies with the same messages.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PlainValidator, WithJsonSchema

from .bodies import Body

__all__ = [
    "BulkRateUpdateBody",
    "CredentialBody",
    "CredentialUpdateBody",
    "ProviderBody",
    "ProviderUpdateBody",
    "RateBatchBody",
    "RateUpdateBody",
]


def _amount(value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {type(value).__name__}")
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"expected a number >= 0, got {value!r}")
    return value


Amount = Annotated[int | float, PlainValidator(_amount), WithJsonSchema({"type": "number", "minimum": 0})]
"""A number >= 0, kept as sent (``20`` stays an int: the service shows amounts as they came)."""


def _price(value: object) -> int | float:
    if _amount(value) == 0:
        raise ValueError("expected a USD price per credit > 0")
    return _amount(value)


Price = Annotated[
    int | float, PlainValidator(_price), WithJsonSchema({"type": "number", "exclusiveMinimum": 0})
]
"""A number > 0."""
Name = Annotated[str, Field(min_length=1, max_length=100)]
Text = Annotated[str, Field(max_length=500)]
CredentialType = Literal["api_key", "access_key_pair", "custom"]


def _secret(value: object) -> str | dict[str, str]:
    if isinstance(value, str) or (
        isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    ):
        return value
    raise ValueError(
        "expected a key (a string) or an object of strings such as access_key_id / secret_access_key"
    )


Secret = Annotated[
    str | dict[str, str],
    PlainValidator(_secret),
    WithJsonSchema(
        {"anyOf": [{"type": "string"}, {"type": "object", "additionalProperties": {"type": "string"}}]}
    ),
]
"""A credential's secret: one key, or the fields of an access key pair / a custom credential."""
RateType = Literal["chatCompletion", "embedding", "imageGeneration", "video"]


class ProviderBody(Body):
    """``POST /api/ai-providers``: ``name`` (unique), ``displayName``, ``baseUrl``, ``region``..."""

    name: Name
    display_name: Annotated[str | None, Field(alias="displayName", max_length=200)] = None
    base_url: Annotated[Text | None, Field(alias="baseUrl")] = None
    region: Annotated[str | None, Field(max_length=100)] = None
    enabled: bool = True
    api_format: Annotated[str | None, Field(alias="apiFormat", max_length=40)] = None


class ProviderUpdateBody(Body):
    """``PUT /api/ai-providers/{id}``: the fields to change."""

    name: Name | None = None
    display_name: Annotated[str | None, Field(alias="displayName", max_length=200)] = None
    base_url: Annotated[Text | None, Field(alias="baseUrl")] = None
    region: Annotated[str | None, Field(max_length=100)] = None
    enabled: bool | None = None
    api_format: Annotated[str | None, Field(alias="apiFormat", max_length=40)] = None


class CredentialBody(Body):
    """``POST .../credentials``: ``name``, ``value`` (a key, or an object of fields), ``credentialType``."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    value: Secret
    credential_type: Annotated[CredentialType, Field(alias="credentialType")] = "api_key"
    weight: Annotated[int, Field(ge=1, le=10_000)] = 100
    description: Annotated[str | None, Field(max_length=2000)] = None
    active: bool = True


class CredentialUpdateBody(Body):
    """``PUT .../credentials/{credentialId}``: the fields to change (a new ``value`` is re-validated)."""

    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    value: Secret | None = None
    weight: Annotated[int | None, Field(ge=1, le=10_000)] = None
    description: Annotated[str | None, Field(max_length=2000)] = None
    active: bool | None = None


class _RateFields(Body):
    input_rate: Annotated[Amount, Field(alias="inputRate")]
    output_rate: Annotated[Amount, Field(alias="outputRate")]
    cache_read_rate: Annotated[Amount | None, Field(alias="cacheReadRate")] = None
    cache_write_rate: Annotated[Amount | None, Field(alias="cacheWriteRate")] = None
    unit_costs: Annotated[dict[str, Amount] | None, Field(alias="unitCosts")] = None
    model_metadata: Annotated[dict[str, object] | None, Field(alias="modelMetadata")] = None
    description: Annotated[str | None, Field(max_length=2000)] = None


class RateBatchBody(_RateFields):
    """``POST /api/ai-providers/model-rates``: one rate for every provider in ``providers`` (all or none)."""

    model: Annotated[str, Field(min_length=1, max_length=200)]
    type: RateType = "chatCompletion"
    providers: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=100)]], Field(min_length=1, max_length=100)
    ]


class RateUpdateBody(Body):
    """``PUT .../model-rates/{rateId}``: rates, description or metadata to change."""

    input_rate: Annotated[Amount | None, Field(alias="inputRate")] = None
    output_rate: Annotated[Amount | None, Field(alias="outputRate")] = None
    cache_read_rate: Annotated[Amount | None, Field(alias="cacheReadRate")] = None
    cache_write_rate: Annotated[Amount | None, Field(alias="cacheWriteRate")] = None
    unit_costs: Annotated[dict[str, Amount] | None, Field(alias="unitCosts")] = None
    model_metadata: Annotated[dict[str, object] | None, Field(alias="modelMetadata")] = None
    description: Annotated[str | None, Field(max_length=2000)] = None


class BulkRateUpdateBody(Body):
    """``POST /api/ai-providers/bulk-rate-update``: ``profitMargin`` (%) and ``creditPrice`` (USD)."""

    profit_margin: Annotated[Amount, Field(alias="profitMargin")]
    credit_price: Annotated[Price, Field(alias="creditPrice")]
