"""Azure OpenAI: the OpenAI wire format at deployment URLs, with ``api-version`` and Azure auth.

Addressing, resolved once when the gateway is built (:meth:`AzureOpenAIAdapter.prepare_target`):

* ``azure_resource_name`` + ``azure_deployment_id`` ->
  ``https://<resource>.openai.azure.com/openai/deployments/<deployment>/chat/completions
  ?api-version=<azure_api_version>`` (default :data:`DEFAULT_API_VERSION`);
* ``azure_resource_name`` without a deployment -> the v1 API,
  ``https://<resource>.openai.azure.com/openai/v1/chat/completions`` (the model is in the body);
* ``custom_host`` replaces the URL up to ``/chat/completions`` (``api-version`` still added when set).

Credentials: ``api_key`` (or ``AZURE_OPENAI_API_KEY``) is sent as the ``api-key`` header; a
Microsoft Entra ID token, ``azure_ad_token`` (or ``AZURE_OPENAI_AD_TOKEN``), is sent as a bearer
token and wins when both are given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from ..embeddings import EmbeddingRequest
from ..errors import ConfigurationError
from ..types import ChatRequest
from ..wire import HttpRequest, Secret
from ._embeddings import openai_embedding_body
from ._headers import content_headers, merge_headers, secret_header_values
from .base import Target
from .openai_compat import HostSpec, OpenAICompatAdapter

__all__ = ["AZURE_HOST", "DEFAULT_API_VERSION", "AzureOpenAIAdapter"]

AZURE_HOST = HostSpec("azure-openai", "", "AZURE_OPENAI_API_KEY", False, ("azure",))
"""Registry row: no fixed URL (it follows the resource and deployment)."""

DEFAULT_API_VERSION = "2024-10-21"
"""The latest generally available data-plane version when this adapter was written."""

_BEARER = "bearer"


class AzureOpenAIAdapter(OpenAICompatAdapter):
    """Azure OpenAI chat completions (see the module doc for URLs and credentials)."""

    __slots__ = ()

    def __init__(self, name: str = AZURE_HOST.name) -> None:
        super().__init__(name, "")

    def prepare_target(self, target: Target, env: Mapping[str, str]) -> Target:
        """Build the deployment URL and pick the credential once; refuse an unusable target."""
        options: dict[str, Any] = dict(target.options)
        base_url = target.base_url or _resource_url(options)
        version = options.get("azure_api_version") or (
            DEFAULT_API_VERSION if options.get("azure_deployment_id") else None
        )
        if version is not None:
            options["azure_api_version"] = str(version)
        token = options.get("azure_ad_token") or _secret(env.get("AZURE_OPENAI_AD_TOKEN"))
        if token:
            options["azure_auth"] = _BEARER
            return replace(target, base_url=base_url, api_key=_secret(token), options=options)
        if options.get("azure_auth_mode") in ("entra", "managed"):
            raise ConfigurationError(
                f"azure_auth_mode {options['azure_auth_mode']!r} needs a Microsoft Entra ID token: set "
                "'azure_ad_token' (or AZURE_OPENAI_AD_TOKEN); this gateway does not fetch tokens itself",
                path="azure_ad_token",
            )
        if not target.api_key:
            raise ConfigurationError(
                "no credential for Azure OpenAI: set 'api_key' (or AZURE_OPENAI_API_KEY), or an Entra ID "
                "token as 'azure_ad_token' (or AZURE_OPENAI_AD_TOKEN)",
                path="api_key",
            )
        return replace(target, base_url=base_url, options=options)

    def build_request(
        self,
        request: ChatRequest,
        target: Target,
        *,
        trace_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> HttpRequest:
        """``POST {deployment URL}/chat/completions?api-version=...`` with the OpenAI body."""
        headers = self.request_headers(request, target)
        return HttpRequest(
            method="POST",
            url=f"{self.base_url(target)}/chat/completions{_version_query(target)}",
            headers=headers,
            json=self.request_body(request),
            secrets=secret_header_values(headers),
        )

    def build_embedding_request(
        self,
        request: EmbeddingRequest,
        target: Target,
        *,
        trace_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> HttpRequest:
        """``POST {deployment URL}/embeddings?api-version=...`` (an embedding model's deployment)."""
        headers = self.request_headers(request, target)
        return HttpRequest(
            method="POST",
            url=f"{self.base_url(target)}/embeddings{_version_query(target)}",
            headers=headers,
            json=openai_embedding_body(request),
            secrets=secret_header_values(headers),
        )

    def request_headers(
        self,
        request: ChatRequest | EmbeddingRequest,
        target: Target,
        *,
        trace_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """Content headers, then ``api-key`` (or ``authorization: Bearer``), then the target's."""
        headers = content_headers(stream=request.stream)
        if target.api_key:
            if target.options.get("azure_auth") == _BEARER:
                headers["authorization"] = f"Bearer {target.api_key.reveal()}"
            else:
                headers["api-key"] = target.api_key.reveal()
        merge_headers(headers, target.headers)
        return headers


def _version_query(target: Target) -> str:
    version = target.options.get("azure_api_version")
    return f"?api-version={quote(str(version))}" if version else ""


def _resource_url(options: Mapping[str, Any]) -> str:
    resource = options.get("azure_resource_name")
    if not isinstance(resource, str) or not resource:
        raise ConfigurationError(
            "Azure OpenAI needs 'azure_resource_name' (the <name> in https://<name>.openai.azure.com) "
            "or a 'custom_host'",
            path="azure_resource_name",
        )
    root = f"https://{resource}.openai.azure.com/openai"
    deployment = options.get("azure_deployment_id")
    return f"{root}/deployments/{quote(str(deployment), safe='')}" if deployment else f"{root}/v1"


def _secret(value: object) -> Secret | None:
    if isinstance(value, Secret) or value is None:
        return value
    return Secret(str(value)) if value else None
