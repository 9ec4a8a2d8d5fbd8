"""``analytics``, ``configs``, ``db`` and ``master-key`` against a real store: JSON, tables, exit codes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from strands_portkey.analytics.rollups import store_rows
from strands_portkey.controlplane import ControlPlane

from ..analytics.test_queries import record_row
from .conftest import MASTER, Run, assert_one_error

CONFIG = {
    "strategy": {"mode": "fallback", "on_status_codes": [429, 503]},
    "retry": {"attempts": 2},
    "override_params": {"temperature": 0.2},
    "targets": [
        {
            "strategy": {
                "mode": "conditional",
                "conditions": [{"query": {"metadata.tier": {"$eq": "pro"}}, "then": "big"}],
                "default": "small",
            },
            "request_timeout": 5000,
            "targets": [
                {"name": "big", "provider": "openai", "api_key": "sk-in-config-123",
                 "override_params": {"model": "gpt-4o"}},
                {"name": "small", "virtual_key": "oa", "cache": {"mode": "simple"}},
            ],
        },
        {"strategy": {"mode": "loadbalance"},
         "targets": [{"provider": "anthropic", "weight": 3, "retry": {"attempts": 0}},
                     {"provider": "groq", "weight": 1}]},
    ],
}  # fmt: skip


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(CONFIG))
    return path


def _records(store: Path) -> None:
    """Three requests yesterday and today, two providers, one error."""
    plane = ControlPlane(
        f"sqlite:///{store / 'cli.db'}", env={"STRANDS_PORTKEY_HOME": str(store)}, master_key=MASTER
    )
    day = dt.datetime.now(dt.timezone.utc).replace(hour=1, minute=0, second=0, microsecond=0)
    rows = [
        record_row(0, day - dt.timedelta(days=1), "gpt-4o", "openai", "success", latency_ms=100.0,
                   prompt_tokens=10, completion_tokens=5, total_tokens=15, cost_usd=0.01, cost_credits=10.0),
        record_row(1, day, "gpt-4o", "openai", "error", latency_ms=300.0),
        record_row(2, day, "claude", "anthropic", "success", latency_ms=200.0,
                   prompt_tokens=20, completion_tokens=10, total_tokens=30, cost_usd=0.05, cost_credits=50.0),
    ]  # fmt: skip
    try:
        with plane.store.transaction() as session:
            store_rows(session, rows)
    finally:
        plane.close()


def test_analytics_usage_costs_performance_providers(run: Run, store: Path) -> None:
    _records(store)
    usage = run("analytics", "usage", "--json").json()
    assert (usage["total_requests"], usage["total_tokens"]) == (3, 45)
    table = run("analytics", "usage")
    assert "requests" in table.stdout
    assert any(block in table.stdout for block in "▁▂▃▄▅▆▇█")  # the sparkline
    costs = run("analytics", "costs", "--group-by", "provider", "--json").json()
    assert [(row["provider"], round(row["cost"], 2)) for row in costs["by_provider"]] == [
        ("anthropic", 0.05),
        ("openai", 0.01),
    ]
    assert "0.060000 USD" in run("analytics", "costs").stdout
    performance = run("analytics", "performance", "--provider", "openai", "--json").json()
    assert (performance["total_requests"], performance["error_rate"]) == (2, 0.5)
    assert "p99 latency" in run("analytics", "performance").stdout
    providers = run("analytics", "providers", "--json").json()
    assert [(p["provider"], p["requests"], p["errors"]) for p in providers["providers"]] == [
        ("openai", 2, 1),
        ("anthropic", 1, 0),
    ]


def test_analytics_bad_input(run: Run) -> None:
    assert_one_error(run("analytics", "usage", "--granularity", "fortnightly"), 2, "granularity")
    assert_one_error(run("analytics", "costs", "--group-by", "colour"), 2, "group_by")
    assert_one_error(run("analytics", "performance", "--start", "yesterday-ish"), 2, "start_date")


def test_configs_validate(run: Run, config_file: Path, tmp_path: Path) -> None:
    ok = run("configs", "validate", str(config_file), "--json")
    assert ok.code == 0, ok.stderr
    assert ok.json()["targets"] == [
        "config.targets[0].targets[0]",
        "config.targets[0].targets[1]",
        "config.targets[1].targets[0]",
        "config.targets[1].targets[1]",
    ]
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"strategy": {"mode": "fallback"}, "targets": [{"provider": "openai"}, {"weight": -1}]})
    )
    assert_one_error(run("configs", "validate", str(bad)), 2, "bad.json", "config.targets[1].weight")
    broken = tmp_path / "broken.json"
    broken.write_text('{"strategy": {"mode": "fallback"},\n "targets": [}')
    assert_one_error(run("configs", "validate", str(broken)), 2, "broken.json:2:14")
    assert_one_error(run("configs", "validate", str(tmp_path / "none.json")), 2, "none.json")
    (tmp_path / "list.json").write_text("[]")
    assert_one_error(run("configs", "validate", str(tmp_path / "list.json")), 2, "expected a JSON object")


def test_configs_explain_says_what_each_target_inherits(run: Run, config_file: Path) -> None:
    plan = run("configs", "explain", str(config_file), "--json").json()["plan"]
    big, small = plan["targets"][0]["targets"]
    assert big["settings"]["retry"] == {
        "value": {"attempts": 2, "on_status_codes": [429, 500, 502, 503, 504, 529]},
        "from": ["config"],
    }
    assert big["settings"]["request_timeout"]["from"] == ["config.targets[0]"]
    assert big["settings"]["override_params"] == {
        "value": {"temperature": 0.2, "model": "gpt-4o"},
        "from": ["config", "own"],
    }
    assert small["settings"]["cache"]["from"] == ["own"]
    assert (small["virtual_key"], big["api_key_in_config"]) == ("oa", True)
    anthropic = plan["targets"][1]["targets"][0]
    assert anthropic["settings"]["retry"] == {"value": "off", "from": ["own"]}
    drawn = run("configs", "explain", str(config_file))
    assert "from config.targets[0]" in drawn.stdout
    assert "sk-in-config-123" not in drawn.stdout + json.dumps(plan)


def test_configs_explain_walks_a_sample_request(run: Run, config_file: Path) -> None:
    pro = run("configs", "explain", str(config_file), "--request", '{"model": "gpt-4o-mini"}',
              "--metadata", '{"tier": "pro"}', "--json").json()["sample"]  # fmt: skip
    assert "conditions[0] matches -> targets[0]" in pro[1]
    assert "sent to openai as model 'gpt-4o', up to 2 retries" in pro[2]
    free = run("configs", "explain", str(config_file), "--request", '{"model": "gpt-4o-mini"}', "--json")
    assert "no condition matches: default -> targets[1]" in free.json()["sample"][1]
    assert "the virtual key 'oa' as model 'gpt-4o-mini'" in free.json()["sample"][2]
    assert any("targets[0] 75%, targets[1] 25%" in step for step in free.json()["sample"])
    assert_one_error(run("configs", "explain", str(config_file), "--request", "{"), 2, "--request")


def test_db_status_and_upgrade(run: Run) -> None:
    fresh = run("db", "status", "--json")
    assert fresh.code == 1  # migrations pending
    pending = [step["revision"] for step in fresh.json()["pending"]]
    assert pending[0] == "0001"
    assert fresh.json()["revision"] is None
    upgraded = run("db", "upgrade", "--json")
    assert upgraded.code == 0, upgraded.stderr
    assert upgraded.json()["applied"] == pending
    assert f"migrating the store: {len(pending)}/{len(pending)} (100%)" in upgraded.stderr
    assert "migrating the store: done in" in upgraded.stderr
    now = run("db", "status", "--json")
    assert (now.code, now.json()["pending"], now.json()["revision"]) == (0, [], pending[-1])
    assert run("db", "upgrade", "--json").json()["applied"] == []


def test_db_refuses_a_bad_url_and_a_server(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    assert_one_error(run("--server", "http://127.0.0.1:9", "db", "status"), 2, "--server", "db status")
    monkeypatch.setenv("STRANDS_PORTKEY_DB_URL", "nonsense://")
    ran = run("db", "status")
    assert ran.code == 1
    assert ran.error_lines()[-1].startswith("error: ")


def test_master_key_rotation_in_two_runs(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    run("provider-keys", "add", "openai", "--name", "oa", "--key", "sk-rotate-me-123")
    run("keys", "create", "--name", "ci")
    first = run("master-key", "rotate", "--json").json()
    assert first["step"] == 1
    new_key = first["new_key"]
    assert first["new_key_id"] != first["current"]
    monkeypatch.setenv("STRANDS_PORTKEY_MASTER_KEY", new_key)
    monkeypatch.setenv("STRANDS_PORTKEY_PREVIOUS_MASTER_KEYS", MASTER)
    second = run("master-key", "rotate", "--json")
    assert second.code == 0, second.stderr
    assert (second.json()["rewrapped"], second.json()["gateway_keys_under_previous"]) == (1, 1)
    assert "re-wrapping provider keys: 1/1 (100%)" in second.stderr
    status = run("master-key", "status", "--json").json()
    assert status["protects"]["provider_keys"] == {first["new_key_id"]: 1}
    monkeypatch.delenv("STRANDS_PORTKEY_PREVIOUS_MASTER_KEYS")
    assert [key["name"] for key in run("provider-keys", "list", "--json").json()] == ["oa"]
    monkeypatch.setenv("STRANDS_PORTKEY_MASTER_KEY", MASTER)  # the old key no longer opens it
    refused = run("provider-keys", "test", "oa")  # decrypting comes first: no provider is called
    assert refused.code == 4


def test_master_key_first_run_prints_the_new_key_alone_on_stdout(run: Run) -> None:
    ran = run("master-key", "rotate")
    assert ran.code == 0
    assert len(ran.stdout.strip()) == 44  # 32 bytes, base64
    assert "STRANDS_PORTKEY_PREVIOUS_MASTER_KEYS" in ran.stderr


def test_saved_configs_save_list_show_and_explain_by_id(run: Run, tmp_path: Path) -> None:
    clean = {"strategy": {"mode": "fallback"}, "targets": [{"virtual_key": "a"}, {"virtual_key": "b"}]}
    file = tmp_path / "clean.json"
    file.write_text(json.dumps(clean))
    saved = run("configs", "save", str(file), "--name", "prod", "--json")
    assert saved.code == 0, saved.stderr
    config_id = saved.json()["id"]
    file.write_text(json.dumps({**clean, "retry": {"attempts": 1}}))
    assert run("configs", "save", str(file), "--id", config_id, "--json").json()["version"] == 2
    assert [(c["name"], c["version"]) for c in run("configs", "list", "--json").json()] == [("prod", 2)]
    first = run("configs", "show", config_id, "--version", "1", "--json").json()
    assert first["config"] == clean
    shown = run("configs", "show", "prod")
    assert json.loads(shown.stdout)["retry"] == {"attempts": 1}  # the config alone on stdout
    plan = run("configs", "explain", config_id, "--json").json()["plan"]
    assert plan["targets"][1]["settings"]["retry"]["from"] == ["config"]
    assert run("configs", "validate", config_id).code == 0
    assert_one_error(run("configs", "validate", "pc-nope"), 3, "pc-nope")
    assert_one_error(run("configs", "save", str(file)), 2, "--name")


def test_a_saved_config_refuses_inline_credentials(run: Run, config_file: Path) -> None:
    assert_one_error(run("configs", "save", str(config_file), "--name", "x"), 2, "api_key")
