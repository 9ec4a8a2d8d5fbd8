"""``client.providers``: providers, credentials, model rates over HTTP (``/api/ai-providers``).

The same methods, arguments, return types and exceptions as ``Gateway().providers``
(:class:`~strands_portkey.controlplane.providers_api.Providers`), over the AI Providers API of
seed 002. Its JSON is the seed's camelCase, read back into the same dataclasses by the one codec
both faces use (:mod:`~strands_portkey.controlplane.provider_json`).

Not offered over HTTP (they act on the server's own files or keys): ``cost``, ``rewrap``,
``rates.import_litellm``, ``rates.records`` and ``rates.price_book``. ``test_models`` starts the
job on the server (as the caller's user); the blocking client's job ``wait()`` asks the server
until it ended, and ``test_models_job(job_id)`` reads it on both faces.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Mapping
from typing import Any

from ..controlplane.jobs import TestModelsJob
from ..controlplane.views import Provider, ProviderKey, ProviderKeyTestResult
from ..errors import MalformedResponseError
from .http import RemoteHTTP, segment
from .paging import page_items
from .portal import Portal
from .provider_codec import (
    BASE,
    MAX_PAGE,
    check_from_json,
    credential_body,
    credential_from_json,
    object_of,
    provider_from_json,
    validate_query,
)
from .provider_rates import AsyncModelRates, ModelRates

__all__ = ["AsyncModelRates", "AsyncProviders", "ModelRates", "Providers", "RemoteTestModelsJob"]

_POLL_S = 0.5


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
            answer = await self._http.get(BASE, limit=MAX_PAGE, offset=len(found))
            page = page_items(answer)
            found.extend(provider_from_json(item) for item in page)
            if len(page) < MAX_PAGE:
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
        return dict(object_of(await self._http.call("DELETE", f"{BASE}/{segment(provider)}")))

    async def create_credential(
        self, provider: str, body: Mapping[str, Any], *, validate: bool | None = None
    ) -> ProviderKey:
        """Add a credential (``name``, ``value``, ``credentialType``, ``weight``) to ``provider``."""
        path = f"{BASE}/{segment(provider)}/credentials"
        answer = await self._http.call(
            "POST", path, params=validate_query(validate), json=credential_body(body)
        )
        return credential_from_json(answer)

    async def update_credential(
        self, provider: str, credential_id: str, body: Mapping[str, Any], *, validate: bool | None = None
    ) -> ProviderKey:
        """Change a credential; a new secret is validated first."""
        path = f"{BASE}/{segment(provider)}/credentials/{segment(credential_id)}"
        answer = await self._http.call(
            "PUT", path, params=validate_query(validate), json=credential_body(body)
        )
        return credential_from_json(answer)

    async def delete_credential(self, provider: str, credential_id: str) -> dict[str, Any]:
        """Remove a credential."""
        path = f"{BASE}/{segment(provider)}/credentials/{segment(credential_id)}"
        return dict(object_of(await self._http.call("DELETE", path)))

    async def check_credential(self, provider: str, credential_id: str) -> ProviderKeyTestResult:
        """Re-validate a credential now; a passing one is re-activated."""
        path = f"{BASE}/{segment(provider)}/credentials/{segment(credential_id)}/check"
        return check_from_json(await self._http.get(path))

    async def health(self) -> dict[str, Any]:
        """Whether each credential of each provider is in rotation."""
        return dict(object_of(await self._http.get(f"{BASE}/health")))

    async def models(self, *, type: str | None = None) -> builtins.list[dict[str, Any]]:
        """Rated models of enabled providers in LiteLLM format (``type``: chat, embedding, ...)."""
        return _listing(await self._http.get(f"{BASE}/models", type=type))

    async def chat_models(self) -> builtins.list[dict[str, Any]]:
        """Chat models grouped by model name, with the providers serving each."""
        return _listing(await self._http.get(f"{BASE}/chat/models"))

    async def test_models(self, *, user: str = "default") -> TestModelsJob:
        """Start the server's check of every rated model, as the caller's user (5 per 10 minutes).

        ``user`` is the in-process face's; the server counts the caller's own user instead. The
        job runs on the server: follow it with :meth:`test_models_job` (its ``wait()`` here
        returns the results known so far at once).
        """
        return _job(await self._http.get(f"{BASE}/test-models"), user)

    async def test_models_job(self, job_id: str) -> TestModelsJob:
        """A started job's state and, once it ended, its results."""
        return _job(await self._http.get(f"{BASE}/test-models/{segment(job_id)}"))


class RemoteTestModelsJob(TestModelsJob):
    """A ``test_models`` job running on the server; ``wait()`` asks the server until it ended."""

    _poll: Callable[[], TestModelsJob] | None = None

    def _update(self, latest: TestModelsJob) -> None:
        self.status, self.results, self.error = latest.status, list(latest.results), latest.error
        if latest.status != "running":
            self._done.set()

    def wait(self, timeout: float | None = None) -> builtins.list[dict[str, Any]]:
        """Ask the server every half second until the job ends (or ``timeout`` s); the results so far."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._poll is not None and not self._done.is_set():
            self._update(self._poll())
            if self._done.is_set() or (deadline is not None and time.monotonic() >= deadline):
                break
            time.sleep(_POLL_S)
        return list(self.results)

    @property
    def done(self) -> bool:
        """Whether the job has ended (one question to the server while it runs)."""
        if not self._done.is_set() and self._poll is not None:
            self._update(self._poll())
        return self._done.is_set()


def _job(answer: Any, user: str = "default") -> RemoteTestModelsJob:
    data = object_of(answer)
    job_id = data.get("jobId")
    if not isinstance(job_id, str):
        raise MalformedResponseError("expected a job with a 'jobId' from the server")
    job = RemoteTestModelsJob(id=job_id, user=str(data.get("user") or user))
    results = data.get("results")
    job._update(
        TestModelsJob(
            id=job_id,
            user=job.user,
            status=str(data.get("status") or "running"),
            results=list(results) if isinstance(results, list) else [],
            error=data.get("error") if isinstance(data.get("error"), str) else None,
        )
    )
    return job


def _listing(answer: Any) -> builtins.list[dict[str, Any]]:
    if not isinstance(answer, list) or not all(isinstance(item, dict) for item in answer):
        raise MalformedResponseError("expected a JSON array of models from the server")
    return answer


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
        """See :meth:`AsyncProviders.test_models`; here ``wait()`` follows the job on the server."""
        job = self._portal.run(self._inner.test_models(user=user))
        if isinstance(job, RemoteTestModelsJob):
            job._poll = lambda: self.test_models_job(job.id)
        return job

    def test_models_job(self, job_id: str) -> TestModelsJob:
        """See :meth:`AsyncProviders.test_models_job`."""
        return self._portal.run(self._inner.test_models_job(job_id))
