"""A planted key must never appear anywhere but in the one request that uses it."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from strands_portkey import Gateway
from strands_portkey.controlplane import ControlPlane
from strands_portkey.errors import GatewayError

from .conftest import MASTER

CANARY = "sk-canary-7f3a9c1e5b2d4f6a8c0e1b3d5f7a9c2e"
SECRET_ACCESS = "canary/aws+secret/0123456789abcdefghijklmn"


def echoing_provider(request: httpx.Request) -> httpx.Response:
    """A provider that echoes whatever key it got, in every error (some real ones do)."""
    key = request.headers.get("authorization", "")
    if request.url.path.endswith("/models") and request.url.host != "api.groq.com":
        return httpx.Response(200, json={"data": [{"id": "gpt-4o"}]})
    return httpx.Response(401, json={"error": {"message": f"Incorrect API key provided: {key}"}})


async def test_canary_never_leaks(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    db = tmp_path / "vault.db"
    transport = httpx.MockTransport(echoing_provider)
    plane = ControlPlane(f"sqlite:///{db}", env={}, master_key=MASTER, transport=transport)
    gateway = Gateway({"provider": "openai", "api_key": "sk-other"}, control_plane=plane, transport=transport)
    outputs: list[str] = []

    key = gateway.ai.provider_keys.create({"name": "canary", "provider": "openai", "api_key": CANARY})
    gateway.providers.create({"name": "vllm", "baseUrl": "http://127.0.0.1:9/v1"})
    pair = gateway.providers.create_credential(
        "vllm",
        {"name": "aws", "credentialType": "access_key_pair",
         "value": {"access_key_id": "AKIAPUBLIC", "secret_access_key": SECRET_ACCESS}},
        validate=False,
    )  # fmt: skip
    outputs += [repr(key), str(key.to_dict()), repr(pair), str(pair.to_dict())]
    outputs += [repr(k) for k in gateway.ai.provider_keys.list()]
    outputs += [repr(p) for p in gateway.providers.list()]
    outputs += [repr(gateway.ai.provider_keys.test(key.id)), str(gateway.providers.health())]
    outputs += [
        repr(plane),
        repr(plane.selector),
        repr(plane.pick("openai")),
        repr(gateway),
        repr(plane.keyring),
    ]
    outputs += [str(gateway.providers.models()), repr(gateway.ai), repr(gateway.providers)]

    with pytest.raises(GatewayError) as rejected:
        gateway.ai.provider_keys.create({"name": "again", "provider": "groq", "api_key": CANARY})
    outputs += [str(rejected.value), repr(rejected.value)]

    routed = Gateway({"virtual_key": "canary"}, control_plane=plane, transport=transport)
    outputs.append(repr(routed))
    with pytest.raises(GatewayError) as refused:
        await routed.chat({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    outputs += [str(refused.value), repr(refused.value), repr(refused.value.args)]
    plane.report(plane.resolve_virtual_key("aws").id, 401, error=str(refused.value))  # type: ignore[union-attr]
    outputs += [str(gateway.ai.provider_keys.retrieve("aws").to_dict()), str(gateway.providers.health())]
    plane.close()

    outputs.append(caplog.text)
    for text in outputs:
        assert CANARY not in text
        assert SECRET_ACCESS not in text
    assert "AKIAPUBLIC" in str(pair.to_dict())  # identifiers are meant to be shown

    _assert_ciphertext_only(tmp_path)


def _assert_ciphertext_only(folder: Path) -> None:
    """The database file and its WAL hold no clear secret (nor the master key)."""
    files = [path for path in folder.iterdir() if path.name.startswith("vault.db")]
    assert files
    for path in files:
        raw = path.read_bytes()
        assert CANARY.encode() not in raw
        assert SECRET_ACCESS.encode() not in raw
        assert MASTER.encode() not in raw
