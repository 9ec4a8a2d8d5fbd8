"""The one host-URL check: what it refuses (with the field's path, at construction) and that what it
accepts is a URL the HTTP client can send to, for every place a host can be given."""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strands_portkey import ConfigurationError, Gateway, InvalidRequestError
from strands_portkey.catalog.models import parse_model_body
from strands_portkey.config.client_args import resolve_client_args
from strands_portkey.config.host_url import check_host_url, host_url_problem
from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.providers_api import Providers
from tests.unit.conftest import completion
from tests.unit.controlplane.conftest import MASTER

BAD_HOSTS = [
    ("http://[::1", "closing ']'"),
    ("http://[::1]x", "':<port>'"),
    ("http://[zz]:80", "not an IPv6 address"),
    ("http://[fe80::1%25eth0]", "not an IPv6 address"),
    ("http://h:99999", "from 1 to 65535"),
    ("http://h:0", "from 1 to 65535"),
    ("http://h:", "from 1 to 65535"),
    ("http://h:8o", "from 1 to 65535"),
    ("http://h:" + "9" * 5000, "from 1 to 65535"),
    ("ftp://h", "scheme 'ftp'"),
    ("http://", "host name is missing"),
    ("http://:8080", "host name is missing"),
    ("", "must not be empty"),
    ("localhost:8080", "http:// or https:// URL"),
    ("notaurl", "http:// or https:// URL"),
    ("http://a b", "spaces or control characters"),
    (" http://h", "spaces or control characters"),
    ("http://h\n/v1", "spaces or control characters"),
    ("http://user:pw@h", "credentials do not belong"),
    ("http://h/v1?x=1", "query or fragment"),
    ("http://h/v1#top", "query or fragment"),
    ("http://::1/v1", "IPv6 address goes in brackets"),
    ("http://256.1.1.1", "not an IPv4 address"),
    ("http://1.2.3", "not an IPv4 address"),
    ("http://ex%41mple.com", "not a valid host name"),
    ("http://bücher.de", "not a valid host name"),
    ("http://-a.com", "not a valid host name"),
    ("http://a..b", "not a valid host name"),
    ("http://xn--8080.com", "not a valid internationalised name"),
]
GOOD_HOSTS = [
    "http://localhost:8080/v1",
    "https://api.openai.com/v1/",
    "HTTPS://API.example.com",
    "http://127.0.0.1:11434",
    "http://[::1]:8080/v1",
    "http://[2001:db8::1]",
    "http://my_host.internal:65535/openai/v1",
    "https://xn--bcher-kva.de/v1",
    "http://example.com./v1",
]


@pytest.mark.parametrize(("url", "reason"), BAD_HOSTS)
def test_invalid_hosts_are_refused_with_a_reason(url: str, reason: str) -> None:
    problem = host_url_problem(url)
    assert problem is not None
    assert reason in problem


@pytest.mark.parametrize("url", GOOD_HOSTS)
def test_valid_hosts_pass_and_the_http_client_accepts_them(url: str) -> None:
    assert host_url_problem(url) is None
    request = httpx.Request("POST", url.rstrip("/") + "/chat/completions")
    assert request.url.scheme in ("http", "https")
    assert request.url.host


def test_check_raises_the_callers_error_type_with_the_path_and_ignores_none() -> None:
    check_host_url(None, "x")
    with pytest.raises(InvalidRequestError) as info:
        check_host_url("ftp://h", "body.baseUrl", error=InvalidRequestError)
    assert info.value.path == "body.baseUrl"
    with pytest.raises(ConfigurationError, match="expected a URL string, got int"):
        check_host_url(7, "x")


host_pieces = st.sampled_from(
    [*"ab0:/.[]@?#%-_ ~é\x00", "::1", "http://", "https://", "ftp://", "HTTP://", "65536", "8080",
     "256", "1.2.3.4", "xn--", "xn--bcher-kva", "[::1]", "[fe80::1%25x]"]
)  # fmt: skip
url_like = st.one_of(
    st.lists(host_pieces, max_size=12).map("".join),
    st.tuples(st.sampled_from(["http://", "https://"]), st.lists(host_pieces, max_size=10).map("".join)).map(
        "".join
    ),
    st.text(max_size=30),
)


