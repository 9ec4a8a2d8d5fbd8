"""``client.providers``: providers, credentials, model rates over HTTP (``/api/ai-providers``).

The same methods, arguments, return types and exceptions as ``Gateway().providers``
(:class:`~strands_portkey.controlplane.providers_api.Providers`), over the AI Providers API of
seed 002. Its JSON is the seed's camelCase, read back into the same dataclasses by the one codec
both faces use (:mod:`~strands_portkey.controlplane.provider_json`).

Not offered over HTTP (they act on the server's own files or keys): ``cost``, ``rewrap``,
``rates.import_litellm``, ``rates.records`` and ``rates.price_book``. ``test_models`` starts the
job on the server (as the caller's user) and returns its state at the start: its results stay on
the server (they show in ``health()`` as keys leave or rejoin the rotation).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ..controlplane import provider_json
from ..controlplane.jobs import TestModelsJob
from ..controlplane.rates_api import ModelRate
from ..controlplane.views import Provider, ProviderKey, ProviderKeyTestResult, SyncPaginator
from ..errors import InvalidRequestError, MalformedResponseError
from .http import RemoteHTTP, segment
from .paging import AsyncPaginator, page_items
from .portal import Portal

__all__ = ["AsyncModelRates", "AsyncProviders", "ModelRates", "Providers"]

T = TypeVar("T")
BASE = "/api/ai-providers"
_MAX_PAGE = 1000


def _decoded(decode: Callable[[Mapping[str, Any]], T], answer: Any) -> T:
    """``decode(answer)``; an answer without the fields it needs is a :class:`MalformedResponseError`."""
    try:
        return decode(_object(answer))
    except (KeyError, TypeError, ValueError, ArithmeticError) as error:
        raise MalformedResponseError(f"the server's answer is not what was expected ({error!r})") from None


def provider_from_json(answer: Any) -> Provider:
    """A :class:`Provider` from the server's JSON."""
    return _decoded(provider_json.provider_from_json, answer)


def credential_from_json(answer: Any) -> ProviderKey:
    """A :class:`ProviderKey` from the server's JSON."""
    return _decoded(provider_json.credential_from_json, answer)


def rate_from_json(answer: Any) -> ModelRate:
    """A :class:`ModelRate` from the server's JSON."""
    return _decoded(provider_json.rate_from_json, answer)


def check_from_json(answer: Any) -> ProviderKeyTestResult:
    """A :class:`ProviderKeyTestResult` from the server's JSON."""
    return _decoded(provider_json.check_from_json, answer)


def _object(answer: Any) -> Mapping[str, Any]:
    if not isinstance(answer, dict):
        raise MalformedResponseError("expected a JSON object from the server")
    return answer


def _credential_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """``gw.providers``' credential body as the API reads it.

    ``is_active`` is ``active`` there, and a secret given in separate fields (``api_key``, or
    ``access_key_id`` / ``secret_access_key`` / ``session_token``) is its ``value``.
    """
    if not isinstance(body, Mapping):
        raise InvalidRequestError(f"expected an object, got {type(body).__name__}", path="body")
    out = dict(body)
    if "is_active" in out:
        out["active"] = out.pop("is_active")
    pair = {
        name: out.pop(name) for name in ("access_key_id", "secret_access_key", "session_token") if name in out
    }
    if "api_key" in out and "value" not in out:
        out["value"] = out.pop("api_key")
    if pair and "value" not in out:
        out["value"] = pair
    return out


def _validate(validate: bool | None) -> dict[str, Any]:
    return {} if validate is None else {"validate": validate}


