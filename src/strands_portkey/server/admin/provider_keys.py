"""``/api/ai/provider-keys``: seed 000's ``client.ai.provider_keys`` over ``gw.ai.provider_keys``.

=============================================  =========================  ==============================
route                                          method                     returns
=============================================  =========================  ==============================
``GET /api/ai/provider-keys``                  ``list(provider, ...)``    ``Page[ProviderKey]``
``POST /api/ai/provider-keys``                 ``create(body)``           ``ProviderKey`` (201, masked)
``GET|PUT|DELETE /api/ai/provider-keys/{id}``  ``retrieve`` / ``update``  ``ProviderKey`` / dict
                                               / ``delete``
``POST /api/ai/provider-keys/{id}/test``       ``test(key_id)``           ``ProviderKeyTestResult``
=============================================  =========================  ==============================

Members manage their own keys (a new key belongs to its creator); another user's key is 404 and
the probe is logged. Secrets go in, never out: answers carry ``masked_key`` only, and a refused
body's error names the field, never its value.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from ...controlplane.views import ProviderKey, ProviderKeyTestResult
from .ai_common import AIDep, Page, located, page_of
from .bodies import Body, Limit, Offset, fields_set

__all__ = ["router"]

Short = Annotated[str, Field(max_length=200)]
SecretText = Annotated[str, Field(min_length=1, max_length=20_000)]


class ProviderKeyFields(Body):
    """A provider key's fields (seed 000's ``ProviderKey`` plus the secret); all optional in an update."""

    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    description: Annotated[str, Field(max_length=10_000)] | None = None
    provider_organization: Short | None = None
    owner: Short | None = None
    organization_id: Short | None = None
    weight: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    is_active: bool | None = None
    api_key: SecretText | None = None
    credential_type: Short | None = None
    access_key_id: SecretText | None = None
    secret_access_key: SecretText | None = None
    session_token: SecretText | None = None
    value: SecretText | None = None


class NewProviderKey(ProviderKeyFields):
    """``create(body)``: ``name`` and ``provider`` are required, and the key itself."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    provider: Annotated[str, Field(min_length=1, max_length=100)]


def _set(body: Body) -> dict[str, Any]:
    return {key: value for key, value in fields_set(body).items() if value is not None}


def router() -> APIRouter:
    """The routes of ``/api/ai/provider-keys``."""
    r = APIRouter(tags=["provider keys"])

    @r.get(
        "/api/ai/provider-keys",
        response_model=Page[ProviderKey],
        summary="List provider keys (a member: its own)",
    )
    def list_keys(
        *,
        ai: AIDep,
        provider: Annotated[str | None, Query(max_length=100)] = None,
        status: Literal["active", "inactive"] | None = None,
        search: Annotated[str | None, Query(max_length=200)] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        with located("query"):
            keys = ai.provider_keys.list(provider=provider, status=status, search=search, limit=limit)
            return page_of(keys, offset)

    @r.post("/api/ai/provider-keys", status_code=201, summary="Store a provider key (validated, then masked)")
    def create(ai: AIDep, body: NewProviderKey) -> ProviderKey:
        with located("body"):
            return ai.provider_keys.create(_set(body))

    @r.get("/api/ai/provider-keys/{key_id}", summary="Get a key by id (or name), masked")
    def retrieve(ai: AIDep, key_id: str) -> ProviderKey:
        with located("query"):
            return ai.provider_keys.retrieve(key_id)

    @r.put("/api/ai/provider-keys/{key_id}", summary="Update a key's fields or the key itself")
    def update(ai: AIDep, key_id: str, body: ProviderKeyFields) -> ProviderKey:
        with located("body"):
            return ai.provider_keys.update(key_id, _set(body))

    @r.delete("/api/ai/provider-keys/{key_id}", summary="Delete a key")
    def delete(ai: AIDep, key_id: str) -> dict[str, Any]:
        with located("query"):
            return ai.provider_keys.delete(key_id)

    @r.post("/api/ai/provider-keys/{key_id}/test", summary="Check a key against its provider now")
    def test(ai: AIDep, key_id: str) -> ProviderKeyTestResult:
        with located("query"):
            return ai.provider_keys.test(key_id)

    return r
