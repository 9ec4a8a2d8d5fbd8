"""The SSRF address policy and its guard on both transport backends (injected resolver, no sockets).

httpx: the transport checks each request and pins plain ``http`` to the checked address.
aiohttp: the connector dials what :class:`GuardedResolver` answers, i.e. only checked addresses.
"""

import socket

import httpx
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from strands_portkey.errors import ConfigurationError
from strands_portkey.server.egress import AddressGuard, AddressPolicy
from strands_portkey.server.errors import AddressRefusedError
from strands_portkey.server.settings import ServerSettings
from strands_portkey.transport import GuardedHTTPTransport, Transport, TransportSettings
from strands_portkey.transport.aiohttp import GuardedResolver
from strands_portkey.transport.base import guarded
from strands_portkey.wire import HttpRequest

DEFAULT = AddressPolicy()


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "fd00:ec2::254",  # AWS metadata over IPv6 (unique local)
        "fe80::1",
        "::ffff:10.0.0.1",  # IPv4-mapped private
        "240.0.0.1",
    ],
)
def test_private_link_local_and_reserved_addresses_are_refused(address: str) -> None:
    assert DEFAULT.refusal(address) is not None


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "8.8.8.8", "2606:4700::1111"])
def test_loopback_and_public_addresses_are_allowed(address: str) -> None:
    assert DEFAULT.refusal(address) is None


def test_trusted_entries_allow_names_addresses_and_networks() -> None:
    policy = AddressPolicy.from_env(" models.internal. , 10.0.0.7, 192.168.0.0/16,[fd00::1]")
    assert policy.name_trusted("MODELS.internal")
    assert policy.refusal("10.0.0.7") is None
    assert policy.refusal("10.0.0.8") is not None
    assert policy.refusal("192.168.44.1") is None
    assert policy.refusal("fd00::1") is None
    assert AddressPolicy(allow_loopback=False).refusal("127.0.0.1") is not None


class Resolver:
    """Answers from a table, then (``later``) from another one: DNS rebinding on demand."""

    def __init__(self, answers: dict[str, list[str]], later: dict[str, list[str]] | None = None) -> None:
        self.answers = answers
        self.later = later
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        table = self.later if self.later is not None and host in self.asked else self.answers
        self.asked.append(host)
        if host not in table:
            raise OSError("no such host")
        return table[host]


