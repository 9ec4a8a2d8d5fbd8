"""AES-256-GCM envelope encryption of stored secrets (the only module that imports ``cryptography``).

Each secret gets its own random 256-bit data key (DEK). The secret is encrypted with the DEK; the
DEK is encrypted ("wrapped") with the master key. Both use AES-256-GCM with a fresh 96-bit nonce,
and both carry *associated data* naming the credential the secret belongs to, so a ciphertext
copied onto another row fails to decrypt instead of handing over the wrong key.

The master key comes from ``STRANDS_PORTKEY_MASTER_KEY`` (32 bytes, base64), else from a key file
(``STRANDS_PORTKEY_MASTER_KEY_FILE``, default ``master.key`` in the data directory) created on
first use with mode 0600 and a warning saying where it is and why to back it up. The master key's
id (a fingerprint, never the key) is stored next to every ciphertext:

- a wrong master key is reported as such (the ids differ), not as corruption;
- rotation needs no downtime: put the new key in ``STRANDS_PORTKEY_MASTER_KEY`` and the old one in
  ``STRANDS_PORTKEY_PREVIOUS_MASTER_KEYS``; everything still decrypts, and :meth:`KeyRing.rewrap`
  re-encrypts only the small wrapped DEKs under the new key.

A failed integrity check raises :class:`~strands_portkey.errors.DecryptionError`; there is never a
plaintext fallback.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import secrets
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import DecryptionError, MasterKeyError
from ..store.paths import data_dir

__all__ = [
    "KEY_FILE_ENV",
    "MASTER_KEY_ENV",
    "PREVIOUS_KEYS_ENV",
    "Envelope",
    "KeyRing",
    "MasterKey",
    "load_keyring",
]

MASTER_KEY_ENV = "STRANDS_PORTKEY_MASTER_KEY"
PREVIOUS_KEYS_ENV = "STRANDS_PORTKEY_PREVIOUS_MASTER_KEYS"
KEY_FILE_ENV = "STRANDS_PORTKEY_MASTER_KEY_FILE"
KEY_FILE_NAME = "master.key"
_KEY_BYTES = 32
_NONCE_BYTES = 12
_ID_LABEL = b"strands-portkey master key id v1:"
_log = logging.getLogger("strands_portkey.vault")


@dataclass(frozen=True, slots=True)
class MasterKey:
    """A 256-bit master key and its public id (a fingerprint). Never printed."""

    key_id: str
    key: bytes = field(repr=False)

    @classmethod
    def from_bytes(cls, key: bytes) -> MasterKey:
        """Wrap 32 raw bytes."""
        if len(key) != _KEY_BYTES:
            raise MasterKeyError(f"a master key is {_KEY_BYTES} bytes, got {len(key)}")
        return cls(hashlib.sha256(_ID_LABEL + key).hexdigest()[:16], key)

    @classmethod
    def from_text(cls, text: str, *, source: str) -> MasterKey:
        """Parse base64 (standard or URL-safe) text; ``source`` names where it came from."""
        cleaned = text.strip()
        try:
            raw = base64.urlsafe_b64decode(
                cleaned.replace("+", "-").replace("/", "_") + "=" * (-len(cleaned) % 4)
            )
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != _KEY_BYTES:
            raise MasterKeyError(
                f"{source}: not a master key: expected {_KEY_BYTES} random bytes in base64 (44 characters); "
                "make one with: python -c "
                '"import os, base64; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"'
            )
        return cls.from_bytes(raw)

    @classmethod
    def generate(cls) -> MasterKey:
        """A new random key."""
        return cls.from_bytes(secrets.token_bytes(_KEY_BYTES))

    def encoded(self) -> str:
        """The key as URL-safe base64 (what ``STRANDS_PORTKEY_MASTER_KEY`` holds)."""
        return base64.urlsafe_b64encode(self.key).decode()

    def derive(self, purpose: str) -> bytes:
        """A 256-bit key for one ``purpose`` (HKDF-SHA256), e.g. keying the gateway API keys' HMAC.

        Independent of the encryption keys and of every other purpose: knowing one derived key
        reveals neither the master key nor another derived key.
        """
        info = b"strands-portkey derived key v1:" + purpose.encode()
        return HKDF(algorithm=hashes.SHA256(), length=_KEY_BYTES, salt=None, info=info).derive(self.key)


@dataclass(frozen=True, slots=True)
class Envelope:
    """One encrypted secret: the master key's id, the wrapped DEK, the ciphertext (nonces inside)."""

    master_key_id: str
    wrapped_key: bytes = field(repr=False)
    ciphertext: bytes = field(repr=False)


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = secrets.token_bytes(_NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    if len(sealed) < _NONCE_BYTES + 16:
        raise InvalidTag()
    return AESGCM(key).decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], aad)


