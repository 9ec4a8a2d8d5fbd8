"""``gw.providers``: providers, their credentials, rates, billing, health, discovery, test_models.

==============================================  =====================================================
call                                            does
==============================================  =====================================================
``create(body)`` / ``list()`` / ``retrieve``    providers (``name`` unique, ``displayName``, ``baseUrl``,
/ ``update(ref, body)`` / ``delete(ref)``       ``region``, ``enabled``, ``apiFormat``); ``list`` includes
                                                credentials (masked) and rates; ``delete`` cascades both
``create_credential(provider, body)``           a credential (``name``, ``value``, ``credentialType``,
/ ``update_credential`` / ``delete_credential``  ``weight``), validated against the provider first
``check_credential(provider, credential_id)``   re-validate; re-activates a key that passes
``rates``                                       :class:`~strands_portkey.controlplane.rates_api.ModelRates`
``cost(provider, model, usage)``                USD and credits of a usage (``None`` without a rate)
``health()``                                    ``{"providers": {name: {key: {"running": ...}}}, ...}``
``models(type=None)`` / ``chat_models()``       discovery in LiteLLM format / grouped by model
``test_models(user=...)``                       background check of every rated model (5 per 10 min)
``test_models_job(job_id)``                     a started job's state and results, from the store
``rewrap()``                                    re-wrap stored keys under the current master key
==============================================  =====================================================
"""

from __future__ import annotations

import builtins
import copy
import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from ..catalog.billing import UsageCost, UsageLike, usage_cost
from ..catalog.discovery import chat_models, litellm_models
from ..catalog.rates import RateRecord, rate_record
from ..config.host_url import check_host_url
from ..errors import InvalidRequestError, ResourceNotFoundError
from ..limits.windows import WindowCounter
from ..store.providers import (
    ProviderRecord,
    create_provider,
    delete_provider,
    find_provider,
    parse_provider_body,
    provider_record,
    update_provider,
)
from ..store.tables import ProviderRow
from ..store.windows import StoreWindows
from ..vault.keys import credential_record
from .jobs import FixedWindowLimiter, TestModelsJob, run_test_models, stored_job
from .plane import ControlPlane
from .provider_keys import KeyService, _check_fields
from .provider_routes import check_api_format, shown_format
from .rates_api import ModelRates, model_rate
from .views import Provider, ProviderKey, ProviderKeyTestResult, iso, provider_key

__all__ = ["Providers"]

_LISTINGS = 64  # cached discovery listings (kinds x types x which providers serve)


def _provider_view(row: ProviderRow) -> Provider:
    return Provider(
        id=row.id,
        name=row.name,
        display_name=row.display_name,
        base_url=row.base_url,
        region=row.region,
        enabled=row.enabled,
        api_format=shown_format(row.name, row.api_format),
        created_at=iso(row.created_at) or "",
        updated_at=iso(row.updated_at) or "",
        credentials=tuple(provider_key(credential_record(cred)) for cred in row.credentials),
        rates=tuple(model_rate(rate_record(rate)) for rate in row.rates),
    )


