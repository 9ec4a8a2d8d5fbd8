"""The AI Providers API of seed 002, route for route, over ``gw.providers`` (the same services).

Providers, credentials, model rates, discovery, health and the test-models job.

Members read providers and rates; writes are for admins; discovery (``/models``,
``/chat/models``) and ``/health`` are public, as the seed's operational guide polls ``/health``
without a key (it shows credential names and whether each is running, nothing else). JSON uses
the seed's camelCase (:mod:`~strands_portkey.controlplane.provider_json`); credentials are only
ever shown masked. Bodies are at most 1 MiB (the admin app's :class:`~.body_limit.BodyLimit`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ...controlplane.provider_json import check_json, credential_json, provider_json, rate_json
from .ai_provider_bodies import (
    BulkRateUpdateBody,
    CredentialBody,
    CredentialUpdateBody,
    ProviderBody,
    ProviderUpdateBody,
    RateBatchBody,
    RateUpdateBody,
)
from .bodies import Limit, Offset, fields_set
from .caller import CallerDep
from .services import AdminServices, ServicesDep

__all__ = ["router"]

BASE = "/api/ai-providers"
ProviderId = Annotated[str, Path(alias="providerId", max_length=200)]
CredentialId = Annotated[str, Path(alias="credentialId", max_length=200)]
RateId = Annotated[str, Path(alias="rateId", max_length=200)]
Validate = Annotated[
    bool | None,
    Query(description="Check the key against the provider first (default: the server's setting)"),
]
_DISCOVERY_CACHE = "public, max-age=5"


def _credential_fields(body: CredentialBody | CredentialUpdateBody) -> dict[str, Any]:
    """The body as the service reads it (``active`` is the service's ``is_active``)."""
    fields = fields_set(body, by_alias=True)
    if "active" in fields:
        fields["is_active"] = fields.pop("active")
    return fields


def _page(items: list[Any], total: int, limit: int, offset: int) -> dict[str, Any]:
    return {"data": items, "total": total, "limit": limit, "offset": offset}


class _Listing:
    """A discovery listing as JSON bytes with its ETag, rebuilt only when the service's list changes."""

    def __init__(self) -> None:
        self._built: dict[tuple[str, str | None], tuple[object, bytes, str]] = {}

    def answer(self, request: Request, source: list[dict[str, Any]], key: tuple[str, str | None]) -> Response:
        built = self._built.get(key)
        if built is None or built[0] is not source:
            body = json.dumps(source, separators=(",", ":"), ensure_ascii=False).encode()
            built = (source, body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
            self._built[key] = built
        _, body, etag = built
        headers = {"etag": etag, "cache-control": _DISCOVERY_CACHE}
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="application/json", headers=headers)


def router() -> APIRouter:
    """The routes of ``/api/ai-providers``."""
    r = APIRouter(tags=["ai-providers"])
    listings = _Listing()
    _discovery_routes(r, listings)
    _rate_routes(r)
    _provider_routes(r)
    _credential_routes(r)
    return r


async def _discovery(services: AdminServices, kind: str, type: str | None) -> list[dict[str, Any]]:
    """The listing from memory on the event loop; a stale one rebuilt on a worker thread."""
    providers = services.providers
    found = providers.cached_discovery(kind, type)
    return found if found is not None else await run_in_threadpool(providers.discovery, kind, type)


def _discovery_routes(r: APIRouter, listings: _Listing) -> None:
    @r.get(f"{BASE}/models", summary="Available models of enabled providers, in LiteLLM format (public)")
    async def models(
        request: Request,
        services: ServicesDep,
        type: Annotated[str | None, Query(max_length=40, description="chat, embedding, ...")] = None,
    ) -> Response:
        return listings.answer(request, await _discovery(services, "models", type), ("models", type))

    @r.get(f"{BASE}/chat/models", summary="Chat models grouped by model, with the providers serving each")
    async def chat_models(request: Request, services: ServicesDep) -> Response:
        return listings.answer(request, await _discovery(services, "chat", None), ("chat", None))

    @r.get(f"{BASE}/health", summary="Whether each credential of each provider is running (public)")
    def health(services: ServicesDep) -> dict[str, Any]:
        services.plane.maybe_refresh()
        return services.providers.health()

    @r.get(
        f"{BASE}/test-models",
        status_code=202,
        summary="Start checking every rated model in the background (5 per 10 minutes per user)",
    )
    def test_models(caller: CallerDep, services: ServicesDep) -> dict[str, Any]:
        job = services.providers.test_models(user=caller.user)
        return {"jobId": job.id, "status": job.status, "user": job.user}

    @r.get(
        f"{BASE}/test-models/{{jobId}}", summary="A test-models job: its status and, once ended, its results"
    )
    def test_models_job(
        job_id: Annotated[str, Path(alias="jobId", max_length=40)], services: ServicesDep
    ) -> dict[str, Any]:
        job = services.providers.test_models_job(job_id)
        return {
            "jobId": job.id,
            "status": job.status,
            "user": job.user,
            "results": job.results,
            "error": job.error,
        }


def _rate_routes(r: APIRouter) -> None:
    @r.get(f"{BASE}/model-rates", summary="Model rates of every provider (paginated, searchable)")
    def list_rates(
        *,
        services: ServicesDep,
        provider_id: Annotated[str | None, Query(alias="providerId", max_length=200)] = None,
        model: Annotated[str | None, Query(max_length=200)] = None,
        type: Annotated[str | None, Query(max_length=40)] = None,
        search: Annotated[str | None, Query(max_length=200)] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        rates, total = services.providers.rates.page(
            provider=provider_id, model=model, type=type, search=search, limit=limit, offset=offset
        )
        return _page([rate_json(rate) for rate in rates], total, limit, offset)

    @r.post(
        f"{BASE}/model-rates", status_code=201, summary="The same rate for several providers (all or none)"
    )
    def create_rates(body: RateBatchBody, services: ServicesDep) -> dict[str, Any]:
        created = services.providers.rates.create(fields_set(body, by_alias=True))
        return {"data": [rate_json(rate) for rate in created]}

    @r.get(f"{BASE}/model-rates/{{rateId}}", summary="One model rate")
    def retrieve_rate(rate_id: RateId, services: ServicesDep) -> dict[str, Any]:
        return rate_json(services.providers.rates.retrieve(rate_id))

    @r.delete(f"{BASE}/{{providerId}}/model-rates/{{rateId}}", summary="Delete a model rate")
    def delete_rate(provider: ProviderId, rate_id: RateId, services: ServicesDep) -> dict[str, Any]:
        return services.providers.rates.delete(provider, rate_id)

    @r.put(f"{BASE}/{{providerId}}/model-rates/{{rateId}}", summary="Change a model rate")
    def update_rate(
        provider: ProviderId, rate_id: RateId, body: RateUpdateBody, services: ServicesDep
    ) -> dict[str, Any]:
        return rate_json(services.providers.rates.update(provider, rate_id, fields_set(body, by_alias=True)))

    @r.post(f"{BASE}/bulk-rate-update", summary="Re-price every rate with unit costs")
    def bulk_rate_update(body: BulkRateUpdateBody, services: ServicesDep) -> dict[str, Any]:
        rates = services.providers.rates
        return rates.bulk_update(profit_margin=body.profit_margin, credit_price=body.credit_price)


def _provider_routes(r: APIRouter) -> None:
    @r.get(BASE, summary="Every provider with its credentials (masked) and model rates")
    def list_providers(services: ServicesDep, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
        providers = services.providers.list()
        shown = providers[offset : offset + limit]
        return _page([provider_json(p) for p in shown], len(providers), limit, offset)

    @r.post(BASE, status_code=201, summary="Create a provider (unique name)")
    def create_provider(body: ProviderBody, services: ServicesDep) -> dict[str, Any]:
        return provider_json(services.providers.create(fields_set(body, by_alias=True)))

    @r.get(f"{BASE}/{{id}}", summary="One provider by id or name")
    def retrieve_provider(
        provider: Annotated[str, Path(alias="id", max_length=200)], services: ServicesDep
    ) -> dict[str, Any]:
        return provider_json(services.providers.retrieve(provider))

    @r.put(f"{BASE}/{{id}}", summary="Change a provider")
    def update_provider(
        provider: Annotated[str, Path(alias="id", max_length=200)],
        body: ProviderUpdateBody,
        services: ServicesDep,
    ) -> dict[str, Any]:
        return provider_json(services.providers.update(provider, fields_set(body, by_alias=True)))

    @r.delete(f"{BASE}/{{id}}", summary="Delete a provider with its credentials and rates")
    def delete_provider(
        provider: Annotated[str, Path(alias="id", max_length=200)], services: ServicesDep
    ) -> dict[str, Any]:
        return services.providers.delete(provider)


def _credential_routes(r: APIRouter) -> None:
    credentials = f"{BASE}/{{providerId}}/credentials"

    @r.post(credentials, status_code=201, summary="Add a credential (validated against the provider first)")
    def create_credential(
        provider: ProviderId, body: CredentialBody, services: ServicesDep, validate: Validate = None
    ) -> dict[str, Any]:
        fields = _credential_fields(body)
        return credential_json(services.providers.create_credential(provider, fields, validate=validate))

    @r.put(f"{credentials}/{{credentialId}}", summary="Change a credential (a new value is re-validated)")
    def update_credential(
        provider: ProviderId,
        credential: CredentialId,
        body: CredentialUpdateBody,
        services: ServicesDep,
        validate: Validate = None,
    ) -> dict[str, Any]:
        fields = _credential_fields(body)
        changed = services.providers.update_credential(provider, credential, fields, validate=validate)
        return credential_json(changed)

    @r.delete(f"{credentials}/{{credentialId}}", summary="Remove a credential")
    def delete_credential(
        provider: ProviderId, credential: CredentialId, services: ServicesDep
    ) -> dict[str, Any]:
        return services.providers.delete_credential(provider, credential)

    @r.get(f"{credentials}/{{credentialId}}/check", summary="Re-validate a credential now (re-activates it)")
    def check_credential(
        provider: ProviderId, credential: CredentialId, services: ServicesDep
    ) -> dict[str, Any]:
        return check_json(services.providers.check_credential(provider, credential))