class KeyRing:
    """The primary master key (encrypts) plus previous keys (still decrypt, during a rotation)."""

    def __init__(self, primary: MasterKey, previous: Sequence[MasterKey] = ()) -> None:
        self.primary = primary
        self._keys = {key.key_id: key for key in (*previous, primary)}

    def __repr__(self) -> str:
        return f"KeyRing(primary={self.primary.key_id!r}, known={sorted(self._keys)})"

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Ids of every key that can decrypt."""
        return tuple(self._keys)

    def derived(self, purpose: str) -> dict[str, bytes]:
        """:meth:`MasterKey.derive` of every known master key, by master key id (rotation-proof)."""
        return {key_id: key.derive(purpose) for key_id, key in self._keys.items()}

    def encrypt(self, plaintext: bytes, *, aad: bytes) -> Envelope:
        """Encrypt under a fresh DEK wrapped by the primary key, bound to ``aad``."""
        dek = AESGCM.generate_key(bit_length=256)
        return Envelope(
            master_key_id=self.primary.key_id,
            wrapped_key=_seal(self.primary.key, dek, b"dek|" + aad),
            ciphertext=_seal(dek, plaintext, aad),
        )

    def _master(self, envelope: Envelope, what: str) -> MasterKey:
        master = self._keys.get(envelope.master_key_id)
        if master is None:
            raise MasterKeyError(
                f"{what} was encrypted with master key {envelope.master_key_id}, but the configured master "
                f"key is {self.primary.key_id}: set {MASTER_KEY_ENV} (or {PREVIOUS_KEYS_ENV}, during a "
                "rotation) to the key that encrypted it"
            )
        return master

    def _dek(self, envelope: Envelope, aad: bytes, what: str) -> bytes:
        master = self._master(envelope, what)
        try:
            dek = _open(master.key, envelope.wrapped_key, b"dek|" + aad)
        except InvalidTag:
            raise _tampered(what) from None
        if len(dek) != _KEY_BYTES:
            raise _tampered(what)
        return dek

    def decrypt(self, envelope: Envelope, *, aad: bytes, what: str) -> bytes:
        """The plaintext; :class:`DecryptionError` when anything was altered or moved."""
        dek = self._dek(envelope, aad, what)
        try:
            return _open(dek, envelope.ciphertext, aad)
        except InvalidTag:
            raise _tampered(what) from None

    def needs_rewrap(self, envelope: Envelope) -> bool:
        """Whether ``envelope``'s DEK is wrapped by a key other than the primary."""
        return envelope.master_key_id != self.primary.key_id

    def rewrap(self, envelope: Envelope, *, aad: bytes, what: str) -> Envelope:
        """The same ciphertext with its DEK re-wrapped by the primary key (integrity checked first)."""
        dek = self._dek(envelope, aad, what)
        try:
            _open(dek, envelope.ciphertext, aad)
        except InvalidTag:
            raise _tampered(what) from None
        return Envelope(self.primary.key_id, _seal(self.primary.key, dek, b"dek|" + aad), envelope.ciphertext)


def _tampered(what: str) -> DecryptionError:
    return DecryptionError(
        f"{what}: the stored secret failed its integrity check: the database row was altered or "
        "corrupted, or the ciphertext belongs to another credential. Nothing was decrypted; "
        "delete the key and create it again"
    )


def _key_file(env: Mapping[str, str]) -> Path:
    return Path(env[KEY_FILE_ENV]).expanduser() if env.get(KEY_FILE_ENV) else data_dir(env) / KEY_FILE_NAME


def _read_key_file(path: Path) -> MasterKey:
    if sys.platform != "win32":
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise MasterKeyError(
                f"master key file {path} is readable by other users (mode {mode:o}); "
                f"restrict it with: chmod 600 {path}"
            )
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise MasterKeyError(f"cannot read master key file {path}: {type(error).__name__}") from None
    return MasterKey.from_text(text, source=f"master key file {path}")


def _create_key_file(path: Path) -> MasterKey:
    """Write a new key atomically with mode 0600 (another process may win the race: then use its key)."""
    key = MasterKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(key.encoded() + "\n")
        os.link(temporary, path)
    except FileExistsError:
        return _read_key_file(path)
    finally:
        temporary.unlink(missing_ok=True)
    _log.warning(
        "strands-portkey created a new master key in %s (mode 0600). It encrypts your stored provider keys: "
        "back it up, because without it they cannot be decrypted. To keep it in a secret manager instead, "
        "set %s to its contents (master key id %s).",
        path,
        MASTER_KEY_ENV,
        key.key_id,
    )
    return key


def load_keyring(env: Mapping[str, str], *, create: bool = True) -> KeyRing:
    """The key ring from ``env``: the master key (env, else key file, created when ``create``)."""
    if env.get(MASTER_KEY_ENV):
        primary = MasterKey.from_text(env[MASTER_KEY_ENV], source=MASTER_KEY_ENV)
    else:
        path = _key_file(env)
        if path.exists():
            primary = _read_key_file(path)
        elif create:
            primary = _create_key_file(path)
        else:
            raise MasterKeyError(f"no master key: set {MASTER_KEY_ENV} or create the key file {path}")
    previous = [
        MasterKey.from_text(part, source=f"{PREVIOUS_KEYS_ENV}[{index}]")
        for index, part in enumerate(env.get(PREVIOUS_KEYS_ENV, "").split(","))
        if part.strip()
    ]
    return KeyRing(primary, previous)
