"""The providers API's objects as JSON, in the seed's camelCase, and back: one codec for both faces.

The admin REST API answers with :func:`provider_json`, :func:`credential_json`, :func:`rate_json`
and :func:`check_json`; the remote client turns the same JSON back into the dataclasses
``gw.providers`` returns (:func:`provider_from_json` and friends), so both faces return equal
objects. Amounts are JSON numbers (the seed's bodies send numbers); they come back as exact
``Decimal`` values equal to the stored ones. A credential never carries its secret: only the
masked form and the plain identifiers (such as an AWS ``access_key_id``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .rates_api import ModelRate
from .views import Provider, ProviderKey, ProviderKeyTestResult

__all__ = [
    "check_from_json",
    "check_json",
    "credential_from_json",
    "credential_json",
    "provider_from_json",
    "provider_json",
    "rate_from_json",
    "rate_json",
]


def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def credential_json(key: ProviderKey) -> dict[str, Any]:
    """A credential, masked (``maskedValue``), as the seed's API shows it (``active``, ``weight``)."""
    tested = key.test_result
    return {
        "id": key.id,
        "name": key.name,
        "provider": key.provider,
        "credentialType": key.credential_type,
        "maskedValue": key.masked_key,
        "identifiers": dict(key.identifiers),
        "weight": key.weight,
        "active": key.is_active,
        "error": key.error,
        "description": key.description,
        "providerOrganization": key.provider_organization,
        "owner": key.owner,
        "organizationId": key.organization_id,
        "lastUsedAt": key.last_used_at,
        "lastTestedAt": key.last_tested_at,
        "testResult": None
        if tested is None
        else {"success": tested["success"], "message": tested["message"], "testedAt": tested["tested_at"]},
        "createdAt": key.created_at,
        "updatedAt": key.updated_at,
    }


def credential_from_json(data: Mapping[str, Any]) -> ProviderKey:
    """The :class:`ProviderKey` a :func:`credential_json` object stands for."""
    tested = data.get("testResult")
    return ProviderKey(
        id=data["id"],
        name=data["name"],
        provider=data["provider"],
        description=data.get("description"),
        provider_organization=data.get("providerOrganization"),
        owner=data.get("owner"),
        organization_id=data.get("organizationId"),
        is_active=data["active"],
        last_used_at=data.get("lastUsedAt"),
        last_tested_at=data.get("lastTestedAt"),
        test_result=None
        if tested is None
        else {"success": tested["success"], "message": tested["message"], "tested_at": tested["testedAt"]},
        masked_key=data["maskedValue"],
        created_at=data["createdAt"],
        updated_at=data["updatedAt"],
        credential_type=data["credentialType"],
        weight=data["weight"],
        error=data.get("error"),
        identifiers=dict(data.get("identifiers") or {}),
    )


def rate_json(rate: ModelRate) -> dict[str, Any]:
    """A model rate (``providerId``, ``model``, ``type``, ``inputRate``, ``outputRate``, ...)."""
    return {
        "id": rate.id,
        "providerId": rate.provider_id,
        "provider": rate.provider,
        "model": rate.model,
        "type": rate.type,
        "inputRate": _number(rate.input_rate),
        "outputRate": _number(rate.output_rate),
        "cacheReadRate": _number(rate.cache_read_rate),
        "cacheWriteRate": _number(rate.cache_write_rate),
        "unitCosts": {name: _number(amount) for name, amount in rate.unit_costs.items()},
        "modelMetadata": dict(rate.model_metadata),
        "description": rate.description,
        "createdAt": rate.created_at,
        "updatedAt": rate.updated_at,
    }


def rate_from_json(data: Mapping[str, Any]) -> ModelRate:
    """The :class:`ModelRate` a :func:`rate_json` object stands for."""
    return ModelRate(
        id=data["id"],
        provider_id=data["providerId"],
        provider=data["provider"],
        model=data["model"],
        type=data["type"],
        input_rate=Decimal(str(data["inputRate"])),
        output_rate=Decimal(str(data["outputRate"])),
        cache_read_rate=_decimal(data.get("cacheReadRate")),
        cache_write_rate=_decimal(data.get("cacheWriteRate")),
        unit_costs={name: Decimal(str(amount)) for name, amount in (data.get("unitCosts") or {}).items()},
        model_metadata=dict(data.get("modelMetadata") or {}),
        description=data.get("description"),
        created_at=data["createdAt"],
        updated_at=data["updatedAt"],
    )


def provider_json(provider: Provider) -> dict[str, Any]:
    """A provider with its credentials (masked) and its model rates."""
    return {
        "id": provider.id,
        "name": provider.name,
        "displayName": provider.display_name,
        "baseUrl": provider.base_url,
        "region": provider.region,
        "enabled": provider.enabled,
        "apiFormat": provider.api_format,
        "createdAt": provider.created_at,
        "updatedAt": provider.updated_at,
        "credentials": [credential_json(key) for key in provider.credentials],
        "modelRates": [rate_json(rate) for rate in provider.rates],
    }


def provider_from_json(data: Mapping[str, Any]) -> Provider:
    """The :class:`Provider` a :func:`provider_json` object stands for."""
    return Provider(
        id=data["id"],
        name=data["name"],
        display_name=data["displayName"],
        base_url=data.get("baseUrl"),
        region=data.get("region"),
        enabled=data["enabled"],
        created_at=data["createdAt"],
        updated_at=data["updatedAt"],
        credentials=tuple(credential_from_json(item) for item in data.get("credentials") or ()),
        rates=tuple(rate_from_json(item) for item in data.get("modelRates") or ()),
        api_format=data.get("apiFormat") or "openai",
    )


def check_json(result: ProviderKeyTestResult) -> dict[str, Any]:
    """A credential check: ``success``, ``message`` (why not), ``testedAt``."""
    return {"success": result.success, "message": result.message, "testedAt": result.tested_at}


def check_from_json(data: Mapping[str, Any]) -> ProviderKeyTestResult:
    """The :class:`ProviderKeyTestResult` a :func:`check_json` object stands for."""
    return ProviderKeyTestResult(data["success"], data["message"], data["testedAt"])
