from __future__ import annotations

import base64
import dataclasses
import logging
import os
from pathlib import Path

import pytest

from strands_portkey.errors import DecryptionError, MasterKeyError
from strands_portkey.vault.crypto import KeyRing, MasterKey, load_keyring

AAD = b"strands-portkey/credential/key-1/api_key"


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def test_round_trip_and_ciphertext_hides_plaintext() -> None:
    ring = KeyRing(MasterKey.generate())
    envelope = ring.encrypt(b"sk-canary-secret", aad=AAD)
    assert b"sk-canary-secret" not in envelope.ciphertext + envelope.wrapped_key
    assert envelope.master_key_id == ring.primary.key_id
    assert ring.decrypt(envelope, aad=AAD, what="k") == b"sk-canary-secret"


def test_each_encryption_uses_fresh_key_and_nonce() -> None:
    ring = KeyRing(MasterKey.generate())
    one, two = ring.encrypt(b"same", aad=AAD), ring.encrypt(b"same", aad=AAD)
    assert one.ciphertext != two.ciphertext
    assert one.wrapped_key != two.wrapped_key


@pytest.mark.parametrize("part", ["ciphertext", "wrapped_key"])
@pytest.mark.parametrize("index", [0, 12, -1])
def test_any_altered_byte_is_detected(part: str, index: int) -> None:
    ring = KeyRing(MasterKey.generate())
    envelope = ring.encrypt(b"secret", aad=AAD)
    value = getattr(envelope, part)
    tampered = dataclasses.replace(envelope, **{part: _flip(value, index % len(value))})
    with pytest.raises(DecryptionError, match="integrity check"):
        ring.decrypt(tampered, aad=AAD, what="provider key 'prod'")


def test_truncated_ciphertext_is_detected() -> None:
    ring = KeyRing(MasterKey.generate())
    envelope = ring.encrypt(b"secret", aad=AAD)
    with pytest.raises(DecryptionError):
        ring.decrypt(dataclasses.replace(envelope, ciphertext=envelope.ciphertext[:10]), aad=AAD, what="k")


def test_ciphertext_moved_to_another_credential_fails() -> None:
    ring = KeyRing(MasterKey.generate())
    envelope = ring.encrypt(b"secret", aad=AAD)
    with pytest.raises(DecryptionError, match="belongs to another credential"):
        ring.decrypt(envelope, aad=b"strands-portkey/credential/key-2/api_key", what="k")


def test_wrong_master_key_is_reported_as_such_with_both_ids() -> None:
    right, wrong = MasterKey.generate(), MasterKey.generate()
    envelope = KeyRing(right).encrypt(b"secret", aad=AAD)
    with pytest.raises(MasterKeyError) as caught:
        KeyRing(wrong).decrypt(envelope, aad=AAD, what="provider key 'prod'")
    assert right.key_id in caught.value.message
    assert wrong.key_id in caught.value.message
    assert "STRANDS_PORTKEY_MASTER_KEY" in caught.value.message


def test_rotation_previous_key_decrypts_and_rewrap_moves_to_new_key() -> None:
    old, new = MasterKey.generate(), MasterKey.generate()
    envelope = KeyRing(old).encrypt(b"secret", aad=AAD)
    rotating = KeyRing(new, [old])
    assert rotating.decrypt(envelope, aad=AAD, what="k") == b"secret"
    assert rotating.needs_rewrap(envelope)
    fresh = rotating.rewrap(envelope, aad=AAD, what="k")
    assert fresh.master_key_id == new.key_id
    assert fresh.ciphertext == envelope.ciphertext  # only the data key is re-wrapped
    assert not rotating.needs_rewrap(fresh)
    assert KeyRing(new).decrypt(fresh, aad=AAD, what="k") == b"secret"
    with pytest.raises(MasterKeyError):
        KeyRing(old).decrypt(fresh, aad=AAD, what="k")


def test_master_key_never_printed() -> None:
    key = MasterKey.generate()
    assert key.encoded() not in repr(key)
    assert key.encoded() not in repr(KeyRing(key))


@pytest.mark.parametrize("text", ["short", base64.b64encode(b"x" * 31).decode(), "!!!not base64!!!"])
def test_malformed_master_key_names_its_source(text: str) -> None:
    with pytest.raises(MasterKeyError, match="STRANDS_PORTKEY_MASTER_KEY: not a master key"):
        load_keyring({"STRANDS_PORTKEY_MASTER_KEY": text})


def test_standard_and_urlsafe_base64_both_accepted() -> None:
    raw = bytes([251, 255] * 16)
    standard = load_keyring({"STRANDS_PORTKEY_MASTER_KEY": base64.b64encode(raw).decode()})
    urlsafe = load_keyring({"STRANDS_PORTKEY_MASTER_KEY": base64.urlsafe_b64encode(raw).decode()})
    assert standard.primary.key == urlsafe.primary.key == raw


def test_key_file_created_once_with_0600_and_a_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = {"STRANDS_PORTKEY_HOME": str(tmp_path / "home")}
    with caplog.at_level(logging.WARNING, logger="strands_portkey.vault"):
        first = load_keyring(env)
    path = tmp_path / "home" / "master.key"
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert str(path) in caplog.text
    assert "back it up" in caplog.text
    assert first.primary.encoded() not in caplog.text
    caplog.clear()
    second = load_keyring(env)
    assert second.primary.key == first.primary.key
    assert caplog.text == ""


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    path.write_text(MasterKey.generate().encoded())
    path.chmod(0o644)
    with pytest.raises(MasterKeyError, match="chmod 600"):
        load_keyring({"STRANDS_PORTKEY_MASTER_KEY_FILE": str(path)})


def test_missing_key_file_without_create_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError, match="no master key"):
        load_keyring({"STRANDS_PORTKEY_HOME": str(tmp_path)}, create=False)
    assert not (tmp_path / "master.key").exists()


def test_previous_keys_from_env() -> None:
    old, new = MasterKey.generate(), MasterKey.generate()
    ring = load_keyring(
        {
            "STRANDS_PORTKEY_MASTER_KEY": new.encoded(),
            "STRANDS_PORTKEY_PREVIOUS_MASTER_KEYS": f"{old.encoded()}, ",
        }
    )
    assert set(ring.key_ids) == {old.key_id, new.key_id}
    assert ring.primary.key_id == new.key_id


def test_derived_keys_are_deterministic_and_separate_per_purpose_and_master_key() -> None:
    first, second = MasterKey.from_bytes(bytes(range(32))), MasterKey.from_bytes(bytes(range(1, 33)))
    derived = first.derive("gateway api keys")
    assert len(derived) == 32
    assert derived == MasterKey.from_bytes(bytes(range(32))).derive("gateway api keys")
    assert derived not in {first.key, first.derive("something else"), second.derive("gateway api keys")}
    ring = KeyRing(second, [first])
    assert ring.derived("gateway api keys") == {
        first.key_id: derived,
        second.key_id: second.derive("gateway api keys"),
    }
