"""``strands-portkey`` as a person or a script runs it: the console script in its own process.

Against a real store (SQLite file), next to a real server process sharing that store (the
analytics of requests it served), a self-hosted model whose replica runs in the foreground, and
``--server`` pointing at a port nothing listens on. stdout must be pure JSON with ``--json`` (no
rich markup, no log line); failures one ``error:`` line on stderr and a meaningful exit code.
"""

from __future__ import annotations

import base64
import http.server
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from _peer import free_port  # scripts/ is on pytest's pythonpath
from scripted_upstream import ScriptedUpstream, ok
from tests.integ.test_server_process import HI, command, running_server, server_env

pytestmark = pytest.mark.integ

MASTER = base64.urlsafe_b64encode(bytes(range(2, 34))).decode()
ADMIN = "spk-cli-admin-0123456789abcdefghijklmnopqrstuvwx"


def cli(
    home: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the console script on the store of ``home`` (the same environment a server there gets)."""
    extra = {"STRANDS_PORTKEY_MASTER_KEY": MASTER, "COLUMNS": "120", **(env or {})}
    return subprocess.run(
        [*command(), *args],
        env=server_env(home, extra),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def one_error(done: subprocess.CompletedProcess[str], code: int, says: str) -> None:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == code, (done.returncode, done.stderr)
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    assert says in lines[0]


def as_json(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # the whole of stdout: nothing else may be printed there


@pytest.fixture(scope="module")
def upstream() -> Iterator[ScriptedUpstream]:
    with ScriptedUpstream() as scripted:
        yield scripted


def test_commands_in_their_own_process(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    applied = as_json(cli(home, "db", "upgrade", "--json"))["applied"]
    assert applied[0] == "0001"
    assert as_json(cli(home, "db", "status", "--json"))["pending"] == []
    added = as_json(cli(home, "provider-keys", "add", "openai", "--name", "oa", "--key", "-", "--json",
                        stdin="sk-integration-0123456789\n"))  # fmt: skip
    listed = cli(home, "provider-keys", "list", "--json")
    assert [key["id"] for key in as_json(listed)] == [added["id"]]
    assert "sk-integration-0123456789" not in listed.stdout + listed.stderr
    (tmp_path / "bad.json").write_text(json.dumps({"targets": [{"provider": "openai", "weight": "x"}]}))
    one_error(cli(home, "configs", "validate", str(tmp_path / "bad.json")), 2, "config.targets[0].weight")
    one_error(cli(home, "models", "show", "aim-nope"), 3, "aim-nope")
    one_error(cli(home, "provider-keys", "test", "nope"), 3, "nope")
    started = time.perf_counter()
    assert cli(home, "--help").returncode == 0
    assert time.perf_counter() - started < 10  # the figure is in benchmarks/cli_start.py; this only bounds it


def test_analytics_of_requests_a_real_server_served(tmp_path: Path, upstream: ScriptedUpstream) -> None:
    upstream.script("cli", "a", [ok()])
    home = tmp_path / "server"
    with running_server(home, env={"STRANDS_PORTKEY_MASTER_KEY": MASTER}) as running:
        headers = {"x-portkey-provider": "openai", "x-portkey-custom-host": upstream.base_url("cli", "a")}
        for _ in range(3):
            answer = httpx.post(
                f"{running.url}/v1/chat/completions",
                json={"model": "m", "messages": HI},
                headers=headers,
                timeout=30,
            )
            assert answer.status_code == 200, answer.text
        deadline = time.monotonic() + 10
        usage: dict[str, Any] = {}
        while time.monotonic() < deadline:  # the server writes its records every 0.2 s
            usage = as_json(cli(home, "analytics", "usage", "--json"))
            if usage["total_requests"] == 3:
                break
            time.sleep(0.3)
        assert usage["total_requests"] == 3
        providers = as_json(cli(home, "analytics", "providers", "--json"))
        assert [(p["provider"], p["requests"]) for p in providers["providers"]] == [("openai", 3)]
        table = cli(home, "analytics", "usage")
        assert table.returncode == 0
        assert "requests" in table.stdout
        assert as_json(cli(home, "analytics", "performance", "--json"))["total_requests"] == 3


def test_a_self_hosted_model_runs_in_the_foreground_with_its_logs(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    replica = [
        sys.executable,
        "-c",
        "print('hello from the replica', flush=True); import time; time.sleep(60)",
    ]
    body = {"name": "echo", "type": "self-hosted", "provider": "local", "vendor_model_id": "echo",
            "config": {"command": replica}}  # fmt: skip
    as_json(cli(home, "models", "add", json.dumps(body), "--json"))
    ran = cli(home, "models", "deploy", "echo", "--timeout", "4")
    assert ran.returncode == 0, ran.stderr
    assert "replica-0 | " in ran.stdout
    assert "hello from the replica" in ran.stdout
    assert "Ctrl-C stops them" in ran.stderr
    assert as_json(cli(home, "models", "status", "echo", "--json"))["status"] == "stopped"


def test_server_flag_with_nothing_listening_is_one_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    url = f"http://127.0.0.1:{free_port()}"
    done = cli(home, "--server", url, "models", "list", "--json")
    one_error(done, 5, "could not reach")
    assert done.stdout == ""
    one_error(cli(home, "--server", "not-a-url", "models", "list"), 2, "base_url")
    one_error(cli(home, "--server", url, "db", "status"), 2, "--server")


class _Models(http.server.BaseHTTPRequestHandler):
    """An OpenAI-compatible host that lists one model (``GET /v1/models``) for a key ``k-good``."""

    def do_GET(self) -> None:
        if self.path != "/v1/models":
            self.send_error(404)
            return
        good = self.headers.get("authorization") == "Bearer k-good-123456"
        body = json.dumps({"data": [{"id": "llama-3"}]} if good else {"error": {"message": "bad key"}})
        self.send_response(200 if good else 401)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def models_host() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Models)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_keys_are_checked_with_the_provider_and_test_models_reports_each_model(
    tmp_path: Path, models_host: str
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    validate = {"STRANDS_PORTKEY_VALIDATE_KEYS": "on"}
    as_json(cli(home, "providers", "add", "my-llm", "--base-url", models_host, "--json"))
    refused = cli(
        home, "provider-keys", "add", "my-llm", "--name", "bad", "--key", "k-bad-123456", env=validate
    )
    one_error(refused, 4, "the key was not saved")
    as_json(cli(home, "provider-keys", "add", "my-llm", "--name", "good", "--key", "k-good-123456", "--json",
                env=validate))  # fmt: skip
    tested = as_json(cli(home, "provider-keys", "test", "good", "--json"))
    assert tested["success"] is True
    for model in ("llama-3", "gone-model"):
        rate = ("--provider", "my-llm", "--input-rate", "1", "--output-rate", "1", "--json")
        as_json(cli(home, "rates", "add", model, *rate))
    checked = cli(home, "providers", "test-models", "--json")
    assert checked.returncode == 1  # one rated model is not offered any more
    results = {r["model"]: r["ok"] for r in json.loads(checked.stdout)["results"]}
    assert results == {"llama-3": True, "gone-model": False}
    assert "testing models: done in" in checked.stderr


@pytest.fixture(scope="module")
def remote_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server with gateway keys on (the admin key ``ADMIN``); its URL."""
    home = tmp_path_factory.mktemp("remote")
    env = {"STRANDS_PORTKEY_MASTER_KEY": MASTER, "STRANDS_PORTKEY_ADMIN_KEY": ADMIN}
    with running_server(home, env=env, no_auth=False) as running:
        yield running.url


def _remote(url: str, here: Path, *args: str, key: str = ADMIN) -> subprocess.CompletedProcess[str]:
    """The CLI on another machine's point of view: ``here`` has no store; everything goes to ``url``."""
    return cli(here, "--server", url, "--api-key", key, *args)


def test_keys_through_a_real_server(remote_server: str, tmp_path: Path) -> None:
    created = as_json(_remote(remote_server, tmp_path, "keys", "create", "--name", "ci", "--model", "gpt-4o",
                              "--json"))  # fmt: skip
    assert created["key"].startswith("spk-")
    assert created["allowed_models"] == ["gpt-4o"]
    listed = _remote(remote_server, tmp_path, "keys", "list", "--json")
    assert created["id"] in [key["id"] for key in as_json(listed)]
    assert created["key"] not in listed.stdout
    rotated = as_json(_remote(remote_server, tmp_path, "keys", "rotate", created["id"], "--json"))
    assert (rotated["id"], rotated["key"] != created["key"]) == (created["id"], True)
    one_error(_remote(remote_server, tmp_path, "keys", "list", key=created["key"]), 4, "")  # the old secret
    member = _remote(
        remote_server, tmp_path, "keys", "create", "--name", "x", "--role", "admin", key=rotated["key"]
    )
    assert member.returncode in (2, 4), member.stderr  # a member key cannot mint an admin key
    assert len([line for line in member.stderr.splitlines() if line.strip()]) == 1
    revoked = as_json(_remote(remote_server, tmp_path, "keys", "revoke", created["id"], "--json"))
    assert revoked["status"] == "revoked"
    one_error(_remote(remote_server, tmp_path, "keys", "revoke", "ak-nope"), 3, "ak-nope")
    bad_limits = ("--rate-limits", '[{"type": 1}]')
    one_error(
        _remote(remote_server, tmp_path, "keys", "create", "--name", "x", *bad_limits), 2, "rate_limits[0]"
    )
    assert not (tmp_path / "server.db").exists()  # nothing local was opened


def test_saved_configs_through_a_real_server(remote_server: str, tmp_path: Path) -> None:
    file = tmp_path / "config.json"
    file.write_text(json.dumps({"strategy": {"mode": "fallback"}, "targets": [{"virtual_key": "a"}]}))
    saved = as_json(
        _remote(remote_server, tmp_path, "configs", "save", str(file), "--name", "remote", "--json")
    )
    two = [{"virtual_key": "a"}, {"virtual_key": "b"}]
    file.write_text(json.dumps({"strategy": {"mode": "fallback"}, "targets": two}))
    updated = as_json(
        _remote(remote_server, tmp_path, "configs", "save", str(file), "--id", saved["id"], "--json")
    )
    assert updated["version"] == 2
    listed = as_json(_remote(remote_server, tmp_path, "configs", "list", "--json"))
    assert [(c["id"], c["version"]) for c in listed if c["name"] == "remote"] == [(saved["id"], 2)]
    first = as_json(
        _remote(remote_server, tmp_path, "configs", "show", saved["id"], "--version", "1", "--json")
    )
    assert len(first["config"]["targets"]) == 1
    plan = as_json(_remote(remote_server, tmp_path, "configs", "explain", saved["id"], "--json"))["plan"]
    assert [t["virtual_key"] for t in plan["targets"]] == ["a", "b"]
    one_error(_remote(remote_server, tmp_path, "configs", "show", "pc-nope"), 3, "pc-nope")
    one_error(_remote(remote_server, tmp_path, "configs", "validate", "pc-nope"), 3, "pc-nope")
    assert not (tmp_path / "server.db").exists()


def test_providers_and_rates_through_a_real_server(remote_server: str, tmp_path: Path) -> None:
    host = "https://llm.invalid/v1"  # never reached: the provider has no key
    created = as_json(
        _remote(remote_server, tmp_path, "providers", "add", "remote-llm", "--base-url", host, "--json")
    )
    assert created["base_url"] == host
    shown = as_json(_remote(remote_server, tmp_path, "providers", "show", "remote-llm", "--json"))
    assert (shown["name"], shown["credentials"]) == ("remote-llm", [])
    health = as_json(_remote(remote_server, tmp_path, "providers", "health", "--json"))
    assert health["providers"]["remote-llm"] == {}  # no key yet
    rate = ("--provider", "remote-llm", "--input-rate", "0.001", "--output-rate", "0.002", "--json")
    as_json(_remote(remote_server, tmp_path, "rates", "add", "llama-3", *rate))
    rates = as_json(_remote(remote_server, tmp_path, "rates", "list", "--provider", "remote-llm", "--json"))
    assert [r["model"] for r in rates] == ["llama-3"]
    models = as_json(_remote(remote_server, tmp_path, "providers", "models", "--json"))
    assert "remote-llm/llama-3" in [m["key"] for m in models]
    repriced = as_json(_remote(remote_server, tmp_path, "rates", "bulk-update", "--profit-margin", "10",
                               "--credit-price", "0.01", "--json"))  # fmt: skip
    assert "updated" in repriced
    checked = _remote(remote_server, tmp_path, "providers", "test-models", "--json")
    assert checked.returncode == 1, checked.stderr  # no key to ask the provider with: not available
    assert [(r["model"], r["ok"]) for r in json.loads(checked.stdout)["results"]] == [("llama-3", False)]
    assert "testing models: done in" in checked.stderr
    (tmp_path / "prices.json").write_text("{}")
    prices = str(tmp_path / "prices.json")
    one_error(_remote(remote_server, tmp_path, "rates", "import-litellm", prices), 1, "cannot do this yet")
    one_error(_remote(remote_server, tmp_path, "providers", "show", "nope"), 3, "nope")
    assert (
        as_json(_remote(remote_server, tmp_path, "providers", "rm", "remote-llm", "--json"))["deleted"]
        is True
    )
    assert not (tmp_path / "server.db").exists()


def test_provider_keys_models_and_analytics_through_a_real_server(remote_server: str, tmp_path: Path) -> None:
    add = ("provider-keys", "add", "groq", "--name", "gq-remote", "--key", "-", "--json")
    added = as_json(
        cli(tmp_path, "--server", remote_server, "--api-key", ADMIN, *add, stdin="gsk-remote-0123456789\n")
    )
    listed = _remote(remote_server, tmp_path, "provider-keys", "list", "--provider", "groq", "--json")
    assert [key["id"] for key in as_json(listed)] == [added["id"]]
    assert "gsk-remote-0123456789" not in listed.stdout
    one_error(_remote(remote_server, tmp_path, "provider-keys", "test", "nope"), 3, "nope")
    assert (
        as_json(_remote(remote_server, tmp_path, "provider-keys", "rm", "gq-remote", "--json"))["deleted"]
        is True
    )
    body = '{"name": "remote-mini", "provider": "openai", "vendor_model_id": "gpt-4o-mini"}'
    model = as_json(_remote(remote_server, tmp_path, "models", "add", body, "--json"))
    assert (
        as_json(_remote(remote_server, tmp_path, "models", "show", "remote-mini", "--json"))["id"]
        == model["id"]
    )
    assert model["id"] in [
        m["id"] for m in as_json(_remote(remote_server, tmp_path, "models", "list", "--json"))
    ]
    assert (
        as_json(_remote(remote_server, tmp_path, "models", "status", "remote-mini", "--json"))["status"]
        == "active"
    )
    one_error(_remote(remote_server, tmp_path, "models", "deploy", "remote-mini"), 2, "third-party")
    one_error(_remote(remote_server, tmp_path, "models", "show", "aim-nope"), 3, "aim-nope")
    usage = as_json(_remote(remote_server, tmp_path, "analytics", "usage", "--json"))
    assert usage["total_requests"] >= 0
    assert "providers" in as_json(_remote(remote_server, tmp_path, "analytics", "providers", "--json"))
    one_error(
        _remote(remote_server, tmp_path, "analytics", "usage", "--granularity", "fortnightly"),
        2,
        "granularity",
    )
    assert not (tmp_path / "server.db").exists()


def test_a_self_hosted_model_on_a_server_deploy_logs_follow_stop(remote_server: str, tmp_path: Path) -> None:
    replica = [
        sys.executable,
        "-c",
        "print('hello from the server replica', flush=True); import time; time.sleep(60)",
    ]
    body = {"name": "remote-echo", "type": "self-hosted", "provider": "local", "vendor_model_id": "echo",
            "config": {"command": replica}}  # fmt: skip
    as_json(_remote(remote_server, tmp_path, "models", "add", json.dumps(body), "--json"))
    deployed = as_json(_remote(remote_server, tmp_path, "models", "deploy", "remote-echo", "--json"))
    assert deployed["status"] == "deploying"  # on a server the command returns at once
    follow = subprocess.Popen(
        [*command(), "--server", remote_server, "--api-key", ADMIN, "models", "logs", "remote-echo", "-f"],
        env=server_env(tmp_path, {"COLUMNS": "120"}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline, logs = time.monotonic() + 20, ""
        while "hello from the server replica" not in logs and time.monotonic() < deadline:
            logs = json.dumps(
                as_json(_remote(remote_server, tmp_path, "models", "logs", "remote-echo", "--json"))
            )
            time.sleep(0.5)
        assert "hello from the server replica" in logs
        assert (
            as_json(_remote(remote_server, tmp_path, "models", "stop", "remote-echo", "--json"))["status"]
            == "stopped"
        )
        out, err = follow.communicate(timeout=30)  # -f ends by itself once the model stops
    finally:
        if follow.poll() is None:
            follow.kill()
            follow.wait()
    assert follow.returncode == 0, err
    assert "replica-0 | " in out
    assert "hello from the server replica" in out
    assert "the model is not running" in err
