"""The dashboard's rollups (migration 0011): hourly sums per key owner, and latency histograms.

``request_rollups`` (the analytics API's) has no user dimension, so a member's dashboard would have
to scan records; these tables add the key's user (``key_user``; ``''`` holds everyone's sums) and
the sums only the dashboard shows: cache hits and the money they saved, fallbacks that rescued a
request, guardrail verdicts. ``dashboard_latency`` counts requests per hour, key user and latency
bin (:data:`LATENCY_BOUNDS`, 24 bins a decade: a percentile read from it is within about 5 %), so
p50/p95/p99 over any window and per hour cost one small grouped read, never a walk of 1M records.
Both are kept by the analytics writer in the transaction that inserts the records they sum.
"""

from __future__ import annotations

import bisect
import datetime as dt

from sqlalchemy import BigInteger, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base, UTCDateTime

__all__ = ["LATENCY_BOUNDS", "DashboardLatencyRow", "DashboardRollupRow", "latency_bin", "latency_of_bin"]

BINS_PER_DECADE = 24
LATENCY_BOUNDS: tuple[float, ...] = tuple(10 ** (i / BINS_PER_DECADE) for i in range(7 * BINS_PER_DECADE + 1))
"""Upper bounds (exclusive, ms) of the latency bins: 1 ms .. 10,000 s; bin 0 is under 1 ms."""


def latency_bin(latency_ms: float) -> int:
    """The histogram bin of a latency: how many bounds are at or below it."""
    return bisect.bisect_right(LATENCY_BOUNDS, latency_ms)


def latency_of_bin(index: int) -> float:
    """The value a bin stands for: its geometric middle (0.5 ms for bin 0, the last bound beyond)."""
    if index <= 0:
        return 0.5
    if index >= len(LATENCY_BOUNDS):
        return LATENCY_BOUNDS[-1]
    return float(10 ** ((index - 0.5) / BINS_PER_DECADE))


class DashboardRollupRow(Base):
    """Sums of one hour's requests per model, provider and key user (what the dashboard reads)."""

    __tablename__ = "dashboard_rollups"

    hour: Mapped[dt.datetime] = mapped_column(UTCDateTime(), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    provider: Mapped[str] = mapped_column(String(100), primary_key=True)
    key_user: Mapped[str] = mapped_column(String(200), primary_key=True)
    requests: Mapped[int] = mapped_column(Integer)
    errors: Mapped[int] = mapped_column(Integer)
    total_tokens: Mapped[int] = mapped_column(BigInteger)
    cost_usd: Mapped[float] = mapped_column(Float)
    cost_credits: Mapped[float] = mapped_column(Float)
    latency_sum: Mapped[float] = mapped_column(Float)
    ttft_sum: Mapped[float] = mapped_column(Float)
    ttft_count: Mapped[int] = mapped_column(Integer)
    cache_hits: Mapped[int] = mapped_column(Integer)
    cache_lookups: Mapped[int] = mapped_column(Integer)
    saved_usd: Mapped[float] = mapped_column(Float)
    rescued: Mapped[int] = mapped_column(Integer)
    guard_passed: Mapped[int] = mapped_column(Integer)
    guard_failed: Mapped[int] = mapped_column(Integer)
    guard_denied: Mapped[int] = mapped_column(Integer)


class DashboardLatencyRow(Base):
    """How many requests of one hour and key user fell in one latency bin."""

    __tablename__ = "dashboard_latency"

    hour: Mapped[dt.datetime] = mapped_column(UTCDateTime(), primary_key=True)
    key_user: Mapped[str] = mapped_column(String(200), primary_key=True)
    bin: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer)
