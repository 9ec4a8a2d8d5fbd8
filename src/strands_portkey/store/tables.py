"""The control plane's tables (SQLAlchemy 2 declarative). Alembic migrations create them.

Secrets live only in ``credentials.ciphertext`` (AES-256-GCM, see :mod:`strands_portkey.vault.crypto`);
identifiers such as an AWS ``access_key_id`` sit in clear in ``identifiers``, and ``masked`` holds
the display form computed when the secret was written. Timestamps are stored as naive UTC and read
back as aware UTC, the same on SQLite and PostgreSQL. Rates are exact decimals: ``NUMERIC(20, 10)``
on PostgreSQL, decimal text on SQLite (whose numbers are binary floats).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import DateTime, TypeDecorator, TypeEngine

__all__ = [
    "AIModelRow",
    "ApiKeyRow",
    "Base",
    "CredentialRow",
    "ExactDecimal",
    "ModelRateRow",
    "ProviderRow",
    "RequestRecordRow",
    "RequestRollupRow",
    "SavedConfigRow",
    "SavedConfigVersionRow",
    "StoreRevisionRow",
    "UTCDateTime",
    "utcnow",
]

RATE_DECIMALS = 10


def utcnow() -> dt.datetime:
    """The current time, aware UTC, at millisecond precision (what the API shows)."""
    now = dt.datetime.now(dt.timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes, stored naive UTC so both databases compare them the same way."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """See SQLAlchemy's TypeDecorator."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        """See SQLAlchemy's TypeDecorator."""
        if value is None:
            return None
        when: dt.datetime = value
        return when.replace(tzinfo=dt.timezone.utc) if when.tzinfo is None else when


class ExactDecimal(TypeDecorator[Decimal]):
    """A decimal with 10 places: NUMERIC(20, 10) on PostgreSQL, exact text elsewhere."""

    impl = String(40)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """See SQLAlchemy's TypeDecorator."""
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(20, RATE_DECIMALS, asdecimal=True))
        return dialect.type_descriptor(String(40))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        """See SQLAlchemy's TypeDecorator."""
        if value is None:
            return None
        exact = Decimal(value).quantize(Decimal(1).scaleb(-RATE_DECIMALS))
        return exact if dialect.name == "postgresql" else format(exact, "f")

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """See SQLAlchemy's TypeDecorator."""
        if value is None:
            return None
        return Decimal(str(value)).quantize(Decimal(1).scaleb(-RATE_DECIMALS))


class Base(DeclarativeBase):
    """Declarative base of the control plane's tables."""


class ProviderRow(Base):
    """An AI provider: where it lives, whether it serves."""

    __tablename__ = "providers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    base_url: Mapped[str | None] = mapped_column(String(500))
    region: Mapped[str | None] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    api_format: Mapped[str | None] = mapped_column(String(40))  # None: the default (see v0005)

    credentials: Mapped[list[CredentialRow]] = relationship(
        back_populates="provider",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="CredentialRow.created_at",
    )
    rates: Mapped[list[ModelRateRow]] = relationship(
        back_populates="provider",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ModelRateRow.model",
    )


class CredentialRow(Base):
    """One credential of a provider (a "provider key"); the secret part encrypted."""

    __tablename__ = "credentials"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    credential_type: Mapped[str] = mapped_column(String(20))
    identifiers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    masked: Mapped[str] = mapped_column(String(200))
    master_key_id: Mapped[str] = mapped_column(String(32))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    weight: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(default=True)
    error: Mapped[str | None] = mapped_column(Text)
    provider_organization: Mapped[str | None] = mapped_column(String(200))
    owner: Mapped[str | None] = mapped_column(String(200))
    organization_id: Mapped[str | None] = mapped_column(String(200))
    usage_count: Mapped[int] = mapped_column(Integer, default=0)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_tested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    test_success: Mapped[bool | None] = mapped_column()
    test_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    provider: Mapped[ProviderRow] = relationship(back_populates="credentials")

    def __repr__(self) -> str:
        return f"CredentialRow(id={self.id!r}, name={self.name!r}, masked={self.masked!r})"


