"""Every routing header through the running server, against the scripted loopback upstream.

Config (fallback, retry, cache, conditional on metadata, guardrails), provider + custom host,
virtual key (the server's vault), ``@provider/model`` slugs (registered providers), request
timeout, trace id, cache headers; SSRF refusals (header, config, a registered provider's
``baseUrl``) and the trusted-hosts escape; bad input (size, content type, JSON).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from scripted_upstream import ScriptedUpstream, fail, ok, slow
from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.provider_keys import ProviderKeys
from strands_portkey.controlplane.providers_api import Providers
from tests.integ.test_server_process import HI, ServerProcess, running_server

pytestmark = pytest.mark.integ

MASTER = base64.urlsafe_b64encode(bytes(range(40, 72))).decode()
VAULT_KEY = "sk-canary-vault-key-9911"
TRUSTED = "10.255.255.1"  # trusted by the server: tried, whatever is (not) there
BODY = {"model": "m", "messages": HI}


@pytest.fixture(scope="module")
def upstream() -> Iterator[ScriptedUpstream]:
    with ScriptedUpstream(default=ok()) as scripted:
        yield scripted


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, upstream: ScriptedUpstream) -> Iterator[ServerProcess]:
    home = tmp_path_factory.mktemp("server-routing")
    env = {
        "STRANDS_PORTKEY_HOME": str(home),
        "STRANDS_PORTKEY_VALIDATE_KEYS": "off",
        "STRANDS_PORTKEY_MASTER_KEY": MASTER,
    }
    plane = ControlPlane(f"sqlite:///{home / 'server.db'}", env=env, master_key=MASTER)
    try:
        providers = Providers(plane)
        providers.create(
            {"name": "scripted", "baseUrl": upstream.base_url("vault", "a"), "apiFormat": "openai"}
        )
        providers.create({"name": "internal", "baseUrl": "http://10.0.0.7/v1", "apiFormat": "openai"})
        keys = ProviderKeys(plane)
        keys.create({"name": "vk-scripted", "provider": "scripted", "api_key": VAULT_KEY}, validate=False)
        keys.create({"name": "vk-internal", "provider": "internal", "api_key": "sk-internal"}, validate=False)
    finally:
        plane.close()
    extra = {
        "STRANDS_PORTKEY_MASTER_KEY": MASTER,
        "STRANDS_PORTKEY_MAX_BODY_BYTES": "4096",
        "STRANDS_PORTKEY_TRUSTED_HOSTS": TRUSTED,
    }
    with running_server(home, env=extra) as running:
        yield running


def post(server: ServerProcess, headers: dict[str, str], body: Any = BODY, **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{server.url}/v1/chat/completions", json=body, headers=headers, timeout=30, **kwargs)


def target(upstream: ScriptedUpstream, scenario: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "provider": "openai",
        "api_key": f"sk-{name}",
        "custom_host": upstream.base_url(scenario, name),
        **extra,
    }


def config(value: dict[str, Any]) -> dict[str, str]:
    return {"x-portkey-config": json.dumps(value)}


def test_fallback_and_retry_headers(server: ServerProcess, upstream: ScriptedUpstream) -> None:
    upstream.script("fallback", "a", [fail(503)])
    upstream.script("fallback", "b", [fail(500), ok()])
    routed = config(
        {
            "strategy": {"mode": "fallback"},
            "targets": [
                target(upstream, "fallback", "a"),
                target(upstream, "fallback", "b", retry={"attempts": 2, "on_status_codes": [500]}),
            ],
        }
    )
    response = post(server, {**routed, "x-portkey-trace-id": "trace-fallback"})
    assert response.status_code == 200, response.text
    assert response.headers["x-portkey-last-used-option-index"] == "config.targets[1]"
    assert response.headers["x-portkey-retry-attempt-count"] == "1"
    assert response.headers["x-portkey-trace-id"] == "trace-fallback"
    assert [call.target for call in upstream.calls("fallback")] == ["a", "b", "b"]


def test_cache_headers(server: ServerProcess, upstream: ScriptedUpstream) -> None:
    routed = config(target(upstream, "cache", "a", cache={"mode": "simple"}))
    statuses = [
        post(server, {**routed, **extra}).headers["x-portkey-cache-status"]
        for extra in (
            {},
            {},
            {"x-portkey-cache-force-refresh": "true"},
            {"x-portkey-cache-namespace": "other"},
        )
    ]
    assert statuses == ["MISS", "HIT", "REFRESH", "MISS"]
    assert len(upstream.calls("cache")) == 3


def test_metadata_drives_conditional_routing(server: ServerProcess, upstream: ScriptedUpstream) -> None:
    routed = config(
        {
            "strategy": {
                "mode": "conditional",
                "conditions": [{"query": {"metadata.tier": {"$eq": "gold"}}, "then": "gold"}],
                "default": "basic",
            },
            "targets": [
                {**target(upstream, "conditional", "gold"), "name": "gold"},
                {**target(upstream, "conditional", "basic"), "name": "basic"},
            ],
        }
    )
    post(server, {**routed, "x-portkey-metadata": json.dumps({"tier": "gold"})})
    post(server, routed)
    assert [call.target for call in upstream.calls("conditional")] == ["gold", "basic"]


def test_request_timeout_header_wins(server: ServerProcess, upstream: ScriptedUpstream) -> None:
    upstream.script("timeout", "a", [slow(3.0)])
    headers = {
        "x-portkey-provider": "openai",
        "x-portkey-custom-host": upstream.base_url("timeout", "a"),
        "x-portkey-request-timeout": "300",
    }
    response = post(server, headers)
    assert response.status_code == 408
    assert response.json()["error"]["type"] == "timeout_error"


def test_virtual_key_from_the_servers_vault(server: ServerProcess, upstream: ScriptedUpstream) -> None:
    response = post(server, {"x-portkey-virtual-key": "vk-scripted"})
    assert response.status_code == 200, response.text
    (call,) = upstream.calls("vault")
    assert call.authorization == f"Bearer {VAULT_KEY}"
    assert VAULT_KEY not in response.text


def test_model_slug_names_a_registered_provider(server: ServerProcess, upstream: ScriptedUpstream) -> None:
    before = len(upstream.calls("vault"))
    response = post(server, {}, {"model": "@scripted/tiny-model", "messages": HI})
    assert response.status_code == 200, response.text
    call = upstream.calls("vault")[before]
    assert call.body["model"] == "tiny-model"


def test_guardrail_statuses(server: ServerProcess, upstream: ScriptedUpstream) -> None:
    no_secret = {"default.contains": {"operator": "none", "words": ["secret"]}}
    secret = {"model": "m", "messages": [{"role": "user", "content": "a secret"}]}
    denied = post(
        server, config(target(upstream, "guard", "a", input_guardrails=[{**no_secret, "deny": True}])), secret
    )
    flagged = post(server, config(target(upstream, "guard", "b", input_guardrails=[no_secret])), secret)
    assert denied.status_code == 446
    assert denied.json()["hook_results"]["before_request_hooks"][0]["verdict"] is False
    assert flagged.status_code == 246
    assert flagged.json()["choices"][0]["message"]["content"]
    assert [call.target for call in upstream.calls("guard")] == ["b"]


@pytest.mark.parametrize(
    ("headers", "body", "param"),
    [
        (
            {"x-portkey-provider": "openai", "x-portkey-custom-host": "http://169.254.169.254/latest"},
            BODY,
            "x-portkey-custom-host",
        ),
        (
            config({"provider": "openai", "custom_host": "http://192.168.1.10:8000/v1"}),
            BODY,
            "x-portkey-config.custom_host",
        ),
        ({}, {"model": "@internal/m", "messages": HI}, None),  # a registered provider's private baseUrl
    ],
)
def test_ssrf_refusals(server: ServerProcess, headers: dict[str, str], body: Any, param: str | None) -> None:
    response = post(server, headers, body)
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["type"] == "permission_error"
    assert error["param"] == param
    assert "STRANDS_PORTKEY_TRUSTED_HOSTS" in error["message"]


def test_a_trusted_private_host_is_called(server: ServerProcess) -> None:
    headers = {
        "x-portkey-provider": "openai",
        "x-portkey-custom-host": f"http://{TRUSTED}/v1",
        "x-portkey-request-timeout": "300",
    }
    response = post(server, headers)
    # not refused: the host was tried (a timeout, a refused connection, or whatever answers there)
    assert response.status_code != 403
    assert "SSRF" not in response.text


@pytest.mark.parametrize(
    ("kwargs", "status", "param"),
    [
        (
            {"content": b'{"model": "m", "messages": [', "headers": {"content-type": "application/json"}},
            400,
            "body",
        ),
        ({"content": b"model=m", "headers": {"content-type": "text/plain"}}, 415, "content-type"),
        ({"json": {"model": "m", "messages": HI, "pad": "x" * 5000}}, 413, "body"),
        ({"json": {"model": "m", "messages": "hi"}}, 400, "request.messages"),
        ({"json": BODY, "headers": {"x-portkey-config": "pc-unknown"}}, 404, None),
        (
            {"json": BODY, "headers": {"x-portkey-cache-force-refresh": "sometimes"}},
            400,
            "x-portkey-cache-force-refresh",
        ),
    ],
)
def test_bad_input(server: ServerProcess, kwargs: dict[str, Any], status: int, param: str | None) -> None:
    response = httpx.post(f"{server.url}/v1/chat/completions", timeout=30, **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["error"]["param"] == param


def test_server_log_holds_no_secret(server: ServerProcess) -> None:
    assert VAULT_KEY not in Path(server.log).read_text(errors="replace")