@settings(max_examples=400, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(url_like)
def test_every_accepted_host_is_one_the_http_client_can_send_to(url: str) -> None:
    if host_url_problem(url) is not None:
        return
    request = httpx.Request("POST", url.rstrip("/") + "/chat/completions")
    assert request.url.scheme in ("http", "https")
    assert request.url.host
    assert request.url.netloc
    assert request.url.path.endswith("/chat/completions")


# --------------------------------------------------------------------------- every place a host is given


@pytest.mark.parametrize(
    ("config", "path"),
    [
        ({"provider": "openai", "custom_host": "http://[::1"}, "config.custom_host"),
        (
            {
                "strategy": {"mode": "fallback"},
                "targets": [{"provider": "openai"}, {"provider": "openai", "custom_host": "ftp://h"}],
            },
            "config.targets[1].custom_host",
        ),
        (
            {  # on a strategy node: inherited by its leaves, so checked there too
                "strategy": {"mode": "fallback"},
                "custom_host": "http://h:99999",
                "targets": [{"strategy": {"mode": "single"}, "targets": [{"provider": "openai"}]}],
            },
            "config.custom_host",
        ),
    ],
)
def test_a_config_with_an_invalid_host_fails_at_construction_with_the_path(
    config: dict[str, object], path: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        Gateway(config, env={"OPENAI_API_KEY": "sk-x"})
    assert info.value.path == path


@pytest.mark.parametrize("key", ["custom_host", "base_url"])
def test_client_args_hosts_are_checked(key: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve_client_args({"provider": "openai", "Authorization": "sk-x", key: "http://h:0"}, env={})
    assert info.value.path == f"client_args.{key}"


def test_a_registered_models_route_host_is_checked_like_a_config_target() -> None:
    body = {"name": "m", "provider": "vllm", "vendor_model_id": "v", "config": {"custom_host": "http://[::1"}}
    with pytest.raises(InvalidRequestError) as info:
        parse_model_body(body, partial=False)
    assert info.value.path == "body.config.custom_host"


def test_a_providers_base_url_is_checked_on_create_and_update(tmp_path: Path) -> None:
    plane = ControlPlane(
        f"sqlite:///{tmp_path / 'p.db'}", env={"STRANDS_PORTKEY_HOME": str(tmp_path)}, master_key=MASTER
    )
    providers = Providers(plane)
    with pytest.raises(InvalidRequestError) as info:
        providers.create({"name": "vllm", "baseUrl": "http://[::1/v1"})
    assert info.value.path == "body.baseUrl"
    providers.create({"name": "vllm", "baseUrl": "http://[::1]:9/v1"})
    with pytest.raises(InvalidRequestError, match="from 1 to 65535"):
        providers.update("vllm", {"baseUrl": "http://h:70000"})
    assert providers.retrieve("vllm").base_url == "http://[::1]:9/v1"
    plane.close()


def test_a_valid_custom_host_is_where_the_request_goes() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=completion())

    config = {"provider": "openai", "api_key": "sk-x", "custom_host": "http://[::1]:8080/v1/"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gw = Gateway(config, transport=httpx.MockTransport(answer))
    asyncio.run(gw.chat({"model": "m", "messages": [{"role": "user", "content": "hi"}]}))
    assert seen == ["http://[::1]:8080/v1/chat/completions"]


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        (
            {
                "provider": "bedrock",
                "aws_region": "a:99999",
                "aws_access_key_id": "A",
                "aws_secret_access_key": "S",
            },
            "from 1 to 65535",
        ),
        (
            {
                "provider": "bedrock",
                "aws_region": "us east",
                "aws_access_key_id": "A",
                "aws_secret_access_key": "S",
            },
            "spaces",
        ),
        (
            {
                "provider": "azure-openai",
                "api_key": "k",
                "azure_resource_name": "[r",
                "azure_deployment_id": "d",
            },
            "']'",
        ),
    ],
)
def test_a_url_built_from_provider_settings_is_checked_at_construction(
    config: dict[str, str], reason: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        Gateway({"strategy": {"mode": "single"}, "targets": [config]}, env={})
    assert info.value.path == "config.targets[0]"
    assert "built from this target's provider settings" in str(info.value)
    assert reason in str(info.value)
