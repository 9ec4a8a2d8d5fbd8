"""Replica logs: stamping each line as it arrives, reading ``since``, and filtering by it."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from strands_portkey.catalog.replica_logs import (
    LogCapture,
    parse_since,
    read_log,
    select_lines,
    stamp,
    unstamped,
)
from strands_portkey.errors import InvalidRequestError

NOW = datetime(2026, 11, 22, 10, 15, 3, 123456, tzinfo=timezone.utc)


def fixed_now() -> datetime:
    return NOW


def ticking(start: datetime, step: timedelta = timedelta(seconds=1)) -> Callable[[], datetime]:
    """A clock that moves ``step`` on each call (the capture thread calls it once per line)."""
    times: Iterator[datetime] = (start + step * n for n in range(10_000))
    return lambda: next(times)


# --------------------------------------------------------------------------- stamp


def test_stamp_is_fixed_width_utc_with_microseconds() -> None:
    assert stamp(NOW) == "2026-11-22T10:15:03.123456Z"
    assert stamp(datetime(2026, 11, 22, 12, 15, 3, tzinfo=timezone(timedelta(hours=2)))) == (
        "2026-11-22T10:15:03.000000Z"
    )
    assert stamp(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05.000000Z"  # naive is UTC
    assert stamp(datetime(5, 1, 1, tzinfo=timezone.utc)) == "0005-01-01T00:00:00.000000Z"


# --------------------------------------------------------------------------- parse_since


@pytest.mark.parametrize(
    ("value", "back"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("2d", timedelta(days=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        (" 0s ", timedelta(0)),
    ],
)
def test_a_duration_counts_back_from_now(value: str, back: timedelta) -> None:
    assert parse_since(value, now=fixed_now) == NOW - back


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-22T10:00:00Z", datetime(2026, 11, 22, 10, tzinfo=timezone.utc)),
        ("2026-11-22T10:00:00z", datetime(2026, 11, 22, 10, tzinfo=timezone.utc)),
        ("2026-11-22T12:00:00+02:00", datetime(2026, 11, 22, 10, tzinfo=timezone.utc)),
        ("2026-11-22T10:00:00", datetime(2026, 11, 22, 10, tzinfo=timezone.utc)),  # naive is UTC
        ("2026-11-22T10:15:03.123456Z", NOW),  # a stamp copied from a log line
        ("2026-11-22", datetime(2026, 11, 22, tzinfo=timezone.utc)),
        ("2999-01-01T00:00:00Z", datetime(2999, 1, 1, tzinfo=timezone.utc)),  # future: allowed
    ],
)
def test_an_iso_time_is_read_as_utc(value: str, expected: datetime) -> None:
    parsed = parse_since(value, now=fixed_now)
    assert parsed == expected
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(0)


def test_a_datetime_is_taken_as_it_is_naive_meaning_utc() -> None:
    eastern = timezone(timedelta(hours=-5))
    assert parse_since(datetime(2026, 11, 22, 5, tzinfo=eastern), now=fixed_now) == datetime(
        2026, 11, 22, 10, tzinfo=timezone.utc
    )
    naive = parse_since(datetime(2026, 11, 22, 10), now=fixed_now)
    assert naive == datetime(2026, 11, 22, 10, tzinfo=timezone.utc)
    assert parse_since(None, now=fixed_now) is None


@pytest.mark.parametrize(
    "value",
    ["", "1x", "h1", "-1h", "1.5h", "yesterday", "2026-13-01", "1h 30m", "Z", 3600, True, 1.5],
)
def test_bad_since_names_the_argument_and_the_accepted_forms(value: Any) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        parse_since(value, now=fixed_now)
    assert raised.value.path == "since"
    message = str(raised.value)
    assert repr(value) in message
    assert "'1h30m'" in message
    assert "ISO 8601" in message
    assert "datetime" in message


@pytest.mark.parametrize("value", ["99999999999d", "9" * 5000 + "s"])
def test_a_duration_too_long_is_a_clear_error(value: str) -> None:
    with pytest.raises(InvalidRequestError, match="too long") as raised:
        parse_since(value, now=fixed_now)
    assert raised.value.path == "since"


# --------------------------------------------------------------------------- select_lines / read_log

RECORDS = [
    "2026-11-22T10:00:00.000000Z starting",
    "2026-11-22T10:05:00.000000Z loaded model",
    "Traceback (continuation of the line before, no stamp)",
    "2026-11-22T10:10:00.000000Z request 1",
    "2026-11-22T10:10:00.500000Z request 2",
    "2026-11-22T10:15:00.000000Z request 3",
]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def test_since_keeps_lines_at_or_after_it() -> None:
    assert select_lines(RECORDS, lines=None, since=at("2026-11-22T10:10:00")) == RECORDS[3:]
    assert select_lines(RECORDS, lines=None, since=at("2026-11-22T10:10:00.000001")) == RECORDS[4:]
    assert select_lines(RECORDS, lines=None, since=at("2026-11-22T10:15:00.000001")) == []  # future
    assert select_lines(RECORDS, lines=None, since=None) == RECORDS


def test_an_unstamped_line_goes_with_the_stamped_line_before_it() -> None:
    assert select_lines(RECORDS, lines=None, since=at("2026-11-22T10:05:00")) == RECORDS[1:]
    assert select_lines(RECORDS, lines=None, since=at("2026-11-22T10:05:01")) == RECORDS[3:]
    orphan = ["no stamp at all", *RECORDS]
    assert select_lines(orphan, lines=None, since=at("2000-01-01T00:00:00")) == RECORDS


def test_lines_applies_after_since() -> None:
    since = at("2026-11-22T10:05:00")
    assert select_lines(RECORDS, lines=2, since=since) == RECORDS[-2:]
    assert select_lines(RECORDS, lines=100, since=since) == RECORDS[1:]
    assert select_lines(RECORDS, lines=1, since=at("2026-11-22T10:00:00")) == RECORDS[-1:]
    assert select_lines(RECORDS, lines=3, since=None) == RECORDS[-3:]


def test_read_log_filters_the_file_and_a_missing_file_is_empty(tmp_path: Path) -> None:
    log = tmp_path / "replica-0.log"
    log.write_text("\n".join(RECORDS) + "\n")
    assert read_log(log, lines=2, since=at("2026-11-22T10:00:00")) == "\n".join(RECORDS[-2:])
    assert read_log(log, lines=None, since=at("2030-01-01T00:00:00")) == ""
    assert read_log(tmp_path / "absent.log", lines=5, since=None) == ""


def test_unstamped_takes_the_stamp_off_each_line() -> None:
    text = "\n".join(RECORDS[:3])
    assert unstamped(text) == "starting\nloaded model\nTraceback (continuation of the line before, no stamp)"


# --------------------------------------------------------------------------- LogCapture


def capture_bytes(tmp_path: Path, parts: list[bytes], now: Callable[[], datetime]) -> list[str]:
    """Write ``parts`` into a pipe read by a LogCapture; the log file's lines once it is drained."""
    read_end, write_end = os.pipe()
    log = tmp_path / "replica.log"
    capture = LogCapture(os.fdopen(read_end, "rb"), log, now=now, name="test-capture")
    with os.fdopen(write_end, "wb") as writer:
        for part in parts:
            writer.write(part)
            writer.flush()
    assert capture.join(10)
    assert capture.lost_lines == 0
    return log.read_text(encoding="utf-8").split("\n")


