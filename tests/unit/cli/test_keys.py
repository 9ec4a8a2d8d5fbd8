"""``strands-portkey keys``: create prints the key once, list shows it masked, rotate and revoke."""

from __future__ import annotations

import pytest

from strands_portkey.cli.keys import bootstrap_admin_key, open_api_keys

from .conftest import Run, assert_one_error


def test_create_list_rotate_revoke(run: Run) -> None:
    created = run(
        "keys", "create", "--name", "ci", "--model", "gpt-4o-mini",
        "--rate-limits", '[{"type": "requests", "unit": "rpm", "value": 60}]',
    )  # fmt: skip
    assert created.code == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("spk-")
    assert "shown this once" in created.stderr
    listed = run("keys", "list", "--json")
    rows = listed.json()
    assert [(r["name"], r["allowed_models"], r["masked_key"]) for r in rows] == [
        ("ci", ["gpt-4o-mini"], f"spk-…{key[-4:]}")
    ]
    assert key not in listed.stdout
    rotated = run("keys", "rotate", rows[0]["id"], "--json").json()
    assert rotated["id"] == rows[0]["id"]
    assert rotated["key"].startswith("spk-")
    assert rotated["key"] != key
    revoked = run("keys", "revoke", rows[0]["id"], "--json")
    assert (revoked.code, revoked.json()["status"]) == (0, "revoked")
    again = run("keys", "list", "--json", "--status", "revoked").json()
    assert [row["id"] for row in again] == [rows[0]["id"]]


def test_bad_input_names_the_field(run: Run) -> None:
    assert_one_error(
        run("keys", "create", "--name", "x", "--rate-limits", '[{"type": "requests"}]'), 2, "rate_limits[0]"
    )
    assert_one_error(run("keys", "create", "--name", "x", "--usage-limits", "{nope"), 2, "--usage-limits")


def test_unknown_key_is_not_found(run: Run) -> None:
    assert_one_error(run("keys", "revoke", "ak-nope"), 3, "ak-nope")


@pytest.mark.usefixtures("store")
def test_bootstrap_creates_one_admin_key_only_in_an_empty_store() -> None:
    with open_api_keys() as api_keys:
        first = bootstrap_admin_key(api_keys)
        second = bootstrap_admin_key(api_keys)
        assert first is not None
        assert second is None
        assert api_keys.authenticate(first).role == "admin"
