"""Portkey request headers -> RouteSpec / CallOptions, and RouteInfo -> response headers."""

from decimal import Decimal

import pytest

from strands_portkey.server.errors import ServerInputError
from strands_portkey.server.headers import (
    COST_HEADER,
    RouteSpec,
    read_call_options,
    read_route,
    response_headers,
)
from strands_portkey.types import RouteInfo


def test_provider_with_key_and_fields_becomes_client_args() -> None:
    spec = read_route(
        {
            "x-portkey-provider": "openai",
            "x-portkey-custom-host": "http://127.0.0.1:9/v1",
            "x-portkey-request-timeout": "1500",
            "x-portkey-openai-project": "proj-1",
        },
        provider_key="sk-canary-1234",
    )
    assert spec.names_route
    assert spec.client_args() == {
        "provider": "openai",
        "Authorization": "sk-canary-1234",
        "custom_host": "http://127.0.0.1:9/v1",
        "request_timeout": 1500,
        "openai_project": "proj-1",
    }
    assert "sk-canary-1234" not in repr(spec)


def test_config_header_is_json_and_a_saved_id_is_kept_apart() -> None:
    spec = read_route({"x-portkey-config": '{"provider": "openai"}'}, None)
    assert (spec.config, spec.saved_config) == ({"provider": "openai"}, None)
    saved = read_route({"x-portkey-config": "pc-abc-123"}, None)
    assert (saved.config, saved.saved_config, saved.names_route) == (None, "pc-abc-123", True)


def test_provider_key_is_ignored_without_a_provider() -> None:
    spec = read_route({}, provider_key="sk-unused")
    assert not spec.names_route
    assert spec.provider_key is None


@pytest.mark.parametrize(
    ("headers", "path"),
    [
        ({"x-portkey-config": "{not json"}, "x-portkey-config"),
        ({"x-portkey-config": "[1, 2]"}, "x-portkey-config"),
        ({"x-portkey-config": "[" * 100_000}, "x-portkey-config"),
        ({"x-portkey-request-timeout": "-5"}, "x-portkey-request-timeout"),
        ({"x-portkey-request-timeout": "soon"}, "x-portkey-request-timeout"),
        ({"x-portkey-provider": "openai", "x-portkey-custom-host": "ftp://x"}, "x-portkey-custom-host"),
        ({"x-portkey-custom-host": "http://127.0.0.1:1/v1"}, "x-portkey-custom-host"),
    ],
)
def test_bad_route_headers_name_the_header(headers: dict[str, str], path: str) -> None:
    with pytest.raises(ServerInputError) as caught:
        read_route(headers, None).checked()
    assert caught.value.path == path
    assert caught.value.status_code == 400


def test_call_options_read_trace_metadata_and_cache_headers() -> None:
    options = read_call_options(
        {
            "x-portkey-trace-id": "t-1",
            "x-portkey-metadata": '{"_user": "u1", "n": 3}',
            "x-portkey-cache-force-refresh": "TRUE",
            "x-portkey-cache-namespace": "team-a",
        },
        defaults={"_user": "from-key", "team": "a"},
    )
    assert options.trace_id == "t-1"
    assert options.metadata == {"_user": "u1", "n": "3", "team": "a"}
    assert (options.cache_force_refresh, options.cache_namespace) == (True, "team-a")
    assert read_call_options({}).cache_force_refresh is None


@pytest.mark.parametrize(
    ("headers", "path"),
    [
        ({"x-portkey-metadata": "not json"}, "x-portkey-metadata"),
        ({"x-portkey-metadata": '{"a": {"nested": 1}}'}, "x-portkey-metadata.a"),
        ({"x-portkey-cache-force-refresh": "maybe"}, "x-portkey-cache-force-refresh"),
        ({"x-portkey-trace-id": "x" * 300}, "x-portkey-trace-id"),
    ],
)
def test_bad_call_option_headers_name_the_header(headers: dict[str, str], path: str) -> None:
    with pytest.raises(ServerInputError) as caught:
        read_call_options(headers)
    assert caught.value.path == path


def test_route_keys_are_equal_for_equal_routes_and_hide_secrets() -> None:
    secret = b"k" * 32
    a = RouteSpec(provider="openai", provider_key="sk-canary-aaaa")
    b = RouteSpec(provider="openai", provider_key="sk-canary-aaaa")
    c = RouteSpec(provider="openai", provider_key="sk-canary-bbbb")
    assert a.key(secret) == b.key(secret)
    assert a.key(secret) != c.key(secret)
    assert a.key(secret) != a.key(b"other" * 8)
    assert "canary" not in a.key(secret)


def test_response_headers_mirror_the_route_and_add_cost_and_extras() -> None:
    route = RouteInfo(trace_id="t-9", provider="openai", last_used_option_index="config.targets[1]")
    route.retry_attempt_count, route.cache_status = 2, "HIT"
    headers = response_headers(route, Decimal("0.000125"), {"x-ratelimit-remaining-requests": "9"})
    assert headers == {
        "x-portkey-last-used-option-index": "config.targets[1]",
        "x-portkey-retry-attempt-count": "2",
        "x-portkey-cache-status": "HIT",
        "x-portkey-provider": "openai",
        "x-portkey-trace-id": "t-9",
        COST_HEADER: "0.000125",
        "x-ratelimit-remaining-requests": "9",
    }
    assert "x-portkey-provider" not in response_headers(RouteInfo(trace_id="t"))
