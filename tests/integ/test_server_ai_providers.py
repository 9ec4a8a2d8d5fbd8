"""The AI Providers API on a real server process: the seed's ``curl | jq`` health check run as
written, and test-models' limit (5 per 10 minutes per user) held across two workers.

The server runs with gateway keys (an admin key from ``STRANDS_PORTKEY_ADMIN_KEY``) and key
validation off (no provider is reachable from here). curl and jq are the machine's own (the peer
step of ``hatch run test`` installs them); the two-worker server shares its state through a real
``redis-server`` on loopback.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from strands_portkey.errors import LimitsUnavailableError
from strands_portkey.limits.redis_windows import RedisWindows
from tests.integ.test_cache_redis import REQUIRE_ENV, RedisServer, _required
from tests.integ.test_server_process import ServerProcess, running_server

pytestmark = pytest.mark.integ

MASTER = base64.urlsafe_b64encode(bytes(range(2, 34))).decode()
ADMIN = "spk-canary-admin-providers-0123456789abcdefghijklmn"
SEED_CHECK = (
    "curl -s http://localhost:3030/api/ai-providers/health | jq '.providers[].[] | select(.running == false)'"
)
"""The seed's alert check, word for word (its host and port are replaced by the server's)."""
JQ_16_CHECK = SEED_CHECK.replace(".providers[].[]", ".providers[][]")
"""The same filter in the syntax jq 1.6 reads (``.[].[]`` needs jq 1.7 or later)."""


def _env(redis_url: str | None = None) -> dict[str, str]:
    env = {"STRANDS_PORTKEY_MASTER_KEY": MASTER, "STRANDS_PORTKEY_ADMIN_KEY": ADMIN}
    if redis_url:
        env["STRANDS_PORTKEY_REDIS_URL"] = redis_url
    return env


def _call(server: ServerProcess, method: str, path: str, json: Any = None) -> httpx.Response:
    # a new connection per call, so the calls of a two-worker server reach both workers
    headers = {"x-portkey-api-key": ADMIN}
    return httpx.request(method, f"{server.url}{path}", json=json, headers=headers, timeout=30)


def _jq_version() -> tuple[int, int] | None:
    if shutil.which("jq") is None:
        return None
    found = re.search(
        r"(\d+)\.(\d+)",
        subprocess.run(["jq", "--version"], capture_output=True, text=True, check=False).stdout,
    )
    return (int(found[1]), int(found[2])) if found else None


def _shell(line: str, server: ServerProcess) -> str:
    line = line.replace("http://localhost:3030", server.url)
    done = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    if shutil.which("curl") is None or _jq_version() is None:
        reason = "curl and jq are needed (hatch run test installs them: apt-get install curl jq)"
        if _required():
            pytest.fail(f"{REQUIRE_ENV}=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    with running_server(tmp_path_factory.mktemp("providers"), env=_env(), no_auth=False) as running:
        yield running


@pytest.fixture(scope="module")
def one_key_down(server: ServerProcess) -> ServerProcess:
    """openai with two keys, both running (checked: the alert says nothing), then one paused."""
    made = _call(server, "POST", "/api/ai-providers", {"name": "openai", "displayName": "OpenAI"})
    assert made.status_code == 201, made.text
    ids = {}
    for name in ("Primary Key", "Secondary Key"):
        body = {"name": name, "value": f"sk-{name[:3].lower()}-0123456789abcdef", "credentialType": "api_key"}
        created = _call(server, "POST", "/api/ai-providers/openai/credentials", body)
        assert created.status_code == 201, created.text
        ids[name] = created.json()["id"]
    assert _shell(JQ_16_CHECK, server) == ""  # every key running: no output, no alert
    paused = _call(
        server, "PUT", f"/api/ai-providers/openai/credentials/{ids['Secondary Key']}", {"active": False}
    )
    assert paused.status_code == 200
    return server


def test_health_is_public_and_shows_the_paused_key(one_key_down: ServerProcess) -> None:
    health = httpx.get(f"{one_key_down.url}/api/ai-providers/health")  # no key
    assert health.status_code == 200
    assert health.json()["providers"] == {
        "openai": {"Primary Key": {"running": True}, "Secondary Key": {"running": False}}
    }


def test_the_health_check_in_jq_16_syntax_alerts(one_key_down: ServerProcess) -> None:
    assert _shell(JQ_16_CHECK, one_key_down) == '{\n  "running": false\n}\n'


_JQ_SHIM = """#!{python}
# jq for this test: the jq library (PyPI 'jq', libjq 1.7+) where Debian 12's jq is 1.6
import json, sys
import jq
for value in jq.compile(sys.argv[1]).input_text(sys.stdin.read()).all():
    print(json.dumps(value, indent=2, ensure_ascii=False))