class ModelRateRow(Base):
    """What a model costs at a provider: credits per token, USD per token, metadata."""

    __tablename__ = "model_rates"
    __table_args__ = (
        UniqueConstraint("provider_id", "model", "type", name="uq_model_rates_provider_model_type"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"), index=True)
    model: Mapped[str] = mapped_column(String(200), index=True)
    type: Mapped[str] = mapped_column(String(40))
    input_rate: Mapped[Decimal] = mapped_column(ExactDecimal())
    output_rate: Mapped[Decimal] = mapped_column(ExactDecimal())
    cache_read_rate: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    cache_write_rate: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    unit_costs: Mapped[dict[str, str] | None] = mapped_column(JSON)
    model_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    provider: Mapped[ProviderRow] = relationship(back_populates="rates")


# --- analytics (issue 7) ---


class RequestRecordRow(Base):
    """One gateway request (analytics): route, outcome, timings, tokens, cost. Never a secret.

    Costs are binary floats (summed by the database); the exact per-request amounts come from
    :mod:`strands_portkey.catalog.billing`. Indexes serve the analytics queries: every query
    filters on ``created_at``; percentiles walk ``latency_ms`` in order (after ``model_id`` or
    ``provider`` when filtered), reading ``created_at`` from the same index.
    """

    __tablename__ = "request_records"
    __table_args__ = (
        Index("ix_request_records_created_at", "created_at"),
        Index("ix_request_records_latency", "latency_ms", "created_at"),
        Index("ix_request_records_model_latency", "model_id", "latency_ms", "created_at"),
        Index("ix_request_records_provider_latency", "provider", "latency_ms", "created_at"),
        Index("ix_request_records_user_latency", "user", "latency_ms", "created_at"),  # 0010
        Index("ix_request_records_prompt", "prompt_id", "prompt_version", "created_at"),
        Index("ix_request_records_key_user", "key_user", "created_at"),
        Index("ix_request_records_model_time", "model_id", "created_at"),
        Index("ix_request_records_provider_time", "provider", "created_at"),
        Index("ix_request_records_trace", "trace_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    trace_id: Mapped[str] = mapped_column(String(200))
    request_metadata: Mapped[dict[str, str] | None] = mapped_column(JSON)
    user: Mapped[str | None] = mapped_column(String(200))
    model_id: Mapped[str] = mapped_column(String(200))
    requested_model: Mapped[str] = mapped_column(String(200))
    served_model: Mapped[str | None] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(100))
    credential_id: Mapped[str | None] = mapped_column(String(40))
    option_path: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error_type: Mapped[str | None] = mapped_column(String(100))
    retries: Mapped[int] = mapped_column(Integer)
    latency_ms: Mapped[float] = mapped_column(Float)
    ttft_ms: Mapped[float | None] = mapped_column(Float)
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    cache_read_tokens: Mapped[int] = mapped_column(Integer)
    cache_write_tokens: Mapped[int] = mapped_column(Integer)
    total_tokens: Mapped[int] = mapped_column(Integer)
    cost_usd: Mapped[float | None] = mapped_column(Float)
    cost_credits: Mapped[float | None] = mapped_column(Float)
    cache_status: Mapped[str] = mapped_column(String(20))
    streamed: Mapped[bool] = mapped_column()
    prompt_id: Mapped[str | None] = mapped_column(String(40))  # a request made through a prompt (0008)
    prompt_version: Mapped[int | None] = mapped_column(Integer)
    # who made it and how it was served, for the dashboard (0011; None on older rows)
    api_key_id: Mapped[str | None] = mapped_column(String(40))
    key_user: Mapped[str | None] = mapped_column(String(200))
    organization_id: Mapped[str | None] = mapped_column(String(200))
    saved_usd: Mapped[float | None] = mapped_column(Float)
    route_detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    rescued: Mapped[bool | None] = mapped_column()  # succeeded on a fallback after another leaf failed
    guard_verdict: Mapped[str | None] = mapped_column(String(10))  # none, passed, failed, denied


class RequestRollupRow(Base):
    """Sums of the request records of one hour, model and provider (what most analytics read).

    Kept by the analytics writer in the same transaction as the records it sums, so the two
    never disagree; hour-aligned queries read these rows instead of scanning every record.
    """

    __tablename__ = "request_rollups"

    hour: Mapped[dt.datetime] = mapped_column(UTCDateTime(), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    provider: Mapped[str] = mapped_column(String(100), primary_key=True)
    requests: Mapped[int] = mapped_column(Integer)
    errors: Mapped[int] = mapped_column(Integer)
    prompt_tokens: Mapped[int] = mapped_column(BigInteger)
    completion_tokens: Mapped[int] = mapped_column(BigInteger)
    cache_read_tokens: Mapped[int] = mapped_column(BigInteger)
    cache_write_tokens: Mapped[int] = mapped_column(BigInteger)
    total_tokens: Mapped[int] = mapped_column(BigInteger)
    cost_usd: Mapped[float] = mapped_column(Float)
    cost_credits: Mapped[float] = mapped_column(Float)
    priced: Mapped[int] = mapped_column(Integer)
    latency_sum: Mapped[float] = mapped_column(Float)
    ttft_sum: Mapped[float] = mapped_column(Float)
    ttft_count: Mapped[int] = mapped_column(Integer)


# --- AI model registry (issue 7) ---


class AIModelRow(Base):
    """A registered AI model: where it runs, what it can do, its defaults, who may use it."""

    __tablename__ = "ai_models"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(20), index=True)
    provider: Mapped[str] = mapped_column(String(100), index=True)
    vendor_model_id: Mapped[str] = mapped_column(String(200))
    model_type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    capabilities: Mapped[list[str]] = mapped_column(JSON)
    max_tokens: Mapped[int | None] = mapped_column(Integer)
    context_window: Mapped[int | None] = mapped_column(Integer)
    owner: Mapped[str] = mapped_column(String(200))
    organization_id: Mapped[str] = mapped_column(String(200))
    is_shared: Mapped[bool] = mapped_column()
    shared_with: Mapped[list[str]] = mapped_column(JSON)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# --- gateway API keys (issue 15) ---


class ApiKeyRow(Base):
    """A gateway API key (``spk-...``): stored as a keyed hash, never the key itself.

    ``lookup`` is the public part of the key (after ``spk-``), indexed so authenticating is one
    lookup; ``digest`` is HMAC-SHA256 of the whole key under a key derived from the master key
    ``master_key_id``. ``hint`` is the key's last four characters, for display.
    """

    __tablename__ = "gateway_api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    lookup: Mapped[str] = mapped_column(String(32), unique=True)
    digest: Mapped[str] = mapped_column(String(64))
    master_key_id: Mapped[str] = mapped_column(String(32))
    hint: Mapped[str] = mapped_column(String(8))
    user: Mapped[str] = mapped_column(String(200), index=True)
    organization_id: Mapped[str] = mapped_column(String(200), index=True)
    role: Mapped[str] = mapped_column(String(20))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    allowed_models: Mapped[list[str] | None] = mapped_column(JSON)
    allowed_configs: Mapped[list[str] | None] = mapped_column(JSON)
    default_config: Mapped[str | None] = mapped_column(String(40))
    rate_limits: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    usage_limits: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    rotated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"ApiKeyRow(id={self.id!r}, name={self.name!r}, hint={self.hint!r})"


# --- saved configs (issue 15) ---


class SavedConfigRow(Base):
    """A saved config (``pc-...``): a name and its immutable versions; ``version`` is the current one."""

    __tablename__ = "saved_configs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    owner: Mapped[str] = mapped_column(String(200))
    organization_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    versions: Mapped[list[SavedConfigVersionRow]] = relationship(
        back_populates="saved_config",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="SavedConfigVersionRow.version",
    )


class SavedConfigVersionRow(Base):
    """One version of a saved config: written once, never changed (an update adds a version)."""

    __tablename__ = "saved_config_versions"

    config_id: Mapped[str] = mapped_column(
        ForeignKey("saved_configs.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    saved_config: Mapped[SavedConfigRow] = relationship(back_populates="versions")


# --- cross-process freshness ---


class StoreRevisionRow(Base):
    """One row: a counter bumped by every control-plane change, so other processes know to reload."""

    __tablename__ = "store_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(BigInteger)
