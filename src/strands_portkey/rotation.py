"""Per-request credential rotation for a leaf that names a provider but no key.

When the local vault holds keys for a leaf's provider (and the leaf has no ``api_key`` of its
own), every attempt takes the next key by smooth weighted round-robin, and reports how it went:
a 429 rests that key for a cooldown, a 401/403 disables it (and starts its re-validation), a
success clears either. Selection reads an in-memory snapshot (about a microsecond), never the
database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from .providers.base import Target

if TYPE_CHECKING:
    from .vault.selector import SelectedCredential

__all__ = ["CredentialRotation", "with_credential"]

Pick = Callable[[str], "SelectedCredential"]
Report = Callable[[str, int, "float | None", "str | None"], None]


def with_credential(target: Target, chosen: SelectedCredential, *, custom_host: str | None = None) -> Target:
    """``target`` using the stored credential ``chosen``.

    That is its key (or AWS key pair, or custom fields) and its provider's base URL, unless
    ``custom_host`` says otherwise.
    """
    options = dict(target.options)
    credential = chosen.credential
    if credential.credential_type == "access_key_pair":
        options["aws_access_key_id"] = credential.identifiers.get("access_key_id")
        options["aws_secret_access_key"] = credential.secrets.get("secret_access_key")
        options.pop("aws_session_token", None)
        if "session_token" in credential.secrets:
            options["aws_session_token"] = credential.secrets["session_token"]
        if chosen.region and "aws_region" not in options:
            options["aws_region"] = chosen.region
    elif credential.credential_type == "custom":
        options.update(credential.secrets)
    base_url = custom_host or chosen.base_url or target.base_url
    return replace(target, api_key=credential.api_key, base_url=base_url.rstrip("/"), options=options)


class CredentialRotation:
    """Chooses the credential of each attempt at one leaf and takes its outcome back.

    With ``has_keys``, the leaf can also run without the vault (an environment key, or a
    provider that needs none): while the vault holds no keys for the provider, attempts use
    ``base`` as it is; once keys appear (added here or by another process), they rotate.
    """

    def __init__(
        self,
        base: Target,
        pick: Pick,
        report: Report,
        *,
        custom_host: str | None,
        has_keys: Callable[[str], bool] | None = None,
    ) -> None:
        self._base = base
        self._pick = pick
        self._report = report
        self._custom_host = custom_host
        self._has_keys = has_keys

    def __repr__(self) -> str:
        return f"CredentialRotation(provider={self._base.provider!r})"

    def next_target(self) -> tuple[Target, str | None]:
        """The target for one attempt, with the chosen credential, and that credential's id."""
        if self._has_keys is not None and not self._has_keys(self._base.provider):
            return self._base, None
        chosen = self._pick(self._base.provider)
        return with_credential(self._base, chosen, custom_host=self._custom_host), chosen.id

    def report(
        self, credential_id: str, status_code: int, retry_after: float | None, error: str | None
    ) -> None:
        """How the attempt with ``credential_id`` ended (HTTP status; Retry-After seconds)."""
        self._report(credential_id, status_code, retry_after, error)
