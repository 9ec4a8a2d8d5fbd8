"""Amazon Bedrock's Converse / ConverseStream API, signed with SigV4 through botocore.

Credentials, checked once when the gateway is built (:meth:`BedrockAdapter.prepare_target`):

* a Bedrock API key (``api_key``, or ``AWS_BEARER_TOKEN_BEDROCK``), sent as a bearer token; or
* an access-key pair (``aws_access_key_id`` + ``aws_secret_access_key``, optional
  ``aws_session_token``; else ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` /
  ``AWS_SESSION_TOKEN``), used to sign each request with SigV4. Signing needs botocore, the
  ``[bedrock]`` extra, imported only then.

The region is ``aws_region`` (else ``AWS_REGION`` / ``AWS_DEFAULT_REGION``) and gives the URL
``https://bedrock-runtime.<region>.amazonaws.com`` unless ``custom_host`` is set. The model id
(or inference-profile ARN) goes into the path, percent-encoded. Message translation is in
:mod:`._bedrock_body`; the stream parser in :mod:`._bedrock_stream`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from ..embeddings import EmbeddingRequest, EmbeddingResponse
from ..errors import ConfigurationError, UpstreamError
from ..types import ChatRequest, ChatResponse, Choice, ResponseMessage, ToolCall, Usage
from ..wire import HttpRequest, HttpResponse, Secret
from ._bedrock_body import converse_body, json_tool_name
from ._bedrock_stream import BedrockStreamParser, bedrock_usage, finish_reason
from ._convert import decode_json_body, unexpected
from ._embeddings import bedrock_embedding_body, parse_bedrock_embeddings
from ._errors import classify_error, error_fields_from_body
from ._headers import secret_header_values
from .base import Target
from .openai_compat import HostSpec

__all__ = ["BEDROCK_HOST", "BedrockAdapter"]

BEDROCK_HOST = HostSpec("bedrock", "", "AWS_BEARER_TOKEN_BEDROCK", False, ("aws-bedrock",))
"""Registry row: no fixed URL (it follows the region); a Bedrock API key from the environment."""

_EXTRA_HINT = "install the extra: pip install 'strands-agents-portkey[bedrock]'"


class BedrockAdapter:
    """The adapter for Bedrock's Converse API."""

    __slots__ = ("name",)

    def __init__(self, name: str = BEDROCK_HOST.name) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def prepare_target(self, target: Target, env: Mapping[str, str]) -> Target:
        """Resolve the region, URL and credentials once; refuse a target that could not sign."""
        options = dict(target.options)
        region = options.get("aws_region") or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        if not isinstance(region, str) or not region:
            raise ConfigurationError(
                "Bedrock needs a region: set 'aws_region' (e.g. 'us-east-1') or AWS_REGION", path="aws_region"
            )
        options["aws_region"] = region
        base_url = target.base_url or f"https://bedrock-runtime.{region}.amazonaws.com"
        if target.api_key:
            return replace(target, base_url=base_url, options=options)
        key_id = options.get("aws_access_key_id") or env.get("AWS_ACCESS_KEY_ID")
        secret = options.get("aws_secret_access_key") or _secret(env.get("AWS_SECRET_ACCESS_KEY"))
        token = options.get("aws_session_token") or _secret(env.get("AWS_SESSION_TOKEN"))
        if not key_id or not secret:
            raise ConfigurationError(
                "no AWS credentials for Bedrock: set 'aws_access_key_id' and 'aws_secret_access_key' "
                "(or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), or a Bedrock API key as 'api_key' "
                "(or AWS_BEARER_TOKEN_BEDROCK)",
                path="aws_access_key_id",
            )
        _require_botocore()
        options.update(aws_access_key_id=str(key_id), aws_secret_access_key=_secret(secret))
        if token:
            options["aws_session_token"] = _secret(token)
        return replace(target, base_url=base_url, options=options)

    def build_request(
        self,
        request: ChatRequest,
        target: Target,
        *,
        trace_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> HttpRequest:
        """``POST {base}/model/{model}/converse[-stream]``, signed (or with the API key)."""
        operation = "converse-stream" if request.stream else "converse"
        url = f"{target.base_url.rstrip('/')}/model/{quote(request.model, safe='')}/{operation}"
        headers = {
            "content-type": "application/json",
            "accept": "application/vnd.amazon.eventstream" if request.stream else "application/json",
        }
        return _authorised(url, headers, converse_body(request), target)

    def build_embedding_request(
        self,
        request: EmbeddingRequest,
        target: Target,
        *,
        trace_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> HttpRequest:
        """``POST {base}/model/{model}/invoke`` with a Titan or Cohere embedding body, signed."""
        url = f"{target.base_url.rstrip('/')}/model/{quote(request.model, safe='')}/invoke"
        headers = {"content-type": "application/json", "accept": "application/json"}
        return _authorised(url, headers, bedrock_embedding_body(self.name, request), target)

    def parse_embedding_response(
        self, response: HttpResponse, request: EmbeddingRequest
    ) -> EmbeddingResponse:
        """Parse a Titan or Cohere InvokeModel answer."""
        return parse_bedrock_embeddings(self.name, response, request)

    def parse_response(self, response: HttpResponse, request: ChatRequest) -> ChatResponse:
        """Parse a complete Converse answer."""
        payload = decode_json_body(self.name, response.content)
        output = payload.get("output")
        message = output.get("message") if isinstance(output, Mapping) else None
        if not isinstance(message, Mapping) or not isinstance(message.get("content"), list):
            raise unexpected(self.name, "an answer without output.message.content", response.content)
        try:
            reply, finish = _reply(message["content"], payload.get("stopReason"), json_tool_name(request))
            usage = payload.get("usage")
            return ChatResponse(
                id=response.header("x-amzn-requestid") or "",
                model=request.model,
                choices=(Choice(0, reply, finish),),
                usage=bedrock_usage(usage) if isinstance(usage, Mapping) else Usage(),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise unexpected(
                self.name, f"an answer of unexpected shape ({exc!r})", response.content
            ) from None

    def stream_parser(self, request: ChatRequest) -> BedrockStreamParser:
        """Return a fresh parser for one ConverseStream response."""
        return BedrockStreamParser(self.name, request.model, json_tool_name(request))

    def map_error(
        self, status_code: int, headers: Mapping[str, str], body: bytes, *, secrets: Iterable[str] = ()
    ) -> UpstreamError:
        """Classify an error answer; ``x-amzn-errortype`` (``ThrottlingException:...``) is the code."""
        fields = error_fields_from_body(body)
        error_type = (headers.get("x-amzn-errortype") or "").split(":", 1)[0] or fields.type
        message = f"{error_type}: {fields.message}" if error_type else fields.message
        return classify_error(
            provider=self.name,
            status_code=status_code,
            message=message,
            code=error_type or fields.code,
            headers=headers,
            error_type=error_type,
            secrets=secrets,
        )


def _authorised(url: str, headers: dict[str, str], body: dict[str, Any], target: Target) -> HttpRequest:
    """The request with the target's headers and its credential: the API key, else a SigV4 signature."""
    headers.update({name.lower(): value for name, value in target.headers.items()})
    unsigned = HttpRequest("POST", url, headers, body)
    secrets = secret_header_values(headers)
    if target.api_key:
        headers["authorization"] = f"Bearer {target.api_key.reveal()}"
        secrets = (target.api_key.reveal(), *secrets)
    else:
        headers = _sign(unsigned, target)
        secrets = (
            tuple(
                value.reveal()
                for value in (
                    target.options.get("aws_secret_access_key"),
                    target.options.get("aws_session_token"),
                )
                if isinstance(value, Secret)
            )
            + secrets
        )
    return HttpRequest("POST", url, headers, unsigned.json, secrets)


def _secret(value: object) -> Secret | None:
    if isinstance(value, Secret) or value is None:
        return value
    return Secret(str(value)) if value else None


def _require_botocore() -> None:
    try:
        import botocore.auth  # noqa: F401
    except ImportError:
        raise ConfigurationError(
            f"signing Bedrock requests with an access key needs botocore: {_EXTRA_HINT} "
            "(or use a Bedrock API key as 'api_key')",
            path="aws_access_key_id",
        ) from None


def sign_request(request: HttpRequest, target: Target) -> dict[str, str]:
    """SigV4-sign ``request`` for service ``bedrock`` with ``target``'s key pair and region.

    Returns the request's headers with the signature added, lower-cased. Also used by the
    control plane to validate a stored key pair (listing foundation models is not billed).
    """
    return _sign(request, target)


def _sign(request: HttpRequest, target: Target) -> dict[str, str]:
    """SigV4-sign ``request`` (service ``bedrock``) and return its headers, lower-cased."""
    try:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
    except ImportError:  # pragma: no cover - checked by prepare_target
        raise ConfigurationError(f"botocore is missing: {_EXTRA_HINT}", path="aws_access_key_id") from None
    options = target.options
    token = options.get("aws_session_token")
    credentials = Credentials(
        str(options["aws_access_key_id"]),
        options["aws_secret_access_key"].reveal(),
        token.reveal() if isinstance(token, Secret) else None,
    )
    aws = AWSRequest(
        method=request.method, url=request.url, data=request.body_bytes(), headers=dict(request.headers)
    )
    SigV4Auth(credentials, "bedrock", str(options["aws_region"])).add_auth(aws)
    return {name.lower(): str(value) for name, value in aws.headers.items()}


def _reply(
    content: list[Any], stop_reason: object, json_tool: str | None
) -> tuple[ResponseMessage, str | None]:
    texts: list[str] = []
    reasoning: list[str] = []
    signature: str | None = None
    calls: list[ToolCall] = []
    for block in content:
        if "text" in block:
            texts.append(block["text"])
        elif "toolUse" in block:
            use = block["toolUse"]
            arguments = json.dumps(use.get("input") or {}, ensure_ascii=False)
            if use["name"] == json_tool:
                texts.append(arguments)
            else:
                calls.append(ToolCall(str(use["toolUseId"]), str(use["name"]), arguments))
        elif "reasoningContent" in block:
            text = block["reasoningContent"].get("reasoningText") or {}
            if text.get("text"):
                reasoning.append(text["text"])
            signature = text.get("signature") or signature
    finish = finish_reason(stop_reason)
    if json_tool is not None and finish == "tool_calls" and not calls:
        finish = "stop"
    message = ResponseMessage(
        content="".join(texts) if texts else None,
        tool_calls=tuple(calls),
        reasoning="".join(reasoning) if reasoning else None,
        reasoning_signature=signature,
    )
    return message, finish
