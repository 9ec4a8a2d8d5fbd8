"""The CLI's shared pieces: the one exit-code mapping, JSON output, progress lines, sparklines."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from decimal import Decimal

import pytest

from strands_portkey import errors
from strands_portkey.cli._common import EXIT_CODES, exit_code, jsonable
from strands_portkey.cli._progress import progress
from strands_portkey.cli.analytics import sparkline

from .conftest import Run


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.ResourceNotFoundError("no such key"), 3),
        (errors.NotFoundError("no such model"), 3),
        (errors.InvalidApiKeyError("revoked"), 4),
        (errors.PermissionDeniedError("not yours"), 4),
        (errors.AuthenticationError("401"), 4),
        (errors.MasterKeyError("wrong master key"), 4),
        (errors.DecryptionError("tampered"), 4),
        (errors.CredentialRejectedError("refused by the provider"), 4),
        (errors.ConfigurationError("bad", path="config.targets[0]"), 2),
        (errors.InvalidRequestError("bad", path="body.name"), 2),
        (errors.ConflictError("name taken"), 2),
        (errors.LimitExceededError("too often", retry_after=60), 2),
        (errors.UpstreamConnectionError("refused"), 5),
        (ConnectionRefusedError("refused"), 5),
        (errors.StoreError("database down"), 1),
        (errors.ServerError("500"), 1),
        (errors.GatewayError("anything else"), 1),
    ],
)
def test_exit_codes_map_the_exception_tree(error: BaseException, code: int) -> None:
    assert exit_code(error) == code
    assert code in EXIT_CODES


@dataclass(frozen=True)
class _Row:
    amount: Decimal
    tags: tuple[str, ...]
    _hidden: str = "x"


def test_jsonable_turns_views_into_plain_json() -> None:
    value = {"row": _Row(Decimal("0.0025"), ("a", "b")), "set": frozenset({1})}
    assert json.loads(json.dumps(jsonable(value))) == {
        "row": {"amount": "0.0025", "tags": ["a", "b"]},
        "set": [1],
    }


def test_progress_prints_plain_lines_off_a_terminal() -> None:
    out, now = io.StringIO(), iter([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5])
    with progress("re-wrapping", 4, out=out, live=False, clock=lambda: next(now)) as bar:
        for _ in range(4):
            bar.advance(note="key")
    assert out.getvalue().splitlines() == [
        "re-wrapping: 1/4 (25%) key [0.5 s]",
        "re-wrapping: 2/4 (50%) key [1.0 s]",
        "re-wrapping: 3/4 (75%) key [1.5 s]",
        "re-wrapping: 4/4 (100%) key [2.0 s]",
        "re-wrapping: done in 2.5 s",
    ]


def test_progress_of_many_steps_prints_one_line_per_tenth() -> None:
    out = io.StringIO()
    with progress("importing", 1000, out=out, live=False, clock=lambda: 0.0) as bar:
        for _ in range(1000):
            bar.advance()
    lines = out.getvalue().splitlines()
    assert len(lines) == 12  # the start, 10%, 20%, ... 100%, then "done"
    assert lines[:2] == ["importing: 1/1000 (0%) [0.0 s]", "importing: 100/1000 (10%) [0.0 s]"]


def test_progress_draws_a_live_bar_on_a_terminal() -> None:
    out = io.StringIO()
    with progress("migrating", 2, out=out, live=True) as bar:
        bar.update(2, note="0002 analytics")
    text = out.getvalue()
    assert "migrating: 0002 analytics" in text
    assert "2/2" in text
    assert text.rstrip().splitlines()[-1].startswith("migrating: done in")


def test_sparkline() -> None:
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert sparkline([5, 5]) == "██"
    assert sparkline([0, 0]) == "▁▁"
    assert sparkline([]) == ""


def test_every_command_has_help(run: Run) -> None:
    groups = {
        "keys": ["create", "list", "rotate", "revoke"],
        "provider-keys": ["add", "list", "test", "rm"],
        "providers": ["list", "show", "add", "rm", "health", "models", "test-models"],
        "rates": ["list", "add", "import-litellm", "bulk-update"],
        "models": ["list", "show", "add", "deploy", "start", "stop", "status", "logs"],
        "analytics": ["usage", "costs", "performance", "providers"],
        "configs": ["validate", "explain", "list", "show", "save"],
        "db": ["status", "upgrade"],
        "master-key": ["status", "rotate"],
    }
    top = run("--help")
    assert "Exit codes" in top.stdout
    for group, commands in groups.items():
        assert group in top.stdout
        for command in commands:
            ran = run(group, command, "--help")
            assert ran.code == 0, (group, command, ran.stderr)
            assert "Usage:" in ran.stdout
    assert run("serve", "--help").code == 0


def test_progress_without_a_count_shows_what_it_does_and_no_bar() -> None:
    out = io.StringIO()
    with progress("importing prices.json", out=out, live=True) as bar:
        bar.note("writing the rates of 4 entries")
    text = out.getvalue()
    assert "importing prices.json: writing the rates of 4 entries" in text
    assert "/" not in text.splitlines()[0]  # no "0/?" count
