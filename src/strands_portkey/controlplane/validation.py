"""Checking a credential against its provider with a cheap, non-billed call: listing models.

OpenAI-compatible hosts (every provider of the registry's OpenAI-compatible table, and any
``baseUrl``) answer ``GET {base}/models`` with a bearer key. Providers with another scheme have a
row in :data:`PROBES` (Bedrock: ``GET /foundation-models`` in the provider's region, SigV4-signed
with the stored key pair). A provider without a probe cannot be validated: save its keys with
``validate=False`` (offline use) and they are tested by their first real request instead.

The control plane's API is synchronous (as the spec's SDK); :func:`run_sync` runs a coroutine to
completion from sync code, also when the caller is itself inside a running event loop.
"""

from __future__ import annotations

import asyncio
import html
import json
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from ..errors import GatewayError, InvalidRequestError, scrub
from ..providers import host_spec
from ..store.tables import utcnow
from ..transport import AsyncHTTPTransport, Transport, TransportSettings
from ..vault.fields import CredentialSecret
from ..vault.keys import TestOutcome
from ..wire import HttpRequest, decode_json

__all__ = [
    "PROBES",
    "ModelListing",
    "list_models",
    "probe_request",
    "run_sync",
    "secret_forms",
    "validate_credential",
]

T = TypeVar("T")
_VALIDATION_TIMEOUT_S = 20.0
_SNIPPET = 160


def _bearer(base: str, credential: CredentialSecret, region: str | None = None) -> HttpRequest:
    key = credential.api_key
    if key is None:
        raise InvalidRequestError(
            f"an OpenAI-compatible provider takes an api_key credential, not {credential.credential_type!r}",
            path="body.credential_type",
        )
    return HttpRequest(
        "GET", f"{base}/models", {"authorization": f"Bearer {key.reveal()}"}, secrets=(key.reveal(),)
    )


def _anthropic(base: str, credential: CredentialSecret, region: str | None = None) -> HttpRequest:
    key = credential.api_key
    if key is None:
        raise InvalidRequestError("anthropic takes an api_key credential", path="body.credential_type")
    headers = {"x-api-key": key.reveal(), "anthropic-version": "2023-06-01"}
    return HttpRequest("GET", f"{base}/models", headers, secrets=(key.reveal(),))


def _gemini(base: str, credential: CredentialSecret, region: str | None = None) -> HttpRequest:
    key = credential.api_key
    if key is None:
        raise InvalidRequestError("google takes an api_key credential", path="body.credential_type")
    return HttpRequest("GET", f"{base}/models", {"x-goog-api-key": key.reveal()}, secrets=(key.reveal(),))


def _portkey(base: str, credential: CredentialSecret, region: str | None = None) -> HttpRequest:
    key = credential.api_key
    if key is None:
        raise InvalidRequestError("portkey takes an api_key credential", path="body.credential_type")
    return HttpRequest("GET", f"{base}/models", {"x-portkey-api-key": key.reveal()}, secrets=(key.reveal(),))


def _bedrock(base: str, credential: CredentialSecret, region: str | None = None) -> HttpRequest:
    """``GET /foundation-models`` on Bedrock's control endpoint in ``region``, SigV4-signed."""
    from ..providers.base import Target
    from ..providers.bedrock import sign_request

    if credential.credential_type != "access_key_pair":
        raise InvalidRequestError(
            "bedrock keys are validated as an access key pair (access_key_id + secret_access_key); "
            "pass validate=False to save another kind without checking it",
            path="body.credential_type",
        )
    if not region:
        raise InvalidRequestError(
            "validating a bedrock key needs the provider's region: set 'region' on the provider "
            "(e.g. 'us-east-1'), or pass validate=False",
            path="provider.region",
        )
    secret = credential.secrets["secret_access_key"]
    options: dict[str, object] = {
        "aws_access_key_id": credential.identifiers.get("access_key_id"),
        "aws_secret_access_key": secret,
        "aws_region": region,
    }
    secrets = [secret.reveal()]
    if "session_token" in credential.secrets:
        options["aws_session_token"] = credential.secrets["session_token"]
        secrets.append(credential.secrets["session_token"].reveal())
    url = base or f"https://bedrock.{region}.amazonaws.com"
    unsigned = HttpRequest("GET", f"{url}/foundation-models", {"accept": "application/json"})
    headers = sign_request(unsigned, Target(provider="bedrock", base_url=url, options=options))
    return HttpRequest("GET", unsigned.url, headers, secrets=tuple(secrets))


@dataclass(frozen=True, slots=True)
class Probe:
    """How to list a provider's models: default base URL and the request builder."""

    base_url: str
    build: Callable[[str, CredentialSecret, str | None], HttpRequest]


PROBES: Mapping[str, Probe] = {
    "anthropic": Probe("https://api.anthropic.com/v1", _anthropic),
    "google": Probe("https://generativelanguage.googleapis.com/v1beta", _gemini),
    "gemini": Probe("https://generativelanguage.googleapis.com/v1beta", _gemini),
    "portkey": Probe("https://api.portkey.ai/v1", _portkey),
    "bedrock": Probe("", _bedrock),
}
"""Providers whose model listing is not OpenAI's ``GET /models`` with a bearer key. One row each."""


