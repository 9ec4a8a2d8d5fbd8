"""The CLI's unit tests: every command runs through typer's runner against a real SQLite store."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from strands_portkey.cli import build_app

MASTER = base64.urlsafe_b64encode(bytes(range(32))).decode()


@dataclass
class Ran:
    """One command's exit code, stdout and stderr."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


Run = Callable[..., Ran]


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh store (SQLite file), a fixed master key, no key validation, no server."""
    monkeypatch.setenv("STRANDS_PORTKEY_HOME", str(tmp_path))
    monkeypatch.setenv("STRANDS_PORTKEY_DB_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("STRANDS_PORTKEY_MASTER_KEY", MASTER)
    monkeypatch.setenv("STRANDS_PORTKEY_VALIDATE_KEYS", "off")
    for name in ("STRANDS_PORTKEY_SERVER", "STRANDS_PORTKEY_API_KEY", "STRANDS_PORTKEY_PREVIOUS_MASTER_KEYS"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def run(store: Path) -> Run:
    """Run ``strands-portkey ARGS`` (stdin optional) against the store."""

    def invoke(*args: str, stdin: str | None = None) -> Ran:
        result = CliRunner().invoke(build_app(), list(args), input=stdin)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Ran(result.exit_code, result.stdout, result.stderr)

    return invoke


def assert_one_error(ran: Ran, code: int, *says: str) -> None:
    """A clean failure: exit ``code``, one ``error:`` line on stderr naming ``says``, no traceback."""
    assert ran.code == code, (ran.code, ran.stdout, ran.stderr)
    lines = ran.error_lines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    assert "Traceback" not in ran.stderr
    for text in says:
        assert text in lines[0], (text, lines[0])
