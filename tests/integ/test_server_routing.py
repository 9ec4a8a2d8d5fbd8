"""Every routing header through the running server, against the scripted loopback upstream.

Config (fallback, retry, cache, conditional on metadata, guardrails), provider + custom host,
virtual key (the server's vault), ``@provider/model`` slugs (registered providers), request
timeout, trace id, cache headers; SSRF refusals (header, config, a registered provider's
``baseUrl``) and the trusted-hosts escape; bad input (size, content type, JSON).

The SSRF guard is also run on both transport backends (aiohttp, httpx) in process, with real
connections to the loopback upstream and an injected resolver: a name resolving to a private
address, metadata and IPv4-mapped literals, trusted networks, and DNS rebinding pinned.
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
from strands_portkey.server.app import create_app
from strands_portkey.server.egress import AddressPolicy
from strands_portkey.server.settings import ServerSettings
from strands_portkey.transport import TransportSettings, fast_client_installed
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


@pytest.fixture(scope="module")
def httpx_server(tmp_path_factory: pytest.TempPathFactory, server: ServerProcess) -> Iterator[ServerProcess]:
    """The same server (same vault, same trusted hosts) sending upstream with httpx."""
    extra = {
        "STRANDS_PORTKEY_DB_URL": f"sqlite:///{server.home / 'server.db'}",
        "STRANDS_PORTKEY_MASTER_KEY": MASTER,
        "STRANDS_PORTKEY_MAX_BODY_BYTES": "4096",
        "STRANDS_PORTKEY_TRUSTED_HOSTS": TRUSTED,
        "STRANDS_PORTKEY_HTTP_CLIENT": "httpx",
    }
    with running_server(tmp_path_factory.mktemp("server-routing-httpx"), env=extra) as running:
        yield running


@pytest.fixture(params=["default", "httpx"])
def either_server(request: pytest.FixtureRequest) -> ServerProcess:
    """The default server (aiohttp when installed) and the httpx one: the SSRF guard on both."""
    return request.getfixturevalue("server" if request.param == "default" else "httpx_server")


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
def test_ssrf_refusals(
    either_server: ServerProcess, headers: dict[str, str], body: Any, param: str | None
) -> None:
    response = post(either_server, headers, body)
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["type"] == "permission_error"
    assert error["param"] == param
    assert "STRANDS_PORTKEY_TRUSTED_HOSTS" in error["message"]


class Rebinding:
    """A resolver whose first answer is the loopback upstream and every later one a private address."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        first = host not in self.asked
        self.asked.append(host)
        if host not in self.answers:
            raise OSError("no such host")
        return self.answers[host] if first else ["10.0.0.5"]


@pytest.fixture(params=["aiohttp", "httpx"])
def client_name(request: pytest.FixtureRequest) -> str:
    if request.param == "aiohttp" and not fast_client_installed():
        pytest.skip("aiohttp (the [fast] extra) is not installed")
    return str(request.param)


async def in_process(
    client: str, resolver: Rebinding, policy: AddressPolicy, tmp_path: Path, calls: list[dict[str, str]]
) -> list[httpx.Response]:
    """POST each header set to an in-process server sending upstream with ``client``."""
    settings = ServerSettings(
        env={"STRANDS_PORTKEY_HOME": str(tmp_path / "home")},
        open_store=False,
        resolver=resolver,
        address_policy=policy,
        transport_settings=TransportSettings(client=client),  # type: ignore[arg-type]
    )
    app = create_app(settings, no_auth=True)
    responses = []
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://server"
        ) as caller:
            for headers in calls:
                responses.append(await caller.post("/v1/chat/completions", json=BODY, headers=headers))
    finally:
        await app.state.server.aclose()
    return responses


def custom(url: str) -> dict[str, str]:
    return {"x-portkey-provider": "openai", "x-portkey-custom-host": url, "x-portkey-request-timeout": "2000"}


@pytest.mark.parametrize(
    "url",
    [
        "http://private.test:8000/v1",  # a name resolving to a private address
        "http://169.254.169.254/latest",  # cloud metadata
        "http://[::ffff:169.254.169.254]/latest",  # the same, IPv4-mapped IPv6
        "https://[::ffff:10.0.0.1]/v1",
    ],
)
async def test_ssrf_refusals_on_both_backends(client_name: str, url: str, tmp_path: Path) -> None:
    resolver = Rebinding({"private.test": ["93.184.216.34", "192.168.7.7"]})
    [response] = await in_process(client_name, resolver, AddressPolicy(), tmp_path, [custom(url)])
    assert response.status_code == 403, response.text
    assert response.json()["error"]["param"] == "x-portkey-custom-host"
    assert "STRANDS_PORTKEY_TRUSTED_HOSTS" in response.json()["error"]["message"]


async def test_dns_rebinding_is_pinned_on_both_backends(
    client_name: str, upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    """The name answers loopback once, then a private address: every call still reaches the upstream."""
    resolver = Rebinding({"rebind.test": ["127.0.0.1"]})
    url = upstream.base_url("rebind", client_name).replace("127.0.0.1", "rebind.test")
    before = len(upstream.calls("rebind"))
    responses = await in_process(client_name, resolver, AddressPolicy(), tmp_path, [custom(url)] * 3)
    assert [r.status_code for r in responses] == [200, 200, 200], responses[0].text
    assert resolver.asked == ["rebind.test"]  # checked once; the connection never resolved it again
    calls = upstream.calls("rebind")[before:]
    assert len(calls) == 3
    assert {call.headers.get("host") for call in calls} == {f"rebind.test:{upstream.port}"}


async def test_trusted_networks_open_the_policy_on_both_backends(
    client_name: str, upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    """Loopback refused by the policy, except where trusted: the same upstream, two names."""
    policy = AddressPolicy.parse(["127.0.0.0/8"], allow_loopback=False)
    closed = AddressPolicy(allow_loopback=False)
    resolver = Rebinding({"inside.test": ["127.0.0.1"]})
    url = upstream.base_url("trusted", client_name).replace("127.0.0.1", "inside.test")
    [allowed] = await in_process(client_name, resolver, policy, tmp_path, [custom(url)])
    [refused] = await in_process(
        client_name, Rebinding({"inside.test": ["127.0.0.1"]}), closed, tmp_path, [custom(url)]
    )
    assert allowed.status_code == 200, allowed.text
    assert refused.status_code == 403


def test_a_trusted_private_host_is_called(either_server: ServerProcess) -> None:
    headers = {
        "x-portkey-provider": "openai",
        "x-portkey-custom-host": f"http://{TRUSTED}/v1",
        "x-portkey-request-timeout": "300",
    }
    response = post(either_server, headers)
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