def _check_limit(limit: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= _MAX_PAGE:
        raise InvalidRequestError(f"expected a page size from 1 to {_MAX_PAGE}", path="limit")


class AsyncModelRates:
    """``client.providers.rates`` (async), as :class:`~strands_portkey.controlplane.rates_api.ModelRates`."""

    def __init__(self, http: RemoteHTTP) -> None:
        self._http = http

    def __repr__(self) -> str:
        return "AsyncModelRates()"

    def list(
        self,
        *,
        provider: str | None = None,
        model: str | None = None,
        type: str | None = None,
        search: str | None = None,
        limit: int = 50,
    ) -> AsyncPaginator[ModelRate]:
        """Rates by provider, model and type; ``limit`` per page, fetched lazily."""
        _check_limit(limit)

        async def fetch(offset: int, size: int) -> builtins.list[ModelRate]:
            rates, _ = await self.page(
                provider=provider, model=model, type=type, search=search, limit=size, offset=offset
            )
            return rates

        return AsyncPaginator(fetch, limit)

    async def page(
        self,
        *,
        provider: str | None = None,
        model: str | None = None,
        type: str | None = None,
        search: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[builtins.list[ModelRate], int]:
        """One page of rates and how many match in all."""
        _check_limit(limit)
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidRequestError("expected a whole number >= 0", path="offset")
        params = {"providerId": provider, "model": model, "type": type, "search": search}
        answer = await self._http.call(
            "GET", f"{BASE}/model-rates", params={**params, "limit": limit, "offset": offset}
        )
        total = _object(answer).get("total")
        if not isinstance(total, int):
            raise MalformedResponseError("expected the listing's 'total' from the server")
        return [rate_from_json(item) for item in page_items(answer)], total

    async def create(self, body: Mapping[str, Any]) -> builtins.list[ModelRate]:
        """The same rate for every provider in ``body["providers"]`` (ids or names), all or none."""
        answer = await self._http.call("POST", f"{BASE}/model-rates", json=dict(body))
        return [rate_from_json(item) for item in page_items(answer)]

    async def retrieve(self, rate_id: str) -> ModelRate:
        """One rate by id."""
        return rate_from_json(await self._http.get(f"{BASE}/model-rates/{segment(rate_id)}"))

    async def update(self, provider: str, rate_id: str, body: Mapping[str, Any]) -> ModelRate:
        """Change a rate's amounts, unit costs, metadata or description."""
        path = f"{BASE}/{segment(provider)}/model-rates/{segment(rate_id)}"
        return rate_from_json(await self._http.call("PUT", path, json=dict(body)))

    async def delete(self, provider: str, rate_id: str) -> dict[str, Any]:
        """Delete a rate."""
        path = f"{BASE}/{segment(provider)}/model-rates/{segment(rate_id)}"
        return dict(_object(await self._http.call("DELETE", path)))

    async def bulk_update(self, *, profit_margin: Any, credit_price: Any) -> dict[str, Any]:
        """Re-price every rate with unit costs (``profitMargin`` %, ``creditPrice`` USD/credit)."""
        body = {"profitMargin": profit_margin, "creditPrice": credit_price}
        return dict(_object(await self._http.call("POST", f"{BASE}/bulk-rate-update", json=body)))


class AsyncProviders:
    """The async face; every method mirrors :class:`~strands_portkey.controlplane.providers_api.Providers`."""

    def __init__(self, http: RemoteHTTP) -> None:
        self._http = http
        self.rates = AsyncModelRates(http)

    def __repr__(self) -> str:
        return f"AsyncProviders({self._http.base_url!r})"

    async def create(self, body: Mapping[str, Any]) -> Provider:
        """A new provider; ``name`` must be unique."""
        return provider_from_json(await self._http.call("POST", BASE, json=dict(body)))

    async def list(self) -> builtins.list[Provider]:
        """Every provider with its credentials (masked) and rates."""
        found: builtins.list[Provider] = []
        while True:
            answer = await self._http.get(BASE, limit=_MAX_PAGE, offset=len(found))
            page = page_items(answer)
            found.extend(provider_from_json(item) for item in page)
            if len(page) < _MAX_PAGE:
                return found

    async def retrieve(self, provider: str) -> Provider:
        """One provider by id or name."""
        return provider_from_json(await self._http.get(f"{BASE}/{segment(provider)}"))

    async def update(self, provider: str, body: Mapping[str, Any]) -> Provider:
        """Change a provider (``enabled: false`` takes its keys out of rotation)."""
        answer = await self._http.call("PUT", f"{BASE}/{segment(provider)}", json=dict(body))
        return provider_from_json(answer)

    async def delete(self, provider: str) -> dict[str, Any]:
        """Delete a provider with all its credentials and rates."""
        return dict(_object(await self._http.call("DELETE", f"{BASE}/{segment(provider)}")))

    async def create_credential(
        self, provider: str, body: Mapping[str, Any], *, validate: bool | None = None
    ) -> ProviderKey:
        """Add a credential (``name``, ``value``, ``credentialType``, ``weight``) to ``provider``."""
        path = f"{BASE}/{segment(provider)}/credentials"
        answer = await self._http.call("POST", path, params=_validate(validate), json=_credential_body(body))
        return credential_from_json(answer)

    async def update_credential(
        self, provider: str, credential_id: str, body: Mapping[str, Any], *, validate: bool | None = None
    ) -> ProviderKey:
        """Change a credential; a new secret is validated first."""
        path = f"{BASE}/{segment(provider)}/credentials/{segment(credential_id)}"
        answer = await self._http.call("PUT", path, params=_validate(validate), json=_credential_body(body))
        return credential_from_json(answer)

    async def delete_credential(self, provider: str, credential_id: str) -> dict[str, Any]:
        """Remove a credential."""
        path = f"{BASE}/{segment(provider)}/credentials/{segment(credential_id)}"
        return dict(_object(await self._http.call("DELETE", path)))

    async def check_credential(self, provider: str, credential_id: str) -> ProviderKeyTestResult:
        """Re-validate a credential now; a passing one is re-activated."""
        path = f"{BASE}/{segment(provider)}/credentials/{segment(credential_id)}/check"
        return check_from_json(await self._http.get(path))

    async def health(self) -> dict[str, Any]:
        """Whether each credential of each provider is in rotation."""
        return dict(_object(await self._http.get(f"{BASE}/health")))

    async def models(self, *, type: str | None = None) -> builtins.list[dict[str, Any]]:
        """Rated models of enabled providers in LiteLLM format (``type``: chat, embedding, ...)."""
        return _listing(await self._http.get(f"{BASE}/models", type=type))

    async def chat_models(self) -> builtins.list[dict[str, Any]]:
        """Chat models grouped by model name, with the providers serving each."""
        return _listing(await self._http.get(f"{BASE}/chat/models"))

    async def test_models(self, *, user: str = "default") -> TestModelsJob:
        """Start the server's check of every rated model, as the caller's user (5 per 10 minutes).

        ``user`` is the in-process face's; the server counts the caller's own user instead.
        """
        answer = _object(await self._http.get(f"{BASE}/test-models"))
        job = TestModelsJob(id=str(answer.get("jobId")), user=str(answer.get("user") or user))
        job.status = str(answer.get("status") or "running")
        job._done.set()  # nothing to wait for here: the work and its results stay on the server
        return job


def _listing(answer: Any) -> builtins.list[dict[str, Any]]:
    if not isinstance(answer, list) or not all(isinstance(item, dict) for item in answer):
        raise MalformedResponseError("expected a JSON array of models from the server")
    return answer


class ModelRates:
    """``client.providers.rates`` (blocking): each method runs :class:`AsyncModelRates`' on the portal."""

    def __init__(self, inner: AsyncModelRates, portal: Portal) -> None:
        self._inner = inner
        self._portal = portal

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
        """See :meth:`AsyncModelRates.list`."""
        paginator = self._inner.list(provider=provider, model=model, type=type, search=search, limit=limit)
        return paginator.blocking(self._portal)

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
        """See :meth:`AsyncModelRates.page`."""
        return self._portal.run(
            self._inner.page(
                provider=provider, model=model, type=type, search=search, limit=limit, offset=offset
            )
        )

    def create(self, body: Mapping[str, Any]) -> builtins.list[ModelRate]:
        """See :meth:`AsyncModelRates.create`."""
        return self._portal.run(self._inner.create(body))

    def retrieve(self, rate_id: str) -> ModelRate:
        """See :meth:`AsyncModelRates.retrieve`."""
        return self._portal.run(self._inner.retrieve(rate_id))

    def update(self, provider: str, rate_id: str, body: Mapping[str, Any]) -> ModelRate:
        """See :meth:`AsyncModelRates.update`."""
        return self._portal.run(self._inner.update(provider, rate_id, body))

    def delete(self, provider: str, rate_id: str) -> dict[str, Any]:
        """See :meth:`AsyncModelRates.delete`."""
        return self._portal.run(self._inner.delete(provider, rate_id))

    def bulk_update(self, *, profit_margin: Any, credit_price: Any) -> dict[str, Any]:
        """See :meth:`AsyncModelRates.bulk_update`."""
        return self._portal.run(
            self._inner.bulk_update(profit_margin=profit_margin, credit_price=credit_price)
        )


class Providers:
    """The blocking face: each method runs :class:`AsyncProviders`' on the client's portal."""

    def __init__(self, inner: AsyncProviders, portal: Portal) -> None:
        self._inner = inner
        self._portal = portal
        self.rates = ModelRates(inner.rates, portal)

    def __repr__(self) -> str:
        return f"Providers({self._inner._http.base_url!r})"

    def create(self, body: Mapping[str, Any]) -> Provider:
        """See :meth:`AsyncProviders.create`."""
        return self._portal.run(self._inner.create(body))

    def list(self) -> builtins.list[Provider]:
        """See :meth:`AsyncProviders.list`."""
        return self._portal.run(self._inner.list())

    def retrieve(self, provider: str) -> Provider:
        """See :meth:`AsyncProviders.retrieve`."""
        return self._portal.run(self._inner.retrieve(provider))

    def update(self, provider: str, body: Mapping[str, Any]) -> Provider:
        """See :meth:`AsyncProviders.update`."""
        return self._portal.run(self._inner.update(provider, body))

    def delete(self, provider: str) -> dict[str, Any]:
        """See :meth:`AsyncProviders.delete`."""
        return self._portal.run(self._inner.delete(provider))

    def create_credential(
        self, provider: str, body: Mapping[str, Any], *, validate: bool | None = None
    ) -> ProviderKey:
        """See :meth:`AsyncProviders.create_credential`."""
        return self._portal.run(self._inner.create_credential(provider, body, validate=validate))

    def update_credential(
        self, provider: str, credential_id: str, body: Mapping[str, Any], *, validate: bool | None = None
    ) -> ProviderKey:
        """See :meth:`AsyncProviders.update_credential`."""
        return self._portal.run(
            self._inner.update_credential(provider, credential_id, body, validate=validate)
        )

    def delete_credential(self, provider: str, credential_id: str) -> dict[str, Any]:
        """See :meth:`AsyncProviders.delete_credential`."""
        return self._portal.run(self._inner.delete_credential(provider, credential_id))

    def check_credential(self, provider: str, credential_id: str) -> ProviderKeyTestResult:
        """See :meth:`AsyncProviders.check_credential`."""
        return self._portal.run(self._inner.check_credential(provider, credential_id))

    def health(self) -> dict[str, Any]:
        """See :meth:`AsyncProviders.health`."""
        return self._portal.run(self._inner.health())

    def models(self, *, type: str | None = None) -> builtins.list[dict[str, Any]]:
        """See :meth:`AsyncProviders.models`."""
        return self._portal.run(self._inner.models(type=type))

    def chat_models(self) -> builtins.list[dict[str, Any]]:
        """See :meth:`AsyncProviders.chat_models`."""
        return self._portal.run(self._inner.chat_models())

    def test_models(self, *, user: str = "default") -> TestModelsJob:
        """See :meth:`AsyncProviders.test_models`."""
        return self._portal.run(self._inner.test_models(user=user))
