"""``strands-portkey serve``: the refusals happen before any server starts (typer's runner, offline)."""

import pytest
from typer.testing import CliRunner

from strands_portkey.cli import build_app
from strands_portkey.cli.serve import is_loopback


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["serve", "--host", "0.0.0.0", "--workers", "2"], "STRANDS_PORTKEY_REDIS_URL"),
        (["serve", "--no-auth", "--host", "0.0.0.0"], "bind a loopback address"),
        (["serve", "--no-auth", "--workers", "3"], "STRANDS_PORTKEY_REDIS_URL"),
        (["serve", "--no-auth", "--config", "/nonexistent/c.json"], "cannot read"),
    ],
)
def test_serve_refuses_before_starting(args: list[str], says: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRANDS_PORTKEY_REDIS_URL", raising=False)
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 2
    assert says in result.output.replace("\n", " ")


def test_a_malformed_admin_key_is_refused_before_starting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRANDS_PORTKEY_ADMIN_KEY", "short-and-not-spk")
    result = CliRunner().invoke(build_app(), ["serve"])
    assert result.exit_code == 2
    assert "STRANDS_PORTKEY_ADMIN_KEY" in result.output.replace("\n", " ")
    assert "short-and-not-spk" not in result.output


def test_a_config_file_that_is_not_an_object_is_refused(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.json"
    config.write_text("[1, 2]")
    result = CliRunner().invoke(build_app(), ["serve", "--no-auth", "--config", str(config)])
    assert result.exit_code == 2
    assert "JSON object" in result.output.replace("\n", " ")


@pytest.fixture
def _logging_restored():
    """``serve`` sets up the ``strands_portkey`` logger tree; put it back for the tests after this one."""
    import logging

    names = ("strands_portkey", "uvicorn", "uvicorn.error", "strands_portkey.server.access")
    tree = [logging.getLogger(name) for name in names]
    saved = [(logger.handlers[:], logger.level, logger.propagate) for logger in tree]
    yield
    for logger, (handlers, level, propagate) in zip(tree, saved, strict=True):
        logger.handlers[:], logger.level, logger.propagate = handlers, level, propagate


@pytest.mark.usefixtures("_logging_restored")
@pytest.mark.parametrize(
    ("args", "logged", "log_format"),
    [([], False, "text"), (["--access-log"], True, "text"), (["--log-format", "json"], False, "json")],
)
def test_the_access_log_is_off_unless_asked_for(
    args: list[str], logged: bool, log_format: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from strands_portkey.server.access_log import ACCESS_LOG_ENV
    from strands_portkey.server.app import DEFAULT_CONFIG_ENV, NO_AUTH_ENV
    from strands_portkey.server.runner import LOG_FORMAT_ENV, LOG_LEVEL_ENV
    from strands_portkey.server.settings import SHUTDOWN_GRACE_ENV

    for name in (
        NO_AUTH_ENV,
        SHUTDOWN_GRACE_ENV,
        DEFAULT_CONFIG_ENV,
        ACCESS_LOG_ENV,
        LOG_FORMAT_ENV,
        LOG_LEVEL_ENV,
    ):
        monkeypatch.setenv(name, "")  # serve sets them; restored after the test
    monkeypatch.setenv("STRANDS_PORTKEY_HOME", str(tmp_path))
    monkeypatch.delenv("STRANDS_PORTKEY_DB_URL", raising=False)
    monkeypatch.delenv("STRANDS_PORTKEY_REDIS_URL", raising=False)
    started: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.update(options, app=app))
    result = CliRunner().invoke(build_app(), ["serve", "--no-auth", *args])
    assert result.exit_code == 0, result.output
    assert started["access_log"] is False  # uvicorn's own: ours replaces it
    assert started["app"].state.server.settings.access_log is logged  # type: ignore[attr-defined]
    assert ("log_config" in started) is (log_format == "json")  # JSON: our handlers, not uvicorn's
    assert started["port"] == 8787


def test_an_unknown_log_format_is_refused() -> None:
    result = CliRunner().invoke(build_app(), ["serve", "--no-auth", "--log-format", "xml"])
    assert result.exit_code == 2
    assert "--log-format" in result.output