class SystemResolver(AbstractResolver):
    """Stands in for aiohttp's own resolver (trusted names go there)."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET):
        self.asked.append(host)
        return [ResolveResult(hostname=host, host="10.9.9.9", port=port, family=family, proto=0, flags=0)]

    async def close(self) -> None:
        pass


def make_guard(answers, policy: AddressPolicy = DEFAULT, now: list[float] | None = None, later=None):
    clock = now if now is not None else [0.0]
    resolver = Resolver(answers, later)
    return AddressGuard(policy, resolver, clock=lambda: clock[0]), resolver


async def connected_to(client: str, guard: AddressGuard, url: str) -> tuple[str, str | None]:
    """Where ``client``'s backend would connect for ``url`` (address, Host header), no socket opened.

    httpx: the URL and Host header the guarded transport hands to httpx. aiohttp: the transport's
    check, then the address its connector dials, as the guarded resolver answers it.
    """
    if client == "httpx":
        seen: list[httpx.Request] = []

        def respond(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(200, json={})

        transport = Transport(httpx.MockTransport(respond), guard=guard)
        await transport.send(HttpRequest("POST", url, {}, {"a": 1}))
        return seen[0].url.host, seen[0].headers.get("host")
    parts = httpx.URL(url)
    transport = Transport(settings=TransportSettings(client="aiohttp"), guard=guard)
    try:
        await guarded(HttpRequest("POST", url, {}), guard, pin=False)  # what Transport.send checks first
        if parts.host.replace(".", "").isdigit() or ":" in parts.host:
            return parts.host, None  # aiohttp never resolves an IP literal
        resolver = GuardedResolver(guard, SystemResolver())
        answer = await resolver.resolve(parts.host, parts.port or 80, socket.AF_UNSPEC)
        return answer[0]["host"], None
    finally:
        await transport.aclose()


BACKENDS = pytest.mark.parametrize("client", ["httpx", "aiohttp"])


@BACKENDS
async def test_a_name_resolving_to_a_private_address_is_refused_before_any_connection(client: str) -> None:
    guard, _ = make_guard({"evil.example": ["93.184.216.34", "10.1.2.3"]})
    with pytest.raises(AddressRefusedError) as caught:
        await connected_to(client, guard, "http://evil.example/v1/chat/completions")
    assert "10.1.2.3" in caught.value.message
    assert "STRANDS_PORTKEY_TRUSTED_HOSTS" in caught.value.message


@BACKENDS
@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest", "http://[::ffff:169.254.169.254]/x", "https://[::ffff:10.0.0.1]/v1"],
)
async def test_metadata_and_ipv4_mapped_literals_are_refused_without_resolving(client: str, url: str) -> None:
    guard, resolver = make_guard({})
    with pytest.raises(AddressRefusedError):
        await connected_to(client, guard, url)
    assert resolver.asked == []


async def test_the_refusal_names_where_the_url_was_given() -> None:
    guard, _ = make_guard({})
    with pytest.raises(AddressRefusedError) as caught:
        await guard.check("169.254.169.254", 80, path="config.custom_host")
    assert caught.value.path == "config.custom_host"


async def test_httpx_pins_plain_http_to_the_checked_address_and_keeps_its_host_header() -> None:
    guard, _ = make_guard({"api.example": ["93.184.216.34"]})
    assert await connected_to("httpx", guard, "http://api.example:8080/v1/models") == (
        "93.184.216.34",
        "api.example:8080",
    )


async def test_httpx_keeps_the_name_of_https_for_certificate_checks() -> None:
    guard, _ = make_guard({"api.example": ["93.184.216.34"]})
    assert await connected_to("httpx", guard, "https://api.example/v1/models") == (
        "api.example",
        "api.example",
    )


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_aiohttp_dials_only_checked_addresses_for_both_schemes(scheme: str) -> None:
    guard, _ = make_guard({"api.example": ["93.184.216.34", "2606:4700::1111"]})
    resolver = GuardedResolver(guard, SystemResolver())
    answer = await resolver.resolve("api.example", 443 if scheme == "https" else 80, socket.AF_UNSPEC)
    assert [(r["host"], r["family"], r["hostname"]) for r in answer] == [
        ("93.184.216.34", socket.AF_INET, "api.example"),  # the name stays: TLS verifies against it
        ("2606:4700::1111", socket.AF_INET6, "api.example"),
    ]
    only_v4 = await resolver.resolve("api.example", 80, socket.AF_INET)
    assert [r["host"] for r in only_v4] == ["93.184.216.34"]


@BACKENDS
async def test_dns_rebinding_is_pinned_to_the_address_checked(client: str) -> None:
    guard, resolver = make_guard(
        {"rebind.example": ["93.184.216.34"]}, later={"rebind.example": ["10.0.0.5"]}
    )
    first = await connected_to(client, guard, "http://rebind.example/v1")
    again = await connected_to(client, guard, "http://rebind.example/v1")
    assert first[0] == again[0] == "93.184.216.34"
    assert resolver.asked == ["rebind.example"]  # the connection never resolved the name again


async def test_decisions_are_cached_for_a_while_then_resolved_again() -> None:
    now = [0.0]
    guard, resolver = make_guard(
        {"api.example": ["93.184.216.34"]}, now=now, later={"api.example": ["10.0.0.5"]}
    )
    for _ in range(3):
        await guard.check("api.example", 443)
    assert resolver.asked == ["api.example"]
    now[0] = 31.0
    with pytest.raises(AddressRefusedError):  # rebound after the decision expired: refused
        await guard.check("api.example", 443)


@BACKENDS
async def test_trusted_names_are_not_checked_and_unresolvable_names_fail_at_connect(client: str) -> None:
    guard, resolver = make_guard({}, AddressPolicy.from_env("models.internal"))
    assert await guard.check("models.internal", 80) == "models.internal"
    assert await guard.check("nowhere.invalid", 80) == "nowhere.invalid"
    assert resolver.asked == ["nowhere.invalid"]
    if client == "aiohttp":  # the connector resolves a trusted name itself
        system = SystemResolver()
        answer = await GuardedResolver(guard, system).resolve("models.internal", 80, socket.AF_UNSPEC)
        assert answer[0]["host"] == "10.9.9.9"
        assert system.asked == ["models.internal"]
    else:
        assert await connected_to(client, guard, "http://models.internal/v1") == (
            "models.internal",
            "models.internal",
        )


async def test_trusted_networks_and_addresses_are_allowed_on_both_backends() -> None:
    policy = AddressPolicy.parse(["10.0.0.0/8"], allow_loopback=False)
    guard, _ = make_guard({"inside.example": ["10.2.3.4"], "loop.example": ["127.0.0.1"]}, policy)
    assert await connected_to("httpx", guard, "http://inside.example/v1") == ("10.2.3.4", "inside.example")
    assert await connected_to("aiohttp", guard, "http://inside.example/v1") == ("10.2.3.4", None)
    with pytest.raises(AddressRefusedError):
        await connected_to("aiohttp", guard, "http://loop.example/v1")


async def test_the_control_planes_httpx_transport_is_guarded_too() -> None:
    seen: list[httpx.Request] = []
    guard, _ = make_guard({"api.example": ["93.184.216.34"], "evil.example": ["192.168.0.1"]})
    inner = httpx.MockTransport(lambda request: seen.append(request) or httpx.Response(200))
    async with httpx.AsyncClient(transport=GuardedHTTPTransport(guard, inner)) as client:
        await client.get("http://api.example/v1/models")
        with pytest.raises(AddressRefusedError):
            await client.get("https://evil.example/v1/models")
    assert [(str(r.url), r.headers["host"]) for r in seen] == [
        ("http://93.184.216.34/v1/models", "api.example")
    ]


def test_the_servers_upstream_client_is_chosen_by_the_environment() -> None:
    assert ServerSettings.from_env({}).transport_settings.client == "auto"
    chosen = ServerSettings.from_env({"STRANDS_PORTKEY_HTTP_CLIENT": "httpx"}).transport_settings
    assert (chosen.client, chosen.max_connections) == ("httpx", 256)
    with pytest.raises(ConfigurationError) as raised:
        ServerSettings.from_env({"STRANDS_PORTKEY_HTTP_CLIENT": "curl"})
    assert raised.value.path == "STRANDS_PORTKEY_HTTP_CLIENT"
