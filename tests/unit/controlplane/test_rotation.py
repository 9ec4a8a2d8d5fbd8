"""A leaf naming a provider without a key rotates over the vault's keys, attempt by attempt."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from strands_portkey import Gateway
from strands_portkey.controlplane import ControlPlane
from strands_portkey.errors import CredentialsUnavailableError

from ..conftest import completion
from .conftest import BAD, GOOD, GOOD2, MASTER, Clock, FakeProvider

BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
OPENAI = {"provider": "openai"}


def add_keys(plane: ControlPlane, *keys: tuple[str, str, int]) -> None:
    gateway = Gateway({"provider": "openai", "api_key": "sk-unused"}, control_plane=plane)
    for name, secret, weight in keys:
        gateway.ai.provider_keys.create(
            {"name": name, "provider": "openai", "api_key": secret, "weight": weight}
        )


def keys_used(provider: FakeProvider) -> list[str]:
    return [
        r.headers["authorization"].removeprefix("Bearer ") for r in provider.requests if "chat" in r.url.path
    ]


async def test_requests_rotate_over_the_stored_keys_by_weight(
    plane: ControlPlane, fake_provider: FakeProvider
) -> None:
    add_keys(plane, ("a", GOOD, 200), ("b", GOOD2, 100))
    gateway = Gateway(
        OPENAI, control_plane=plane, transport=httpx.MockTransport(fake_provider.handler), env={}
    )
    for _ in range(6):
        await gateway.chat(BODY)
    assert keys_used(fake_provider) == [GOOD, GOOD2, GOOD] * 2


async def test_a_401_takes_the_key_out_of_rotation_and_a_fallback_moves_on(
    plane: ControlPlane, fake_provider: FakeProvider, clock: Clock
) -> None:
    add_keys(plane, ("a", GOOD, 100), ("b", GOOD2, 100))
    gateway = Gateway(
        {
            "strategy": {"mode": "fallback"},
            "targets": [OPENAI, {"provider": "openai", "api_key": GOOD, "custom_host": "http://local/v1"}],
        },
        control_plane=plane,
        transport=httpx.MockTransport(fake_provider.handler),
        env={},
    )
    await gateway.chat(BODY)  # key a
    plane.selector.report(plane.resolve_virtual_key("b").id, 401, None, "revoked")  # type: ignore[union-attr]
    for _ in range(3):
        await gateway.chat(BODY)
    assert keys_used(fake_provider) == [GOOD] * 4
    plane.selector.report(plane.resolve_virtual_key("a").id, 401, None, "revoked")  # type: ignore[union-attr]
    response = await gateway.chat(BODY)  # no key left for openai: the fallback serves
    assert response.route is not None
    assert response.route.last_used_option_index == "config.targets[1]"
    assert [a.error_type for a in response.route.attempts] == ["CredentialsUnavailableError", None]


async def test_a_lone_leaf_without_usable_keys_says_how_to_fix_it(
    plane: ControlPlane, fake_provider: FakeProvider
) -> None:
    add_keys(plane, ("a", GOOD, 100))
    plane.selector.report(plane.resolve_virtual_key("a").id, 403, None, "forbidden")  # type: ignore[union-attr]
    gateway = Gateway(
        OPENAI, control_plane=plane, transport=httpx.MockTransport(fake_provider.handler), env={}
    )
    with pytest.raises(
        CredentialsUnavailableError, match="every credential of provider 'openai' is disabled"
    ):
        await gateway.chat(BODY)


async def test_an_upstream_429_rests_the_key_and_a_401_disables_it(plane: ControlPlane) -> None:
    add_keys(plane, ("a", GOOD, 100), ("b", GOOD2, 100))
    answers = {GOOD: 429, GOOD2: 200}
    used: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        key = request.headers["authorization"].removeprefix("Bearer ")
        used.append(key)
        status = answers[key]
        if status != 200:
            return httpx.Response(status, json={"error": {"message": "no"}}, headers={"retry-after": "1"})
        return httpx.Response(
            200,
            json={
                "id": "r",
                "model": "m",
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
                ],
            },
        )

    gateway = Gateway(
        {**OPENAI, "retry": {"attempts": 1}},
        control_plane=plane,
        transport=httpx.MockTransport(handler),
        env={},
        sleep=_no_sleep,
    )
    response = await gateway.chat(BODY)  # a: 429, retried with b
    assert used == [GOOD, GOOD2]
    assert response.route is not None
    assert response.route.retry_attempt_count == 1
    for _ in range(4):
        await gateway.chat(BODY)
    assert used[2:].count(GOOD2) >= 3  # a rests at weight 10 of 110 during its cooldown


async def _no_sleep(_: float) -> None:
    return None


async def test_a_leaf_with_its_own_key_or_without_vault_keys_does_not_rotate(
    plane: ControlPlane, fake_provider: FakeProvider
) -> None:
    add_keys(plane, ("a", GOOD, 100))
    own = Gateway(
        {"provider": "openai", "api_key": GOOD2},
        control_plane=plane,
        transport=httpx.MockTransport(fake_provider.handler),
    )
    await own.chat(BODY)
    assert keys_used(fake_provider) == [GOOD2]
    groq = Gateway(
        {"provider": "groq", "custom_host": "http://groq.local/v1"},
        control_plane=plane,
        transport=httpx.MockTransport(fake_provider.handler),
        env={"GROQ_API_KEY": GOOD2},
    )
    await groq.chat(BODY)  # the vault holds no groq keys: the environment's key is used
    assert keys_used(fake_provider) == [GOOD2, GOOD2]


async def test_keys_added_after_the_gateway_was_built_take_over_from_the_environment_key(
    plane: ControlPlane, fake_provider: FakeProvider
) -> None:
    gateway = Gateway(
        OPENAI,
        control_plane=plane,
        transport=httpx.MockTransport(fake_provider.handler),
        env={"OPENAI_API_KEY": GOOD2},
    )
    await gateway.chat(BODY)  # no vault keys yet: the environment's
    add_keys(plane, ("a", GOOD, 100))  # through another gateway on the same plane
    await gateway.chat(BODY)
    key = next(iter(gateway.ai.provider_keys.list()))
    gateway.ai.provider_keys.delete(key.id)
    await gateway.chat(BODY)  # none left: the environment's again
    assert keys_used(fake_provider) == [GOOD2, GOOD, GOOD2]


async def test_a_keyless_provider_stays_keyless_until_the_vault_has_keys_for_it(plane: ControlPlane) -> None:
    sent: list[str | None] = []

    def vllm(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers.get("authorization"))
        return httpx.Response(200, json=completion())

    gateway = Gateway(
        {"provider": "vllm", "custom_host": "http://vllm.local/v1"},
        control_plane=plane,
        transport=httpx.MockTransport(vllm),
        env={},
    )
    await gateway.chat(BODY)
    gateway.ai.provider_keys.create({"name": "v", "provider": "vllm", "api_key": GOOD})
    await gateway.chat(BODY)
    assert sent == [None, f"Bearer {GOOD}"]


async def test_gateways_sharing_a_state_share_the_key_rotation_and_a_401(
    db_url: str, tmp_path: Path, fake_provider: FakeProvider
) -> None:
    from strands_portkey.errors import AuthenticationError
    from strands_portkey.shared_state.memory import MemoryState

    transport = httpx.MockTransport(fake_provider.handler)
    env = {"STRANDS_PORTKEY_HOME": str(tmp_path)}
    planes = [
        ControlPlane(
            db_url,
            env=env,
            master_key=MASTER,
            transport=transport,
            validate_credentials=False,  # c is a bad key, stored as if it had just been revoked
            refresh_interval=None,  # neither reloads: only the shared state tells the other
        )
        for _ in range(2)
    ]
    add_keys(planes[0], ("a", GOOD, 100), ("b", GOOD2, 100), ("c", BAD, 100))
    planes[1].refresh()
    state = MemoryState()
    first, second = (
        Gateway(OPENAI, control_plane=plane, transport=transport, env={}, shared_state=state)
        for plane in planes
    )
    await first.chat(BODY)
    await second.chat(BODY)
    with pytest.raises(AuthenticationError):
        await first.chat(BODY)
    assert keys_used(fake_provider) == [GOOD, GOOD2, BAD]  # one sequence over both gateways
    for _ in range(4):
        await second.chat(BODY)
    assert BAD not in keys_used(fake_provider)[3:]  # the 401 seen by `first` took c out for `second`
    assert [row["disabled"] for row in planes[1].selector.status("openai")] == [False, False, True]
    for gateway in (first, second):
        await gateway.aclose()
    for plane in planes:
        plane.close()
