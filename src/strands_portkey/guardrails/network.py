"""Checks that make HTTP calls: ``default.webhook`` and ``default.validUrls``.

Both go through the gateway's transport (the ``send`` of :class:`CheckContext`): this package
never opens connections itself. A call that fails or times out is a check *error*: it passes
unless the check's parameters say ``failOnError: true`` (Portkey's rule).
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from urllib.parse import urlsplit

from ..wire import HttpRequest, decode_json
from .builtin_text import _common, _flip, _text
from .context import CheckContext
from .registry import CheckDef, CheckOutcome, ParameterError, Params, param

__all__ = ["NETWORK_CHECKS"]

_URL = re.compile(r"https?://[^\s,\"'{}\[\]]+")


def _prepare_webhook(params: Params) -> Params:
    _common(params)
    url = param(params, "webhookURL", "str", required=True)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ParameterError(f"parameter 'webhookURL' must be an http(s) URL, got {url!r}")
    headers = params.get("headers") or {}
    if isinstance(headers, str):
        try:
            headers = json.loads(headers)
        except ValueError:
            raise ParameterError("parameter 'headers' must be an object (or its JSON)") from None
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ParameterError("parameter 'headers' must map header names to strings")
    timeout = param(params, "timeout", "number", default=3000)
    if timeout <= 0:
        raise ParameterError("parameter 'timeout' must be a positive number of milliseconds")
    return {**params, "_headers": headers, "_timeout_s": timeout / 1000}


async def webhook(context: CheckContext, params: Params) -> CheckOutcome:
    """``default.webhook``: POST the context to ``webhookURL``; its ``{"verdict": bool}`` decides.

    The endpoint may rewrite the text with ``transformedData.request.json`` (before the call) or
    ``transformedData.response.json`` (after it), as in Portkey.
    """
    if context.send is None:
        raise ValueError("no HTTP transport available for the webhook")
    request = HttpRequest(
        "POST",
        params["webhookURL"],
        {"content-type": "application/json", **params["_headers"]},
        json=context.to_json(),
        secrets=tuple(params["_headers"].values()),
    )
    try:
        response = await context.send(request, params["_timeout_s"])
    except Exception as error:  # a timeout or connection failure is this check's error
        # Named by type only: the message of a transport error names the URL, which may hold a token.
        raise ValueError(
            f"webhook call failed ({type(error).__name__}); timeout {params['_timeout_s']:g} s"
        ) from None
    if not 200 <= response.status_code < 300:
        raise ValueError(f"webhook answered HTTP {response.status_code}")
    try:
        body = decode_json(response.content)
    except ValueError:  # not JSON, not UTF-8, or nested too deep
        raise ValueError("webhook answer is not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("verdict"), bool):
        raise ValueError("webhook answer needs a boolean 'verdict'")
    return CheckOutcome(body["verdict"], {"webhook": body.get("data")}, texts=_rewrite(context, body))


def _rewrite(context: CheckContext, body: dict[str, object]) -> list[str] | None:
    transformed = body.get("transformedData")
    if not isinstance(transformed, dict):
        return None
    side = "request" if context.event == "beforeRequestHook" else "response"
    part = transformed.get(side)
    data = part.get("json") if isinstance(part, dict) else None
    if not isinstance(data, dict):
        return None
    if side == "request":
        messages = data.get("messages")
        content = messages[-1].get("content") if isinstance(messages, list) and messages else None
    else:
        choices = data.get("choices")
        content = (
            choices[0].get("message", {}).get("content") if isinstance(choices, list) and choices else None
        )
    return [content] if isinstance(content, str) else None


def _prepare_urls(params: Params) -> Params:
    _common(params)
    param(params, "onlyDNS", "bool")
    return params


async def valid_urls(context: CheckContext, params: Params) -> CheckOutcome:
    """``default.validUrls``: every http(s) URL in the text answers a HEAD with 2xx (3 s timeout).

    With ``onlyDNS: true`` a URL is valid when its host name resolves. No URL at all fails.
    """
    text = _text(context)
    urls = _URL.findall(text)
    if not urls:
        return CheckOutcome(False, {"explanation": "No URLs found in the text.", "urls": []})
    probe = _resolves if params.get("onlyDNS") else _answers
    results = await asyncio.gather(*(probe(context, url) for url in urls))
    valid = [url for url, ok in zip(urls, results, strict=True) if ok]
    invalid = [url for url, ok in zip(urls, results, strict=True) if not ok]
    return CheckOutcome(_flip(params, not invalid), {"validUrls": valid, "invalidUrls": invalid})


async def _answers(context: CheckContext, url: str) -> bool:
    if context.send is None:
        raise ValueError("no HTTP transport available to check URLs")
    try:
        response = await context.send(HttpRequest("HEAD", url, {"user-agent": "URLValidator/1.0"}), 3.0)
    except Exception:
        return False
    return 200 <= response.status_code < 300


async def _resolves(context: CheckContext, url: str) -> bool:
    host = urlsplit(url).hostname
    if not host:
        return False
    try:
        return bool(await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM))
    except OSError:
        return False


NETWORK_CHECKS = (
    CheckDef("default.webhook", webhook, _prepare_webhook),
    CheckDef("default.validUrls", valid_urls, _prepare_urls),
)
