from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from strands_portkey import Gateway
from strands_portkey.controlplane import ControlPlane
from strands_portkey.errors import (
    ConfigurationError,
    CredentialsUnavailableError,
    DecryptionError,
    MasterKeyError,
)
from strands_portkey.store.tables import CredentialRow
from strands_portkey.vault.crypto import MasterKey

from .conftest import GOOD, MASTER, FakeProvider

BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def stored(plane: ControlPlane) -> str:
    gateway = Gateway({"provider": "openai", "api_key": "sk-unused"}, control_plane=plane)
    return gateway.ai.provider_keys.create({"name": "prod-openai", "provider": "openai", "api_key": GOOD}).id


@pytest.mark.parametrize("ref", ["prod-openai", "id"])
async def test_virtual_key_calls_the_provider_with_the_stored_key(
    plane: ControlPlane, fake_provider: FakeProvider, stored: str, ref: str
) -> None:
    key = stored if ref == "id" else ref
    gateway = Gateway(
        {"virtual_key": key}, control_plane=plane, transport=httpx.MockTransport(fake_provider.handler)
    )
    response = await gateway.chat(BODY)
    request = fake_provider.requests[-1]
    assert str(request.url) == "https://api.openai.com/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {GOOD}"
    assert response.route.provider == "openai"
    assert GOOD not in repr(gateway)


async def test_virtual_key_in_client_args(
    plane: ControlPlane, fake_provider: FakeProvider, stored: str
) -> None:
    gateway = Gateway(
        client_args={"virtual_key": "prod-openai"},
        control_plane=plane,
        transport=httpx.MockTransport(fake_provider.handler),
    )
    await gateway.chat(BODY)
    assert fake_provider.requests[-1].headers["authorization"] == f"Bearer {GOOD}"


def test_unknown_virtual_key_still_goes_to_portkey(plane: ControlPlane, stored: str) -> None:
    with pytest.raises(ConfigurationError, match="not in the local vault"):
        Gateway({"virtual_key": "elsewhere"}, control_plane=plane, env={})


def test_virtual_key_of_another_provider_is_refused(plane: ControlPlane, stored: str) -> None:
    with pytest.raises(ConfigurationError, match="belongs to provider 'openai', not 'groq'"):
        Gateway({"provider": "groq", "virtual_key": "prod-openai"}, control_plane=plane)


def test_default_gateway_creates_nothing_without_a_vault(tmp_path: Path) -> None:
    env = {"STRANDS_PORTKEY_HOME": str(tmp_path / "home"), "PORTKEY_API_KEY": "pk-x"}
    Gateway({"virtual_key": "vk-at-portkey"}, env=env)
    assert not (tmp_path / "home").exists()


def test_default_control_plane_opens_in_the_data_dir(tmp_path: Path) -> None:
    env = {"STRANDS_PORTKEY_HOME": str(tmp_path), "STRANDS_PORTKEY_MASTER_KEY": MASTER}
    gateway = Gateway({"provider": "openai", "api_key": "sk-x"}, env=env)
    gateway.ai.provider_keys.create({"name": "k", "provider": "openai", "api_key": GOOD}, validate=False)
    assert (tmp_path / "strands-portkey.db").exists()
    assert gateway.providers.health()["providers"] == {"openai": {"k": {"running": True}}}
    again = Gateway({"virtual_key": "k"}, env=env)  # a later gateway finds the key in the default vault
    assert "openai" in repr(again)


def test_wrong_master_key_is_reported(plane: ControlPlane, db_url: str, stored: str, tmp_path: Path) -> None:
    other = ControlPlane(
        db_url, env={}, master_key=MasterKey.generate().encoded(), validate_credentials=False
    )
    with pytest.raises(MasterKeyError, match="encrypted with master key"):
        other.verify_master_key()
    with pytest.raises(CredentialsUnavailableError, match="disabled") as caught:
        other.resolve_virtual_key("prod-openai")
    assert "was encrypted with master key" in str(caught.value)
    with pytest.raises(MasterKeyError):
        other.vault.decrypt(_row(other, stored))


def _row(plane: ControlPlane, key_id: str) -> CredentialRow:
    with plane.store.reading() as session:
        row = session.get(CredentialRow, key_id)
        assert row is not None
        _ = row.provider
        return row


def test_corrupted_row_is_detected_and_never_used(plane: ControlPlane, stored: str) -> None:
    with plane.store.transaction() as session:
        row = session.get(CredentialRow, stored)
        assert row is not None
        row.ciphertext = row.ciphertext[:-1] + bytes([row.ciphertext[-1] ^ 1])
    with pytest.raises(DecryptionError, match="integrity check"):
        plane.vault.decrypt(_row(plane, stored))
    plane.refresh()
    with pytest.raises(CredentialsUnavailableError, match="integrity check"):
        plane.pick("openai")
    with pytest.raises(CredentialsUnavailableError, match="'prod-openai' is disabled"):
        Gateway({"virtual_key": "prod-openai"}, control_plane=plane, env={})


def test_master_key_rotation_by_rewrap(plane: ControlPlane, db_url: str, stored: str) -> None:
    new = MasterKey.generate()
    old = MasterKey.from_text(MASTER, source="test")
    from strands_portkey.vault.crypto import KeyRing

    rotating = ControlPlane(db_url, env={}, keyring=KeyRing(new, [old]), validate_credentials=False)
    assert rotating.pick("openai").api_key.reveal() == GOOD  # type: ignore[union-attr]
    gateway = Gateway({"provider": "openai", "api_key": "x"}, control_plane=rotating)
    assert gateway.providers.rewrap() == 1
    assert gateway.providers.rewrap() == 0
    only_new = ControlPlane(db_url, env={}, keyring=KeyRing(new), validate_credentials=False)
    assert only_new.pick("openai").api_key.reveal() == GOOD  # type: ignore[union-attr]
    only_new.verify_master_key()


def test_gateway_import_stays_free_of_the_control_plane_dependencies() -> None:
    code = (
        "import sys, strands_portkey.gateway; "
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'cryptography') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_401_disables_persists_and_background_recheck_restores(
    db_url: str, tmp_path: Path, fake_provider: FakeProvider
) -> None:
    from .conftest import Clock

    clock = Clock()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    plane = ControlPlane(
        db_url, env={}, master_key=MASTER, clock=clock, sleep=sleep,
        transport=httpx.MockTransport(fake_provider.handler),
    )  # fmt: skip
    keys = Gateway({"provider": "openai", "api_key": "x"}, control_plane=plane).ai.provider_keys
    key = keys.create({"name": "k", "provider": "openai", "api_key": GOOD})
    plane.report(key.id, 401, error="openai refused the key (HTTP 401)")
    assert keys.retrieve(key.id).is_active is False  # persisted at once
    assert keys.retrieve(key.id).error == "openai refused the key (HTTP 401)"
    task = plane._revalidation
    assert task is not None
    await task  # the fake provider accepts the key again: one re-check after 5 + 2**0 s
    assert slept == [6.0]
    assert keys.retrieve(key.id).is_active is True
    assert plane.pick("openai").id == key.id
    await plane.aclose()
