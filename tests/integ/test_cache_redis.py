"""The cache on a real Redis (Debian's redis-server, started on 127.0.0.1 on a free port).

Two gateway *processes* share one Redis: an answer one of them stored is served to the other,
exactly and semantically (with the real MiniLM embedder in each). Redis going away mid-run never
fails a request. Skipped with the reason when redis-server is not installed, except under
STRANDS_PORTKEY_REQUIRE_LOCAL_MODEL=1 (CI installs it with apt-get), where that is a failure.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _peer import free_port  # scripts/ is on pytest's pythonpath
from scripted_upstream import ScriptedUpstream, ok  # scripts/ is on pytest's pythonpath
from strands_portkey import Gateway
from strands_portkey.cache.embedders import MiniLMEmbedder
from strands_portkey.cache.redis import RedisStore
from strands_portkey.cache.semantic import SemanticSettings

pytestmark = pytest.mark.integ

REQUIRE_ENV = "STRANDS_PORTKEY_REQUIRE_LOCAL_MODEL"
QUESTION = "What is the capital of France?"
PARAPHRASE = "Which city is France's capital?"
NEAR_MISS = "What is the capital of Germany?"


def _required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


class RedisServer:
    """redis-server on 127.0.0.1, no persistence, in a temporary folder; stopped by its pid."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            reason = "redis-server is not installed (apt-get install redis-server)"
            if _required():
                pytest.fail(f"{REQUIRE_ENV}=1 but {reason}; CI installs it in .ci/run", pytrace=False)
            pytest.skip(reason)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        args = [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            [*args, "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        pytest.fail(f"redis-server did not answer on 127.0.0.1:{self.port} within 10 s", pytrace=False)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def upstream() -> Iterator[ScriptedUpstream]:
    with ScriptedUpstream() as server:
        yield server


def config(base_url: str) -> dict[str, Any]:
    return {
        "provider": "openai",
        "api_key": "sk-redis-canary-0042",
        "custom_host": base_url,
        "cache": {"mode": "semantic", "max_age": 600},
    }


def body(question: str) -> dict[str, Any]:
    return {
        "model": "m",
        "messages": [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": question}],
    }


WORKER = textwrap.dedent(
    """
    import asyncio, json, sys
    from strands_portkey import Gateway
    from strands_portkey.cache.redis import RedisStore
    from strands_portkey.cache.semantic import SemanticSettings

    async def main():
        url, config, steps = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
        store = RedisStore(url, prefix=sys.argv[4])
        gw = Gateway(config, cache_store=store, semantic_cache=SemanticSettings())
        for question, streamed in steps:
            body = {"model": "m", "messages": [{"role": "system", "content": "Answer briefly."},
                                              {"role": "user", "content": question}]}
            if streamed:
                async with gw.stream(body) as stream:
                    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
                status = stream.route.cache_status
            else:
                response = await gw.chat(body)
                text, status = response.text, response.route.cache_status
            print(json.dumps([question, streamed, status, text]), flush=True)
        await gw.aclose()
        await store.aclose()

    asyncio.run(main())
    """
)


def run_worker(
    tmp_path: Path, redis_url: str, base_url: str, steps: list[tuple[str, bool]], prefix: str
) -> list[list[Any]]:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    completed = subprocess.run(
        [sys.executable, str(script), redis_url, json.dumps(config(base_url)), json.dumps(steps), prefix],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "sk-redis-canary" not in completed.stdout + completed.stderr
    return [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("[")]


def test_an_entry_written_by_one_gateway_process_is_served_to_another(
    redis_server: RedisServer, upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    upstream.script("two-processes", "a", [ok()])
    base_url = upstream.base_url("two-processes", "a")
    writer = run_worker(tmp_path, redis_server.url, base_url, [(QUESTION, False)], "two:")
    reader = run_worker(
        tmp_path,
        redis_server.url,
        base_url,
        [(QUESTION, False), (PARAPHRASE, False), (PARAPHRASE, True), (NEAR_MISS, False)],
        "two:",
    )
    assert [row[2] for row in writer] == ["SEMANTIC MISS"]
    assert [row[2] for row in reader] == ["HIT", "SEMANTIC HIT", "SEMANTIC HIT", "SEMANTIC MISS"]
    assert {row[3] for row in reader[:3]} == {writer[0][3]}
    assert len(upstream.calls("two-processes")) == 2  # the writer's question and the reader's near-miss


async def test_the_store_and_its_vector_log_on_redis(redis_server: RedisServer) -> None:
    store = RedisStore(redis_server.url, prefix="unit:")
    try:
        await store.set("k", b"v", 60)
        assert await store.get("k") == b"v"
        assert await store.get("missing") is None
        await store.set("short", b"v", 0.05)
        await asyncio.sleep(0.2)
        assert await store.get("short") is None
        assert await store.read_vectors("s", 0) == (0, [], False)
        await store.append_vector("s", b"r1", 60)
        await store.append_vector("s", b"r2", 60)
        assert await store.read_vectors("s", 0) == (2, [b"r1", b"r2"], False)
        assert await store.read_vectors("s", 1) == (2, [b"r2"], False)
        assert await store.read_vectors("s", 5) == (2, [b"r1", b"r2"], True)  # the list started over
    finally:
        await store.aclose()


async def test_redis_going_away_mid_run_serves_from_the_provider_and_logs_once(
    upstream: ScriptedUpstream, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    upstream.script("redis-gone", "a", [ok()])
    server = RedisServer(tmp_path)
    store = RedisStore(server.url, prefix="gone:", timeout_s=0.5)
    embedder = MiniLMEmbedder()
    gw = Gateway(
        config(upstream.base_url("redis-gone", "a")),
        cache_store=store,
        semantic_cache=SemanticSettings(embedder=embedder),
    )
    try:
        await gw.chat(body(QUESTION))
        hit = await gw.chat(body(PARAPHRASE))
        assert hit.route is not None
        assert hit.route.cache_status == "SEMANTIC HIT"
        server.stop()
        with caplog.at_level(logging.WARNING, logger="strands_portkey.cache"):
            for question in (QUESTION, PARAPHRASE, NEAR_MISS):
                response = await gw.chat(body(question))
                assert response.text == "ok from a"
                async with gw.stream(body(question)) as stream:
                    assert [c async for c in stream]
        assert len(upstream.calls("redis-gone")) == 7
        warnings = [r for r in caplog.records if r.name == "strands_portkey.cache"]
        assert len(warnings) == 1
        assert "redis" in warnings[0].getMessage()
    finally:
        server.stop()
        await gw.aclose()
        await store.aclose()