class Providers:
    """``gw.providers`` over a :class:`ControlPlane`."""

    def __init__(self, plane: ControlPlane, *, windows: WindowCounter | None = None) -> None:
        """Providers over ``plane``; ``test_models``' starts counted in ``windows``.

        ``windows`` defaults to the plane's database (shared by every process on it); the server
        passes Redis when it has one.
        """
        self._plane = plane
        self._keys = KeyService(plane)
        self.rates = ModelRates(plane)
        self._limiter = FixedWindowLimiter(windows or StoreWindows(plane.store))
        self._catalog_of: object = None  # the rates snapshot the cached catalog was read at
        self._cached_providers: dict[str, ProviderRecord] = {}
        self._cached_rates: builtins.list[RateRecord] = []
        self._listings: dict[tuple[str, str | None, frozenset[str]], builtins.list[dict[str, Any]]] = {}

    def __repr__(self) -> str:
        return f"Providers({self._plane.store!r})"

    # ------------------------------------------------------------------ providers

    def create(self, body: Mapping[str, Any]) -> Provider:
        """A new provider; ``name`` must be unique. A config may name it once it is created.

        A name the registry does not know becomes routable: ``{"provider": name}`` calls its
        ``baseUrl`` in its ``apiFormat`` (``openai`` by default) with its keys from the vault.
        """
        fields = parse_provider_body(body, partial=False)
        check_api_format(fields["name"], fields)
        check_host_url(fields.get("base_url"), "body.baseUrl", error=InvalidRequestError)
        with self._plane.store.changing() as session:
            view = _provider_view(create_provider(session, fields))
        self._plane.refresh()
        return view

    def list(self) -> builtins.list[Provider]:
        """Every provider with its credentials (masked) and rates."""
        self._plane.flush_usage()
        with self._plane.store.reading() as session:
            return [
                _provider_view(row) for row in session.scalars(select(ProviderRow).order_by(ProviderRow.name))
            ]

    def retrieve(self, provider: str) -> Provider:
        """One provider by id or name."""
        with self._plane.store.reading() as session:
            return _provider_view(find_provider(session, provider))

    def update(self, provider: str, body: Mapping[str, Any]) -> Provider:
        """Change a provider (``enabled: false`` takes its keys out of rotation)."""
        fields = parse_provider_body(body, partial=True)
        check_host_url(fields.get("base_url"), "body.baseUrl", error=InvalidRequestError)
        with self._plane.store.changing() as session:
            row = find_provider(session, provider)
            check_api_format(fields.get("name") or row.name, {"api_format": row.api_format, **fields})
            view = _provider_view(update_provider(session, row, fields))
        self._plane.refresh()
        return view

    def delete(self, provider: str) -> dict[str, Any]:
        """Delete a provider with all its credentials and rates (one transaction)."""
        with self._plane.store.changing() as session:
            row = find_provider(session, provider)
            provider_id = row.id
            delete_provider(session, row)
        self._plane.refresh()
        return {"id": provider_id, "deleted": True}

    # ------------------------------------------------------------------ credentials

    def _owned(self, provider: str, credential_id: str) -> str:
        with self._plane.store.reading() as session:
            owner = find_provider(session, provider)
            row = self._plane.vault.find(session, credential_id, path="credential_id")
            if row.provider_id != owner.id:
                raise ResourceNotFoundError(
                    f"credential_id: provider {owner.name!r} has no credential {credential_id!r}"
                )
            return row.id

    def create_credential(
        self, provider: str, body: Mapping[str, Any], *, validate: bool | None = None
    ) -> ProviderKey:
        """Add a credential (``name``, ``value``, ``credentialType``, ``weight``) to ``provider``."""
        body = _check_fields(body, "body")
        if "provider" in body:
            raise InvalidRequestError("the provider is given by the call, not the body", path="body.provider")
        with self._plane.store.reading() as session:
            name = find_provider(session, provider).name
        return self._keys.create(name, body, validate=validate, path="body")

    def update_credential(
        self, provider: str, credential_id: str, body: Mapping[str, Any], *, validate: bool | None = None
    ) -> ProviderKey:
        """Change a credential; a new secret is validated first."""
        body = _check_fields(body, "body")
        return self._keys.update(self._owned(provider, credential_id), body, validate=validate, path="body")

    def delete_credential(self, provider: str, credential_id: str) -> dict[str, Any]:
        """Remove a credential."""
        return self._keys.delete(self._owned(provider, credential_id))

    def check_credential(self, provider: str, credential_id: str) -> ProviderKeyTestResult:
        """Re-validate a credential now; a passing one is re-activated."""
        return self._keys.test(self._owned(provider, credential_id))

    # ------------------------------------------------------------------ billing, health, discovery

    def cost(self, provider: str, model: str, usage: UsageLike) -> UsageCost | None:
        """USD and credits of ``usage`` at the chat rate of ``model`` at ``provider`` (None: no rate)."""
        for rate in self.rates.records():
            if rate.provider == provider and rate.model == model and rate.type == "chatCompletion":
                return usage_cost(rate, usage)
        return None

    def health(self) -> dict[str, Any]:
        """Whether each credential of each provider is in rotation (from memory; no provider call)."""
        selector = self._plane.selector
        report: dict[str, dict[str, dict[str, bool]]] = {}
        for provider in sorted(self._provider_names()):
            report[provider] = {
                str(state["name"]): {"running": not state["disabled"]} for state in selector.status(provider)
            }
        return {"providers": report, "timestamp": iso(dt.datetime.now(dt.timezone.utc))}

    def _provider_names(self) -> set[str]:
        with self._plane.store.reading() as session:
            return set(session.scalars(select(ProviderRow.name)))

    def _catalog(self) -> tuple[dict[str, ProviderRecord], set[str]]:
        with self._plane.store.reading() as session:
            providers = {row.id: provider_record(row) for row in session.scalars(select(ProviderRow))}
        selector = self._plane.selector
        serving = {
            record.name
            for record in providers.values()
            if any(not state["disabled"] for state in selector.status(record.name))
        }
        return providers, serving

    def discovery(self, kind: str, type: str | None = None) -> builtins.list[dict[str, Any]]:
        """The cached ``models`` (``kind="models"``, by ``type``) or ``chat_models`` listing (read only).

        Served from memory while nothing it depends on moved: the rates snapshot (replaced on
        every change of providers, keys or rates, here or, within ``refresh_interval``, in another
        process) and which providers have a key in rotation. The same list object comes back
        while it is current, so a caller may cache what it derives from it (the REST route keeps
        the JSON bytes and their ETag).
        """
        book = self._plane.prices()  # refreshes from the store when another process changed it
        providers, serving = self._cached_catalog(book)
        key = (kind, type, frozenset(serving))
        found = self._listings.get(key)
        if found is None:
            rates = self._cached_rates
            found = (
                litellm_models(rates, providers, serving, type=type)
                if kind == "models"
                else chat_models(rates, providers, serving)
            )
            if len(self._listings) >= _LISTINGS:
                self._listings.clear()
            self._listings[key] = found
        return found

    def cached_discovery(self, kind: str, type: str | None = None) -> builtins.list[dict[str, Any]] | None:
        """:meth:`discovery` when its answer is already in memory (no database read), else None.

        For an event loop: it may answer from here and hand only a miss to a worker thread.
        """
        if self._catalog_of is None or self._plane.prices() is not self._catalog_of:
            return None
        _, serving = self._cached_catalog(self._catalog_of)
        return self._listings.get((kind, type, frozenset(serving)))

    def _cached_catalog(self, book: object) -> tuple[dict[str, ProviderRecord], set[str]]:
        if self._catalog_of is not book:
            providers, _ = self._catalog()
            self._cached_providers, self._cached_rates = providers, self.rates.records()
            self._listings = {}
            self._catalog_of = book
        selector = self._plane.selector
        serving = {
            record.name
            for record in self._cached_providers.values()
            if any(not state["disabled"] for state in selector.status(record.name))
        }
        return self._cached_providers, serving

    def models(self, *, type: str | None = None) -> builtins.list[dict[str, Any]]:
        """Rated models of enabled providers in LiteLLM format (``type``: chat, embedding, ...)."""
        return copy.deepcopy(self.discovery("models", type))

    def chat_models(self) -> builtins.list[dict[str, Any]]:
        """Chat models grouped by model name, with the providers serving each."""
        return copy.deepcopy(self.discovery("chat"))

    def test_models(self, *, user: str = "default") -> TestModelsJob:
        """Start checking every rated model in the background (5 runs per 10 minutes per user)."""
        self._limiter.acquire(user)
        return run_test_models(self._plane, self.rates.records(), user)

    def test_models_job(self, job_id: str) -> TestModelsJob:
        """A ``test_models`` job by id (started here or by another process on the same store).

        ``status`` is ``running``, ``done`` or ``failed``; ``results`` are filled once it ended.
        """
        return stored_job(self._plane, job_id)

    # ------------------------------------------------------------------ master key

    def rewrap(self) -> int:
        """After a master-key rotation: re-wrap every stored key under the new key; how many."""
        return self._plane.rewrap()
