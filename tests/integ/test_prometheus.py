"""Debian's Prometheus scrapes a two-worker server's ``/metrics``; its query API sees the traffic.

The test starts ``prometheus`` itself on a free loopback port with a temporary config (scrape every
second) and data directory, and a two-worker ``strands-portkey serve --no-auth`` over a real Redis
(several workers share state through it). After known traffic (chat and streamed requests through
a fallback whose first target fails), the counters Prometheus stored must be exactly the traffic:
whichever worker answered a request or a scrape, the multiprocess registry sums all of them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from _peer import free_port  # scripts/ is on pytest's pythonpath
from scripted_upstream import ScriptedUpstream, fail, ok
from tests.integ.test_cache_redis import RedisServer, _required
from tests.integ.test_server_process import HI, ServerProcess, running_server

pytestmark = pytest.mark.integ

CANARY = "sk-canary-prometheus-8080"
CHATS, STREAMS = 9, 3


class Prometheus:
    """Debian's ``prometheus`` on 127.0.0.1 scraping one target every second; stopped by its pid."""

    def __init__(self, folder: Path, target: str) -> None:
        binary = shutil.which("prometheus")
        if binary is None:
            reason = "Debian's prometheus is not installed (apt-get install prometheus; hatch run test does)"
            if _required():
                pytest.fail(f"CI requires every peer, but {reason}", pytrace=False)
            pytest.skip(reason)
        self.port = free_port()
        config = folder / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: gateway\n    metrics_path: /metrics\n"
            f"    static_configs:\n      - targets: ['{target}']\n"
        )
        self.log = folder / "prometheus.log"
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={folder / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                ],
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        pytest.fail(f"prometheus did not become ready:\n{self.log.read_text()[-2000:]}", pytrace=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def query(self, expression: str) -> float | None:
        """The value of an instant query with one result (None while it has none)."""
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": expression}, timeout=10)
        response.raise_for_status()
        results = response.json()["data"]["result"]
        return float(results[0]["value"][1]) if results else None

    def wait_for(self, expression: str, expected: float, timeout_s: float = 30.0) -> float | None:
        """Poll ``expression`` until it equals ``expected`` (or the time is up); its last value."""
        deadline = time.monotonic() + timeout_s
        value = None
        while time.monotonic() < deadline:
            value = self.query(expression)
            if value == expected:
                return value
            time.sleep(0.5)
        return value

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@pytest.fixture(scope="module")
def upstream() -> Iterator[ScriptedUpstream]:
    with ScriptedUpstream() as scripted:
        scripted.script("prom", "down", [fail(500)])
        scripted.script("prom", "up", [ok()])
        yield scripted


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    redis = RedisServer(tmp_path_factory.mktemp("redis"))
    home = tmp_path_factory.mktemp("prometheus-two-workers")
    env = {"STRANDS_PORTKEY_REDIS_URL": redis.url, "PROMETHEUS_MULTIPROC_DIR": str(home / "metrics")}
    (home / "metrics").mkdir()
    try:
        with running_server(home, ["--workers", "2"], env=env) as running:
            yield running
    finally:
        redis.stop()


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory, pair: ServerProcess) -> Iterator[Prometheus]:
    server = Prometheus(tmp_path_factory.mktemp("prometheus"), f"127.0.0.1:{pair.port}")
    yield server
    server.stop()


def _config(upstream: ScriptedUpstream) -> str:
    targets = [
        {"provider": "openai", "api_key": CANARY, "custom_host": upstream.base_url("prom", name)}
        for name in ("down", "up")
    ]
    return json.dumps({"strategy": {"mode": "fallback"}, "targets": targets})


def test_prometheus_sees_exactly_the_traffic_of_both_workers(
    pair: ServerProcess, prometheus: Prometheus, upstream: ScriptedUpstream
) -> None:
    headers = {"x-portkey-config": _config(upstream)}

    def send(n: int) -> None:
        body = {"model": "gpt-4o", "messages": HI, "stream": n % (CHATS + STREAMS) >= CHATS}
        response = httpx.post(f"{pair.url}/v1/chat/completions", json=body, headers=headers, timeout=30)
        assert response.status_code == 200, response.text

    rounds = 0
    # Which worker accepts a connection is the kernel's choice, and an idle pair of workers may
    # leave one of them every connection made one after another; requests sent at the same time
    # keep one worker busy while the other accepts. Rounds go on until both workers have written
    # samples (bounded: a spread this uneven would be a failure).
    with ThreadPoolExecutor(max_workers=8) as pool:
        while rounds < 20 and (rounds == 0 or len(list((pair.home / "metrics").glob("counter_*.db"))) < 2):
            rounds += 1
            list(pool.map(send, range(CHATS + STREAMS)))

    chats, streams = CHATS * rounds, STREAMS * rounds
    total = chats + streams
    assert prometheus.wait_for('up{job="gateway"}', 1.0) == 1.0
    requests = 'sum(strands_portkey_requests_total{status_class="2xx",option_path="config.targets[1]"})'
    assert prometheus.wait_for(requests, total) == total
    assert prometheus.wait_for("sum(strands_portkey_fallback_rescues_total)", total) == total
    failed = 'sum(gen_ai_client_operation_duration_seconds_count{error_type="ServerError"})'
    assert prometheus.wait_for(failed, total) == total
    assert (
        prometheus.wait_for("sum(gen_ai_client_operation_time_to_first_chunk_seconds_count)", streams)
        == streams
    )
    assert (
        prometheus.wait_for('sum(gen_ai_client_token_usage_count{gen_ai_token_type="input"})', chats) == chats
    )

    # every worker wrote its own samples; each scrape (of whichever worker) sums them all
    assert len(list((pair.home / "metrics").glob("counter_*.db"))) == 2
    for _ in range(4):
        text = httpx.get(f"{pair.url}/metrics", timeout=10).text
        counted = sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "strands_portkey_requests_total" and sample.labels["status_class"] == "2xx"
        )
        assert counted == total
        assert "canary" not in text
