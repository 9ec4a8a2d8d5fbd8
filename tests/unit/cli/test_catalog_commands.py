"""``provider-keys``, ``providers``, ``rates`` and ``models`` on a real store: JSON, tables, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import Run, assert_one_error


def test_provider_keys_add_list_rm(run: Run) -> None:
    added = run("provider-keys", "add", "openai", "--name", "oa", "--key", "sk-test-0123456789", "--json")
    assert added.code == 0, added.stderr
    assert (added.json()["name"], added.json()["provider"]) == ("oa", "openai")
    piped = run(
        "provider-keys", "add", "groq", "--name", "gq", "--key", "-", "--weight", "5", stdin="gsk-123456789\n"
    )
    assert piped.code == 0, piped.stderr
    listed = run("provider-keys", "list", "--json")
    rows = {row["name"]: row for row in listed.json()}
    assert (rows["gq"]["provider"], rows["gq"]["weight"]) == ("groq", 5)
    assert "sk-test-0123456789" not in listed.stdout
    assert "gsk-123456789" not in listed.stdout
    assert run("provider-keys", "list", "--provider", "groq", "--json").json()[0]["name"] == "gq"
    table = run("provider-keys", "list")
    assert "oa" in table.stdout
    assert "gq" in table.stdout
    removed = run("provider-keys", "rm", "gq", "--json")
    assert removed.json() == {"id": rows["gq"]["id"], "deleted": True}
    assert [row["name"] for row in run("provider-keys", "list", "--json").json()] == ["oa"]


def test_provider_keys_bad_input(run: Run) -> None:
    assert_one_error(run("provider-keys", "test", "nope"), 3, "nope")
    assert_one_error(run("provider-keys", "rm", "nope"), 3, "nope")
    assert_one_error(run("provider-keys", "add", "openai", "--name", "x", "--key", " "), 2, "--key")
    assert_one_error(
        run("provider-keys", "add", "no-such-provider", "--name", "x", "--key", "k"), 2, "provider"
    )
    run("provider-keys", "add", "openai", "--name", "dup", "--key", "sk-1")
    assert_one_error(run("provider-keys", "add", "openai", "--name", "dup", "--key", "sk-2"), 2, "dup")


def test_providers_add_show_health_models_rm(run: Run) -> None:
    created = run("providers", "add", "my-llm", "--base-url", "https://llm.example.com/v1", "--json")
    assert created.code == 0, created.stderr
    assert created.json()["name"] == "my-llm"
    run("provider-keys", "add", "my-llm", "--name", "mine", "--key", "k-123456")
    run("rates", "add", "llama-3", "--provider", "my-llm", "--input-rate", "0.001", "--output-rate", "0.002")
    shown = run("providers", "show", "my-llm", "--json").json()
    assert ([c["name"] for c in shown["credentials"]], [r["model"] for r in shown["rates"]]) == (
        ["mine"],
        ["llama-3"],
    )
    assert [(p["name"], len(p["rates"])) for p in run("providers", "list", "--json").json()] == [
        ("my-llm", 1)
    ]
    assert run("providers", "health", "--json").json()["providers"] == {"my-llm": {"mine": {"running": True}}}
    models = run("providers", "models", "--json").json()
    assert [(m["key"], m["status"]) for m in models] == [("my-llm/llama-3", "available")]
    assert "llama-3" in run("providers", "models").stdout
    assert run("providers", "rm", "my-llm", "--json").json()["deleted"] is True
    assert_one_error(run("providers", "show", "my-llm"), 3, "my-llm")


def test_providers_bad_input(run: Run) -> None:
    assert_one_error(run("providers", "add", "my-llm", "--base-url", "not a url"), 2, "baseUrl")
    assert_one_error(run("providers", "rm", "nope"), 3, "nope")


def test_rates_add_list_bulk_update(run: Run) -> None:
    run("providers", "add", "openai")
    run("providers", "add", "azure-openai")
    body = '{"unitCosts": {"input": 0.000002, "output": 0.000008}}'
    added = run(
        "rates", "add", "gpt-4o", "--provider", "openai", "--provider", "azure-openai",
        "--input-rate", "0.002", "--output-rate", "0.008", "--extra", body, "--json",
    )  # fmt: skip
    assert added.code == 0, added.stderr
    assert sorted(r["provider"] for r in added.json()) == ["azure-openai", "openai"]
    listed = run("rates", "list", "--provider", "openai", "--json").json()
    assert [(r["model"], r["input_rate"]) for r in listed] == [("gpt-4o", "0.0020000000")]
    updated = run("rates", "bulk-update", "--profit-margin", "50", "--credit-price", "0.001", "--json").json()
    assert updated["updated"] == 2
    repriced = run("rates", "list", "--provider", "openai", "--json").json()[0]
    assert repriced["input_rate"] != "0.0020000000"


def test_rates_bad_input(run: Run) -> None:
    run("providers", "add", "openai")
    assert_one_error(
        run("rates", "add", "m", "--provider", "nope", "--input-rate", "1", "--output-rate", "1"), 3, "nope"
    )
    assert_one_error(
        run("rates", "add", "m", "--provider", "openai", "--input-rate", "x", "--output-rate", "1"),
        2,
        "input",
    )
    rate = ("rates", "add", "m", "--provider", "openai", "--input-rate", "1", "--output-rate", "1")
    assert_one_error(run(*rate, "--extra", "[1]"), 2, "--extra")


def test_import_litellm_reports_and_shows_progress_lines(run: Run, tmp_path: Path) -> None:
    run("providers", "add", "openai")
    price_map = {
        "gpt-4o": {"litellm_provider": "openai", "mode": "chat",
                   "input_cost_per_token": 2.5e-6, "output_cost_per_token": 1e-5},
        "claude-3": {"litellm_provider": "anthropic", "mode": "chat",
                     "input_cost_per_token": 3e-6, "output_cost_per_token": 1.5e-5},
    }  # fmt: skip
    file = tmp_path / "prices.json"
    file.write_text(json.dumps(price_map))
    ran = run("rates", "import-litellm", str(file), "--json")
    assert ran.code == 0, ran.stderr
    assert ran.json() == {"created": 1, "updated": 0, "skipped": 1}
    assert (
        "importing prices.json: writing the rates of 2 entries" in ran.stderr
    )  # plain lines: not a terminal
    assert "importing prices.json: done in" in ran.stderr
    assert run("rates", "import-litellm", str(file), "--json").json() == {
        "created": 0,
        "updated": 1,
        "skipped": 1,
    }
    (tmp_path / "broken.json").write_text('{"gpt-4o": ')
    assert_one_error(run("rates", "import-litellm", str(tmp_path / "broken.json")), 2, "broken.json:1:")
    assert_one_error(run("rates", "import-litellm", str(tmp_path / "missing.json")), 2, "missing.json")


def test_models_add_list_show_status(run: Run) -> None:
    body = '{"name": "mini", "provider": "openai", "vendor_model_id": "gpt-4o-mini"}'
    created = run("models", "add", body, "--json")
    assert created.code == 0, created.stderr
    model_id = created.json()["id"]
    assert [(m["name"], m["status"]) for m in run("models", "list", "--json").json()] == [("mini", "active")]
    assert run("models", "show", "mini", "--json").json()["id"] == model_id
    assert "gpt-4o-mini" in run("models", "show", model_id).stdout
    status = run("models", "status", "mini", "--json").json()
    assert (status["status"], status["conditions"][0]["reason"]) == ("active", "ThirdParty")


def test_models_bad_input(run: Run, tmp_path: Path) -> None:
    run("models", "add", '{"name": "mini", "provider": "openai", "vendor_model_id": "gpt-4o-mini"}')
    assert_one_error(run("models", "show", "nope"), 3, "nope")
    assert_one_error(run("models", "deploy", "mini"), 2, "model_id", "third-party")
    assert_one_error(run("models", "logs", "mini"), 2, "third-party")
    assert_one_error(run("models", "add", '{"name": ""}'), 2, "body.name")
    assert_one_error(run("models", "add", "{"), 2, "BODY")
    assert_one_error(run("models", "add", f"@{tmp_path / 'none.json'}"), 2, "none.json")
    assert_one_error(run("models", "logs", "mini", "-f", "--json"), 2, "--follow")
