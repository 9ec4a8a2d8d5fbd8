"""``strands-portkey keys``: create prints the key once, list shows it masked, revoke stops it."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from strands_portkey.cli import build_app
from strands_portkey.cli.keys import bootstrap_admin_key, open_api_keys

MASTER = base64.urlsafe_b64encode(bytes(range(32))).decode()


@pytest.fixture(autouse=True)
def _store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRANDS_PORTKEY_HOME", str(tmp_path))
    monkeypatch.setenv("STRANDS_PORTKEY_DB_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("STRANDS_PORTKEY_MASTER_KEY", MASTER)


def test_create_list_revoke() -> None:
    runner = CliRunner()
    created = runner.invoke(
        build_app(),
        [
            "keys",
            "create",
            "--name",
            "ci",
            "--model",
            "gpt-4o-mini",
            "--rate-limits",
            '[{"type": "requests", "unit": "rpm", "value": 60}]',
        ],
    )
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("spk-")
    listed = runner.invoke(build_app(), ["keys", "list", "--json"])
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["name"], r["allowed_models"], r["masked_key"]) for r in rows] == [
        ("ci", ["gpt-4o-mini"], f"spk-…{key[-4:]}")
    ]
    assert key not in listed.stdout
    revoked = runner.invoke(build_app(), ["keys", "revoke", rows[0]["id"]])
    assert revoked.exit_code == 0
    again = runner.invoke(build_app(), ["keys", "list", "--json", "--status", "revoked"])
    assert [json.loads(line)["id"] for line in again.stdout.splitlines()] == [rows[0]["id"]]


def test_bad_input_names_the_field_and_exits_2() -> None:
    result = CliRunner().invoke(
        build_app(), ["keys", "create", "--name", "x", "--rate-limits", '[{"type": "requests"}]']
    )
    assert result.exit_code == 2
    assert "rate_limits[0]" in result.output
    unknown = CliRunner().invoke(build_app(), ["keys", "revoke", "ak-nope"])
    assert (unknown.exit_code, "ak-nope" in unknown.output) == (2, True)


def test_bootstrap_creates_one_admin_key_only_in_an_empty_store() -> None:
    with open_api_keys() as api_keys:
        first = bootstrap_admin_key(api_keys)
        second = bootstrap_admin_key(api_keys)
        assert first is not None
        assert second is None
        assert api_keys.authenticate(first).role == "admin"