"""


def _jq_17(tmp_path: Path) -> str:
    """A PATH whose ``jq`` reads jq 1.7 syntax: the machine's own when it is 1.7+, else libjq's."""
    version = _jq_version()
    if version is not None and version >= (1, 7):
        return os.environ["PATH"]
    shim = tmp_path / "bin" / "jq"
    shim.parent.mkdir()
    shim.write_text(_JQ_SHIM.format(python=sys.executable), encoding="utf-8")
    shim.chmod(0o755)
    return f"{shim.parent}{os.pathsep}{os.environ['PATH']}"


def test_the_seeds_health_check_as_written_alerts(one_key_down: ServerProcess, tmp_path: Path) -> None:
    line = SEED_CHECK.replace("http://localhost:3030", one_key_down.url)  # the line, word for word
    env = {**os.environ, "PATH": _jq_17(tmp_path)}
    done = subprocess.run(
        ["bash", "-c", line], capture_output=True, text=True, timeout=60, check=False, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == '{\n  "running": false\n}\n'


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    redis = RedisServer(tmp_path_factory.mktemp("redis-providers"))
    try:
        yield redis
    finally:
        redis.stop()


def test_the_test_models_limit_holds_across_two_workers(tmp_path: Path, redis_server: RedisServer) -> None:
    env = _env(redis_server.url)
    with running_server(tmp_path / "two", args=("--workers", "2"), env=env, no_auth=False) as server:
        answers = [_call(server, "GET", "/api/ai-providers/test-models") for _ in range(6)]
        jobs = [
            _call(server, "GET", f"/api/ai-providers/test-models/{a.json()['jobId']}") for a in answers[:5]
        ]
    # every job is readable from either worker (recorded in the shared store)
    assert [j.status_code for j in jobs] == [200] * 5
    assert len({j.json()["user"] for j in jobs}) == 1  # the admin key's user (the bootstrap key: local)
    assert [a.status_code for a in answers] == [202] * 5 + [429], [a.text for a in answers]
    refused = answers[-1]
    wait = int(refused.headers["retry-after"])
    assert 580 <= wait <= 600
    assert refused.json()["retryAfter"] == wait
    assert len({a.json()["jobId"] for a in answers[:5]}) == 5


def test_redis_windows_count_for_every_client_and_fail_closed(redis_server: RedisServer) -> None:
    first, second = RedisWindows(redis_server.url, prefix="t1:"), RedisWindows(redis_server.url, prefix="t1:")
    assert [w.take("u", limit=3, window_s=60) for w in (first, second, first)] == [None, None, None]
    wait = second.take("u", limit=3, window_s=60)
    assert wait is not None
    assert 59 <= wait <= 60
    assert first.take("other", limit=3, window_s=60) is None
    short = RedisWindows(redis_server.url, prefix="t2:")
    assert short.take("u", limit=1, window_s=0.2) is None
    assert short.take("u", limit=1, window_s=0.2) is not None
    time.sleep(0.3)  # the window's key expires on Redis's clock
    assert short.take("u", limit=1, window_s=0.2) is None
    gone = RedisWindows("redis://127.0.0.1:1/0", timeout_s=0.2)
    with pytest.raises(LimitsUnavailableError):
        gone.take("u", limit=1, window_s=60)
