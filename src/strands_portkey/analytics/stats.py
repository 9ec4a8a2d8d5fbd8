"""What ``gw.ai.analytics`` returns, with the spec's field names (plus a few of this project's).

Entries of ``breakdown`` / ``by_model`` / ``by_provider`` / ``data`` / ``providers`` are plain
dicts, JSON-ready. Bucket timestamps are the bucket's start, ISO-8601 UTC (``2025-01-31T00:00:00Z``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "CostBreakdown",
    "PerformanceStats",
    "PromptStats",
    "ProviderStats",
    "TimeSeriesData",
    "UsageStats",
]


class _Dict:
    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)  # type: ignore[call-overload,no-any-return]


@dataclass(frozen=True, slots=True)
class UsageStats(_Dict):
    """Requests and tokens in a period; ``breakdown`` per ``granularity`` bucket."""

    total_requests: int
    total_tokens: int
    prompt_tokens: int
    completion_tokens: int
    period: str
    start_date: str | None
    end_date: str | None
    model_id: str | None
    provider: str | None
    granularity: str
    breakdown: list[dict[str, Any]] = field(default_factory=list)
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


@dataclass(frozen=True, slots=True)
class CostBreakdown(_Dict):
    """Cost in ``currency`` (USD) and credits; ``by_model`` / ``by_provider`` per ``group_by``."""

    total_cost: float
    currency: str
    period: str
    start_date: str | None
    end_date: str | None
    model_id: str | None
    provider: str | None
    group_by: str | None
    by_model: list[dict[str, Any]] = field(default_factory=list)
    by_provider: list[dict[str, Any]] = field(default_factory=list)
    total_credits: float = 0.0
    unpriced_requests: int = 0


@dataclass(frozen=True, slots=True)
class PerformanceStats(_Dict):
    """Latency (mean and nearest-rank percentiles), error rate and throughput in a period."""

    start_date: str | None
    end_date: str | None
    model_id: str | None
    provider: str | None
    avg_latency_ms: float
    p50_latency_ms: float
    p95_latency_ms: float
    p99_latency_ms: float
    error_rate: float
    throughput: float
    total_requests: int = 0
    avg_ttft_ms: float | None = None


@dataclass(frozen=True, slots=True)
class TimeSeriesData(_Dict):
    """One ``metric`` per ``granularity`` bucket: ``data`` = ``[{"timestamp", "value"}, ...]``."""

    metric: str
    granularity: str
    start_date: str | None
    end_date: str | None
    model_id: str | None
    provider: str | None
    data: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ProviderStats(_Dict):
    """Per-provider requests, errors, error rate, latency, tokens and cost in a period."""

    start_date: str | None
    end_date: str | None
    period: str
    providers: list[dict[str, Any]] = field(default_factory=list)
    total_requests: int = 0


@dataclass(frozen=True, slots=True)
class PromptStats(_Dict):
    """Per prompt version: requests, errors, error rate, mean and p50 latency, tokens and cost."""

    start_date: str | None
    end_date: str | None
    period: str
    prompt_id: str | None = None
    versions: list[dict[str, Any]] = field(default_factory=list)
    total_requests: int = 0