def probe_request(
    provider: str,
    base_url: str | None,
    credential: CredentialSecret,
    region: str | None = None,
    api_format: str | None = None,
) -> HttpRequest:
    """The model-listing request for ``provider`` (``base_url`` overrides the default).

    ``api_format``: how a provider registered under a name the registry does not know is spoken
    to (``anthropic`` lists Anthropic's way at its ``base_url``); by default, by its name.
    """
    provider = api_format or provider
    probe = PROBES.get(provider)
    if probe is not None:
        probe_base = "" if provider == "bedrock" else (base_url or probe.base_url)  # Bedrock: by region
        return probe.build(probe_base.rstrip("/"), credential, region)
    spec = host_spec(provider)
    base = base_url or (spec.base_url if spec is not None else None)
    if not base:
        raise InvalidRequestError(
            f"cannot validate keys of provider {provider!r}: no model-listing probe is known and no "
            "baseUrl is set; pass validate=False to save the key without checking it",
            path="provider",
        )
    return _bearer(base.rstrip("/"), credential)


def secret_forms(values: Iterable[str]) -> list[str]:
    """Each secret as a provider may echo it: raw, URL-encoded (both ways), JSON- and HTML-escaped.

    Longest first, so a form that contains another is replaced whole.
    """
    forms: set[str] = set()
    for value in values:
        if not value:
            continue
        escaped = json.dumps(value)[1:-1]
        forms.update(
            (
                value,
                urllib.parse.quote(value, safe=""),
                urllib.parse.quote_plus(value, safe=""),
                escaped,
                escaped.replace("/", "\\/"),  # JSON encoders that escape '/'
                json.dumps(value, ensure_ascii=False)[1:-1],
                html.escape(value),
            )
        )
    return sorted(forms, key=len, reverse=True)


def _clean(text: str, request: HttpRequest, credential: CredentialSecret, limit: int | None = None) -> str:
    """``text`` with every secret of the credential masked, then cut to ``limit`` characters.

    Masking comes first: a cut made before it could split a secret, leaving a long piece of it
    that no longer matches and so stays in clear.
    """
    values = [*request.secrets, *(secret.reveal() for secret in credential.secrets.values())]
    cleaned = scrub(text, secret_forms(values))
    return cleaned if limit is None else cleaned[:limit]


@dataclass(frozen=True, slots=True)
class ModelListing:
    """What a model-listing call found: the outcome and the model ids listed."""

    outcome: TestOutcome
    model_ids: frozenset[str]


def _model_ids(content: bytes) -> frozenset[str]:
    try:
        payload = decode_json(content)
    except ValueError:  # also a hostile body nested too deep (JSONTooDeepError)
        return frozenset()
    items = (
        payload.get("data") or payload.get("models") or payload.get("modelSummaries") or []
        if isinstance(payload, dict)
        else []
    )
    ids = set()
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            name = item.get("id") or item.get("name") or item.get("modelId")
            if isinstance(name, str):
                ids.add(name.removeprefix("models/"))
    return frozenset(ids)


async def list_models(
    provider: str,
    base_url: str | None,
    credential: CredentialSecret,
    *,
    transport: AsyncHTTPTransport | None = None,
    settings: TransportSettings | None = None,
    region: str | None = None,
    api_format: str | None = None,
) -> ModelListing:
    """List ``provider``'s models with ``credential`` (one fresh connection, closed after)."""
    request = probe_request(provider, base_url, credential, region, api_format)
    client = Transport(transport, settings)
    try:
        response = await client.send(request, timeout=_VALIDATION_TIMEOUT_S)
    except GatewayError as error:
        message = _clean(error.message, request, credential)
        return ModelListing(
            TestOutcome(False, f"could not reach {provider}: {message}", utcnow()), frozenset()
        )
    finally:
        await client.aclose()
    status = response.status_code
    if 200 <= status < 300:
        ids = _model_ids(response.content)
        return ModelListing(
            TestOutcome(True, f"{provider} accepted the key ({len(ids)} models listed)", utcnow()), ids
        )
    snippet = _clean(response.content.decode("utf-8", "replace"), request, credential, _SNIPPET).strip()
    refused = status in (401, 403)
    verdict = "refused the key" if refused else "answered with an error"
    message = (
        f"{provider} {verdict} (HTTP {status}): {snippet}"
        if snippet
        else f"{provider} {verdict} (HTTP {status})"
    )
    return ModelListing(TestOutcome(False, message, utcnow(), auth_failed=refused), frozenset())


async def validate_credential(
    provider: str,
    base_url: str | None,
    credential: CredentialSecret,
    *,
    transport: AsyncHTTPTransport | None = None,
    settings: TransportSettings | None = None,
    region: str | None = None,
    api_format: str | None = None,
) -> TestOutcome:
    """Whether ``provider`` accepts ``credential`` (by listing models; nothing is billed)."""
    listing = await list_models(
        provider,
        base_url,
        credential,
        transport=transport,
        settings=settings,
        region=region,
        api_format=api_format,
    )
    return listing.outcome


def run_sync(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine from sync code; inside a running loop, on a worker thread with its own loop."""

    async def main() -> T:
        return await factory()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="strands-portkey-sync") as pool:
        return pool.submit(asyncio.run, main()).result()
