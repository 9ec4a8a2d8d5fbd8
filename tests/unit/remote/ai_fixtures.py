"""Shared pieces of the ``gw.ai`` behaviour suite: model bodies, a scripted deployer, records.

The deployer stands in for replica processes (the lifecycle's rules are the service layer's,
under test; starting real processes is the deployer's own tests' business).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from strands_portkey.analytics.rollups import store_rows
from strands_portkey.catalog.deploy import DeploymentState, DeploySpec
from strands_portkey.controlplane import ControlPlane
from tests.unit.remote.conftest import MASTER

GOOD_KEY = "sk-good-0123456789abcdefghijklmnop"
BAD_KEY = "sk-bad-0123456789abcdefghijklmnopq"

GPT = {
    "name": "GPT-4o Mini",
    "type": "third-party",
    "provider": "openai",
    "vendor_model_id": "gpt-4o-mini",
    "model_type": "chat",
    "description": "Fast and affordable chat model",
    "capabilities": ["chat", "function_calling"],
    "max_tokens": 16384,
    "context_window": 128000,
    "config": {"default_temperature": 0.7},
}
CLAUDE = {
    "name": "Claude 3.5 Sonnet",
    "type": "third-party",
    "provider": "anthropic",
    "vendor_model_id": "claude-3-5-sonnet-20241022",
    "model_type": "chat",
}
LOCAL = {
    "name": "Local Llama",
    "type": "self-hosted",
    "provider": "local",
    "vendor_model_id": "llama-3.2-1b",
    "model_type": "completion",
    "config": {"command": [sys.executable, "-c", "pass", "{port}"], "replicas": 2},
}


@dataclass
class ScriptedDeployer:
    """A deployer whose replicas are ready as soon as they are deployed; logs are canned lines."""

    deployed: dict[str, DeploySpec] = field(default_factory=dict)

    def deploy(self, spec: DeploySpec) -> None:
        self.deployed[spec.model_id] = spec

    def stop(self, model_id: str) -> None:
        self.deployed.pop(model_id, None)

    def status(self, model_id: str) -> DeploymentState:
        spec = self.deployed.get(model_id)
        if spec is None:
            return DeploymentState("stopped", 0, 0, [])
        ready = [
            {"type": "Ready", "status": "True", "container": f"replica-{i}"} for i in range(spec.replicas)
        ]
        return DeploymentState("active", spec.replicas, spec.replicas, ready)

    def logs(
        self, model_id: str, *, lines: int | None, since: dt.datetime | None, container: str | None
    ) -> dict[str, str]:
        spec = self.deployed.get(model_id)
        names = [f"replica-{i}" for i in range(spec.replicas if spec else 0)]
        chosen = [n for n in names if container in (None, n)]
        text = ["2026-01-01T00:00:00.000000Z loading", "2026-01-01T00:00:01.000000Z ready"]
        return {name: "\n".join(text[-lines:] if lines else text) for name in chosen}

    def now(self) -> dt.datetime:
        return dt.datetime(2026, 1, 1, 1, tzinfo=dt.timezone.utc)

    def endpoints(self, model_id: str) -> list[str]:
        return []

    def close(self) -> None:
        self.deployed.clear()


def provider(request: httpx.Request) -> httpx.Response:
    """The provider behind key tests: ``sk-good...`` keys list models, others are refused."""
    presented = request.headers.get("authorization", "").removeprefix("Bearer ") or request.headers.get(
        "x-api-key", ""
    )
    if presented.startswith("sk-good"):
        return httpx.Response(200, json={"object": "list", "data": [{"id": "gpt-4o"}]})
    return httpx.Response(401, json={"error": {"message": "Incorrect API key provided"}})


def record(
    index: int, when: str, *, user: str, model: str, provider: str, latency: float, **extra: Any
) -> dict[str, Any]:
    """A complete ``request_records`` row."""
    row: dict[str, Any] = {
        "id": f"r{index:08d}",
        "created_at": dt.datetime.fromisoformat(when).replace(tzinfo=dt.timezone.utc),
        "trace_id": f"t{index}",
        "request_metadata": None,
        "user": user,
        "model_id": model,
        "requested_model": model,
        "served_model": model,
        "provider": provider,
        "credential_id": None,
        "option_path": "config",
        "status": "success",
        "status_code": 200,
        "error_type": None,
        "retries": 0,
        "latency_ms": latency,
        "ttft_ms": None,
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "total_tokens": 15,
        "cost_usd": 0.01,
        "cost_credits": 10.0,
        "cache_status": "DISABLED",
        "streamed": False,
    }
    row.update(extra)
    return row


RECORDS = [
    record(0, "2025-01-10 10:00:00", user="ana", model="gpt-4o", provider="openai", latency=100.0),
    record(
        1, "2025-01-10 11:30:00", user="ana", model="gpt-4o", provider="openai", latency=300.0, status="error"
    ),
    record(2, "2025-01-12 09:00:00", user="bob", model="claude", provider="anthropic", latency=200.0),
    record(3, "2025-01-20 12:00:00", user="bob", model="claude", provider="anthropic", latency=400.0),
    record(4, "2025-02-02 08:00:00", user="ana", model="claude", provider="anthropic", latency=500.0),
]


def seed_records(plane: ControlPlane) -> None:
    """Write :data:`RECORDS` (ana's and bob's requests) with their hourly rollups."""
    with plane.store.transaction() as session:
        store_rows(session, RECORDS)


@pytest.fixture
def plane(tmp_path: Path) -> Iterator[ControlPlane]:
    """The suite's control plane: user ``ana``, keys validated against :func:`provider`, scripted replicas."""
    found = ControlPlane(
        f"sqlite:///{tmp_path / 'remote.db'}",
        env={"STRANDS_PORTKEY_HOME": str(tmp_path), "STRANDS_PORTKEY_USER": "ana"},
        validate_credentials=True,
        transport=httpx.MockTransport(provider),
        refresh_interval=None,
        master_key=MASTER,
    )
    found._deployer = ScriptedDeployer()  # type: ignore[assignment]
    yield found
    found.close()
