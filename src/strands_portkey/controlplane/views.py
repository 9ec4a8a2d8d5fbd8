"""What the control-plane API returns: the spec's objects, and a lazy paginator.

Field names follow the spec (``ProviderKey``: ``id``, ``name``, ``provider``, ``description``,
``provider_organization``, ``owner``, ``organization_id``, ``is_active``, ``last_used_at``,
``last_tested_at``, ``test_result``, ``masked_key``, ``created_at``, ``updated_at``), plus a few
of this project's (``credential_type``, ``weight``, ``error``, ``identifiers``). Timestamps are
ISO-8601 UTC strings with milliseconds (``2025-01-31T10:00:00.000Z``). No object carries a secret.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Generic, TypeVar

from ..vault.keys import CredentialRecord, TestOutcome

__all__ = [
    "Provider",
    "ProviderKey",
    "ProviderKeyTestResult",
    "SyncPaginator",
    "iso",
    "provider_key",
    "test_result",
]

T = TypeVar("T")


def iso(value: dt.datetime | None) -> str | None:
    """``2025-01-31T10:00:00.000Z`` (UTC, milliseconds), or None."""
    if value is None:
        return None
    utc = value.astimezone(dt.timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class ProviderKeyTestResult:
    """Whether a key works: ``success``, ``message`` (the reason when not), ``tested_at``."""

    success: bool
    message: str
    tested_at: str


def test_result(outcome: TestOutcome) -> ProviderKeyTestResult:
    """The API view of a test outcome."""
    return ProviderKeyTestResult(outcome.success, outcome.message, iso(outcome.tested_at) or "")


@dataclass(frozen=True, slots=True)
class ProviderKey:
    """A stored provider key, masked (the key itself is never returned)."""

    id: str
    name: str
    provider: str
    description: str | None
    provider_organization: str | None
    owner: str | None
    organization_id: str | None
    is_active: bool
    last_used_at: str | None
    last_tested_at: str | None
    test_result: dict[str, Any] | None
    masked_key: str
    created_at: str
    updated_at: str
    credential_type: str = "api_key"
    weight: int = 100
    error: str | None = None
    identifiers: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        out = asdict(self)
        out["identifiers"] = dict(self.identifiers)
        return out


def provider_key(record: CredentialRecord) -> ProviderKey:
    """The API view of a credential record."""
    result = None
    if record.last_tested_at is not None and record.test_success is not None:
        result = {
            "success": record.test_success,
            "message": record.test_message or "",
            "tested_at": iso(record.last_tested_at),
        }
    return ProviderKey(
        id=record.id,
        name=record.name,
        provider=record.provider,
        description=record.description,
        provider_organization=record.provider_organization,
        owner=record.owner,
        organization_id=record.organization_id,
        is_active=record.active,
        last_used_at=iso(record.last_used_at),
        last_tested_at=iso(record.last_tested_at),
        test_result=result,
        masked_key=record.masked,
        created_at=iso(record.created_at) or "",
        updated_at=iso(record.updated_at) or "",
        credential_type=record.credential_type,
        weight=record.weight,
        error=record.error,
        identifiers=dict(record.identifiers),
    )


@dataclass(frozen=True, slots=True)
class Provider:
    """A provider with its credentials (masked) and its model rates."""

    id: str
    name: str
    display_name: str
    base_url: str | None
    region: str | None
    enabled: bool
    created_at: str
    updated_at: str
    credentials: tuple[ProviderKey, ...] = ()
    rates: tuple[Any, ...] = ()
    api_format: str = "openai"


class SyncPaginator(Generic[T]):
    """Iterates a listing lazily, one page of ``page_size`` at a time; ``to_list()`` takes them all.

    No query runs until iteration starts; each further page is fetched when the previous one is
    used up, and iteration stops after a short page.
    """

    def __init__(
        self,
        fetch: Callable[[int, int], Sequence[T]],
        page_size: int,
        *,
        count: Callable[[], int] | None = None,
    ) -> None:
        self._fetch = fetch
        self._count = count
        self.page_size = page_size

    def __repr__(self) -> str:
        return f"SyncPaginator(page_size={self.page_size})"

    def __iter__(self) -> Iterator[T]:
        offset = 0
        while True:
            page = self._fetch(offset, self.page_size)
            yield from page
            if len(page) < self.page_size:
                return
            offset += len(page)

    def to_list(self) -> list[T]:
        """Every item, all pages fetched."""
        return list(self)

    def first_page(self) -> list[T]:
        """Only the first ``page_size`` items (one query)."""
        return list(self._fetch(0, self.page_size))

    def page(self, offset: int) -> list[T]:
        """The ``page_size`` items after the first ``offset`` (one query; the REST listing's page)."""
        return list(self._fetch(offset, self.page_size))

    def total(self) -> int | None:
        """How many items the listing has in all (one count query), or None when it cannot say."""
        return None if self._count is None else self._count()