def test_capture_stamps_each_line_keeps_partial_and_blank_lines_and_replaces_bad_bytes(
    tmp_path: Path,
) -> None:
    parts = [
        b"first\n",
        b"\xff\xfebad bytes\n",
        b"\n",
        b"carriage\rreturn\n",
        b"two\nin one write\n",
        b"last",
    ]
    found = capture_bytes(tmp_path, parts, ticking(NOW))
    assert found == [
        "2026-11-22T10:15:03.123456Z first",
        "2026-11-22T10:15:04.123456Z \ufffd\ufffdbad bytes",
        "2026-11-22T10:15:05.123456Z ",
        "2026-11-22T10:15:06.123456Z carriage",
        "2026-11-22T10:15:06.123456Z return",
        "2026-11-22T10:15:07.123456Z two",
        "2026-11-22T10:15:08.123456Z in one write",
        "2026-11-22T10:15:09.123456Z last",  # no newline at the end: kept
        "",
    ]


def test_a_very_long_line_is_kept_whole_over_several_stamped_lines(tmp_path: Path) -> None:
    line = "a" * (64 * 1024 - 1) + "é" + "b" * 10  # "é" straddles the 64 KiB read boundary
    found = capture_bytes(tmp_path, [line.encode() + b"\n"], fixed_now)
    assert found[-1] == ""
    assert len(found) == 3
    assert all(part.startswith(stamp(NOW) + " ") for part in found[:-1])
    assert "".join(unstamped(part) for part in found[:-1]) == line


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux) to fail writes")
def test_when_the_log_cannot_be_written_the_pipe_is_still_drained_and_the_loss_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    read_end, write_end = os.pipe()
    capture = LogCapture(os.fdopen(read_end, "rb"), Path("/dev/full"), now=fixed_now, name="test-full")
    writer = threading.Thread(target=lambda: _write_lines(write_end, 20_000))  # ~1 MB, 16x a pipe buffer
    with caplog.at_level(logging.WARNING, logger="strands_portkey.catalog.replica_logs"):
        writer.start()
        writer.join(10)
        assert not writer.is_alive(), "the capture stopped draining the pipe"
        assert capture.join(10)
    assert capture.lost_lines == 20_000
    warnings = [r for r in caplog.records if "dropped" in r.getMessage()]
    assert len(warnings) == 1
    assert "/dev/full" in warnings[0].getMessage()


def _write_lines(fd: int, count: int) -> None:
    with os.fdopen(fd, "wb") as writer:
        for n in range(count):
            writer.write(b"x" * 40 + b" %d\n" % n)
