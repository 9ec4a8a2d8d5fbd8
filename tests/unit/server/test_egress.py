"""The SSRF address policy and the guarded transport (injected resolver and clock; no sockets)."""

import httpx
import pytest

from strands_portkey.server.egress import AddressPolicy, GuardedTransport, ShardedPool, shared_pool
from strands_portkey.server.errors import AddressRefusedError

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
    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in self.answers:
            raise OSError("no such host")
        return self.answers[host]


def guarded(answers: dict[str, list[str]], policy: AddressPolicy = DEFAULT, now: list[float] | None = None):
    seen: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    clock = now if now is not None else [0.0]
    resolver = Resolver(answers)
    transport = GuardedTransport(httpx.MockTransport(respond), policy, resolver, clock=lambda: clock[0])
    return transport, resolver, seen


async def test_a_name_resolving_to_a_private_address_is_refused_before_any_connection() -> None:
    transport, _, seen = guarded({"evil.example": ["93.184.216.34", "10.1.2.3"]})
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(AddressRefusedError) as caught:
            await client.get("http://evil.example/v1/chat/completions")
    assert seen == []
    assert "10.1.2.3" in caught.value.message
    assert "STRANDS_PORTKEY_TRUSTED_HOSTS" in caught.value.message


async def test_literal_metadata_address_is_refused_without_resolving() -> None:
    transport, resolver, _ = guarded({})
    with pytest.raises(AddressRefusedError) as caught:
        await transport.check("169.254.169.254", 80, path="config.custom_host")
    assert resolver.asked == []
    assert caught.value.path == "config.custom_host"


async def test_plain_http_is_pinned_to_the_checked_address_and_keeps_its_host_header() -> None:
    transport, _, seen = guarded({"api.example": ["93.184.216.34"]})
    async with httpx.AsyncClient(transport=transport) as client:
        await client.get("http://api.example:8080/v1/models")
    assert str(seen[0].url) == "http://93.184.216.34:8080/v1/models"
    assert seen[0].headers["host"] == "api.example:8080"


async def test_https_keeps_its_name_for_certificate_checks() -> None:
    transport, _, seen = guarded({"api.example": ["93.184.216.34"]})
    async with httpx.AsyncClient(transport=transport) as client:
        await client.get("https://api.example/v1/models")
    assert seen[0].url.host == "api.example"


async def test_decisions_are_cached_for_a_while_then_resolved_again() -> None:
    now = [0.0]
    transport, resolver, _ = guarded({"api.example": ["93.184.216.34"]}, now=now)
    for _ in range(3):
        await transport.check("api.example", 443)
    assert resolver.asked == ["api.example"]
    now[0] = 31.0
    await transport.check("api.example", 443)
    assert resolver.asked == ["api.example", "api.example"]


async def test_trusted_names_skip_resolution_and_unresolvable_names_fail_at_connect() -> None:
    transport, resolver, _ = guarded({}, AddressPolicy.from_env("models.internal"))
    assert await transport.check("models.internal", 80) == "models.internal"
    assert await transport.check("nowhere.invalid", 80) == "nowhere.invalid"
    assert resolver.asked == ["nowhere.invalid"]


async def test_sharded_pool_uses_its_shards_in_turn_and_closes_them_all() -> None:
    used: list[int] = []
    closed: list[int] = []

    class Shard(httpx.MockTransport):
        def __init__(self, n: int) -> None:
            super().__init__(lambda request: used.append(n) or httpx.Response(200))
            self.n = n

        async def aclose(self) -> None:
            closed.append(self.n)

    pool = ShardedPool([Shard(0), Shard(1), Shard(2)])
    async with httpx.AsyncClient(transport=pool) as client:
        for _ in range(5):
            await client.get("http://127.0.0.1/")
    assert used == [0, 1, 2, 0, 1]
    assert sorted(closed) == [0, 1, 2]
    assert isinstance(shared_pool(shards=4), ShardedPool)
    assert isinstance(shared_pool(shards=1), httpx.AsyncHTTPTransport)
