"""A provider registered through ``gw.providers`` is routable by name: its baseUrl, its format, its keys."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from strands_portkey import Gateway
from strands_portkey.controlplane import ControlPlane, ProviderKeys
from strands_portkey.controlplane.providers_api import Providers
from strands_portkey.errors import AuthenticationError, ConfigurationError, InvalidRequestError

from .conftest import GOOD, GOOD2, MASTER, Clock, FakeProvider

BODY = {"model": "served-model", "messages": [{"role": "user", "content": "hi"}]}
VLLM = "http://vllm.internal:8000/v1"


def _register(plane: ControlPlane, name: str = "my-vllm", **fields: object) -> None:
    Providers(plane).create({"name": name, "baseUrl": VLLM, **fields})


async def test_a_config_naming_a_registered_provider_calls_its_base_url_with_its_vault_key(
    plane: ControlPlane, fake_provider: FakeProvider
) -> None:
    _register(plane)
    ProviderKeys(plane).create({"name": "vllm-key", "provider": "my-vllm", "api_key": GOOD})
    probe = fake_provider.requests[-1]
    assert (str(probe.url), probe.headers["authorization"]) == (f"{VLLM}/models", f"Bearer {GOOD}")
    gateway = Gateway(
        {"provider": "my-vllm"}, control_plane=plane, transport=httpx.MockTransport(fake_provider.handler)
    )
    response = await gateway.chat(BODY)
    sent = fake_provider.requests[-1]
    assert (str(sent.url), sent.headers["authorization"]) == (f"{VLLM}/chat/completions", f"Bearer {GOOD}")
    assert response.choices[0].message.content == "hi"
    assert response.route.provider == "my-vllm"
    assert response.route.credential_id is not None
    await gateway.aclose()


async def test_its_keys_rotate_and_client_args_and_virtual_keys_name_it_too(
    plane: ControlPlane, fake_provider: FakeProvider
) -> None:
    _register(plane)
    keys = ProviderKeys(plane)
    keys.create({"name": "vllm-a", "provider": "my-vllm", "api_key": GOOD})
    keys.create({"name": "vllm-b", "provider": "my-vllm", "api_key": GOOD2})
    transport = httpx.MockTransport(fake_provider.handler)
    gateway = Gateway(client_args={"provider": "my-vllm"}, control_plane=plane, transport=transport)
    for _ in range(4):
        await gateway.chat(BODY)
    used = [request.headers["authorization"] for request in fake_provider.requests[-4:]]
    assert used == [f"Bearer {GOOD}", f"Bearer {GOOD2}"] * 2
    by_key = Gateway({"virtual_key": "vllm-b"}, control_plane=plane, transport=transport)
    await by_key.chat(BODY)
    sent = fake_provider.requests[-1]
    assert (str(sent.url), sent.headers["authorization"]) == (f"{VLLM}/chat/completions", f"Bearer {GOOD2}")
    with pytest.raises(ConfigurationError, match="belongs to provider 'my-vllm', not 'other-vllm'"):
        Gateway({"provider": "other-vllm", "virtual_key": "vllm-b"}, control_plane=plane, transport=transport)
    await gateway.aclose()
    await by_key.aclose()


async def test_a_provider_registered_by_another_control_plane_is_found_by_the_next_gateway(
    db_url: str, tmp_path: Path, fake_provider: FakeProvider, clock: Clock
) -> None:
    transport = httpx.MockTransport(fake_provider.handler)
    env = {"STRANDS_PORTKEY_HOME": str(tmp_path)}
    first = ControlPlane(
        db_url, env=env, master_key=MASTER, transport=transport, clock=clock, spawn=lambda work: work()
    )
    other = ControlPlane(db_url, env=env, master_key=MASTER, transport=transport, refresh_interval=None)
    _register(other)  # another process: `first` has not reloaded since
    ProviderKeys(other).create({"name": "vllm-key", "provider": "my-vllm", "api_key": GOOD})
    gateway = Gateway({"provider": "my-vllm"}, control_plane=first, transport=transport)
    await gateway.chat(BODY)
    sent = fake_provider.requests[-1]
    assert (str(sent.url), sent.headers["authorization"]) == (f"{VLLM}/chat/completions", f"Bearer {GOOD}")
    Providers(other).update("my-vllm", {"baseUrl": "http://moved.internal:9000/v1"})
    clock.now += 2.0  # the refresh interval: the next request reloads the keys, with the provider's URL
    await gateway.chat(BODY)
    assert str(fake_provider.requests[-1].url) == "http://moved.internal:9000/v1/chat/completions"
    await gateway.aclose()
    first.close()
    other.close()


def test_an_unknown_name_still_fails_listing_known_and_registered_providers(plane: ControlPlane) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Gateway({"provider": "my-vllm"}, control_plane=plane)
    assert caught.value.path == "config.provider"
    assert "unknown provider 'my-vllm'" in caught.value.message
    assert "openai" in caught.value.message  # the registry's names
    assert "No provider is registered in the control plane under that name" in caught.value.message
    _register(plane)
    _register(plane, "team-llm")
    with pytest.raises(ConfigurationError) as caught:
        Gateway({"provider": "my-vlm"}, control_plane=plane)
    assert "Providers registered in the control plane: my-vllm, team-llm." in caught.value.message


async def test_a_registered_provider_needs_a_base_url_and_must_be_enabled(
    plane: ControlPlane, fake_provider: FakeProvider
) -> None:
    Providers(plane).create({"name": "no-url"})
    with pytest.raises(ConfigurationError, match="registered without a baseUrl") as caught:
        Gateway({"provider": "no-url"}, control_plane=plane)
    assert caught.value.path == "config.custom_host"
    transport = httpx.MockTransport(fake_provider.handler)
    keyless = Gateway({"provider": "no-url", "custom_host": VLLM}, control_plane=plane, transport=transport)
    with pytest.raises(AuthenticationError):  # no key in the vault and none given: sent without one
        await keyless.chat(BODY)
    assert str(fake_provider.requests[-1].url) == f"{VLLM}/chat/completions"
    assert "authorization" not in fake_provider.requests[-1].headers
    await keyless.aclose()
    _register(plane, enabled=False)
    with pytest.raises(ConfigurationError, match="'my-vllm' is disabled"):
        Gateway({"provider": "my-vllm"}, control_plane=plane)


async def test_an_anthropic_format_provider_is_validated_and_called_anthropics_way(
    plane: ControlPlane,
) -> None:
    requests: list[httpx.Request] = []

    def anthropic_server(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if request.headers.get("x-api-key") != GOOD:
            return httpx.Response(401, json={"type": "error", "error": {"message": "bad key"}})
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"data": [{"id": "claude-local"}]})
        return httpx.Response(
            200,
            json={"id": "m1", "type": "message", "role": "assistant", "model": "claude-local",
                  "content": [{"type": "text", "text": "hello"}], "stop_reason": "end_turn",
                  "usage": {"input_tokens": 2, "output_tokens": 1}},
        )  # fmt: skip

    plane.transport = httpx.MockTransport(anthropic_server)
    view = Providers(plane).create(
        {"name": "my-claude", "baseUrl": "http://claude.internal/v1", "apiFormat": "anthropic"}
    )
    assert view.api_format == "anthropic"
    ProviderKeys(plane).create({"name": "claude-key", "provider": "my-claude", "api_key": GOOD})
    assert str(requests[-1].url) == "http://claude.internal/v1/models"
    gateway = Gateway({"provider": "my-claude"}, control_plane=plane, transport=plane.transport)
    response = await gateway.chat(BODY)
    assert str(requests[-1].url) == "http://claude.internal/v1/messages"
    assert requests[-1].headers["x-api-key"] == GOOD
    assert response.choices[0].message.content == "hello"
    await gateway.aclose()


def test_api_format_is_checked_and_shown(plane: ControlPlane) -> None:
    providers = Providers(plane)
    with pytest.raises(InvalidRequestError) as caught:
        providers.create({"name": "my-x", "baseUrl": VLLM, "apiFormat": "cohere"})
    assert caught.value.path == "body.apiFormat"
    assert "use one of openai, anthropic, google" in caught.value.message
    with pytest.raises(InvalidRequestError, match="'anthropic' is built in and speaks 'anthropic'"):
        providers.create({"name": "anthropic", "apiFormat": "openai"})
    assert providers.create({"name": "groq"}).api_format == "openai"  # the registry's format
    assert providers.create({"name": "anthropic"}).api_format == "anthropic"
    assert providers.create({"name": "my-x", "baseUrl": VLLM}).api_format == "openai"  # the default
    assert providers.update("my-x", {"apiFormat": "Google"}).api_format == "google"
    with pytest.raises(InvalidRequestError, match="built in"):
        providers.update("groq", {"apiFormat": "anthropic"})


async def test_a_registered_model_served_by_a_registered_provider_routes_there(
    plane: ControlPlane, fake_provider: FakeProvider
) -> None:
    _register(plane)
    ProviderKeys(plane).create({"name": "vllm-key", "provider": "my-vllm", "api_key": GOOD})
    gateway = Gateway(control_plane=plane, transport=httpx.MockTransport(fake_provider.handler))
    gateway.ai.models.create(
        {"name": "team-chat", "type": "third-party", "provider": "my-vllm", "vendor_model_id": "served-model"}
    )
    response = await gateway.chat({"model": "team-chat", "messages": [{"role": "user", "content": "hi"}]})
    sent = fake_provider.requests[-1]
    assert (str(sent.url), sent.headers["authorization"]) == (f"{VLLM}/chat/completions", f"Bearer {GOOD}")
    assert json.loads(sent.content)["model"] == "served-model"
    assert response.route.provider == "my-vllm"
    await gateway.aclose()
