"""Replica logs with the time each line arrived, and ``since`` to pick the recent ones.

A replica's output goes through a pipe to a :class:`LogCapture` thread that writes each line to
the replica's log file as ``2026-11-22T10:15:03.123456Z <line>`` (UTC, microseconds; the style
of ``kubectl logs --timestamps``), flushing per line. The stamp is fixed-width, so "at or after
``since``" is a string comparison, and a stamp copied from a line can be passed back as ``since``.
"""

from __future__ import annotations

import codecs
import contextlib
import logging
import re
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any

from ..errors import InvalidRequestError

__all__ = ["LogCapture", "parse_since", "read_log", "select_lines", "stamp", "unstamped", "utc_now"]

logger = logging.getLogger(__name__)

_LONGEST = 64 * 1024  # a longer line is kept, split over several stamped lines
_STAMPED = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z ")
_STAMP_WIDTH = 27  # len("2026-11-22T10:15:03.123456Z")
_DURATION = re.compile(r"(?:\d+[smhd])+")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_FORMS = (
    "a duration back from now ('30s', '15m', '1h', '2d', '1h30m'), "
    "an ISO 8601 time ('2026-11-22T10:15:00Z'; without an offset it is UTC) or a datetime"
)


def utc_now() -> datetime:
    """The current time in UTC (the default clock of the deployer)."""
    return datetime.now(timezone.utc)


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def stamp(moment: datetime) -> str:
    """``2026-11-22T10:15:03.123456Z``: the moment in UTC (a naive moment is taken as UTC)."""
    return _as_utc(moment).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_since(value: Any, *, now: Callable[[], datetime]) -> datetime | None:
    """The UTC moment ``since`` names: a duration back from ``now()``, an ISO 8601 time or a datetime.

    Raises :class:`InvalidRequestError` (path ``since``) saying what was wrong and what is accepted.
    A moment in the future is allowed (no line is that recent).
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return _as_utc(value)
    if not isinstance(value, str):
        raise InvalidRequestError(f"expected {_FORMS}; got {type(value).__name__} {value!r}", path="since")
    text = value.strip()
    if _DURATION.fullmatch(text):
        try:
            back = sum(
                (timedelta(**{_UNITS[unit]: int(amount)}) for amount, unit in re.findall(r"(\d+)(\w)", text)),
                timedelta(0),
            )
            return _as_utc(now()) - back
        except (OverflowError, ValueError):  # too many digits, or before year 1
            raise InvalidRequestError(f"duration {value!r} is too long; {_FORMS}", path="since") from None
    if text.endswith(("Z", "z")):  # Python 3.10's fromisoformat does not read "Z"
        text = text[:-1] + "+00:00"
    try:
        return _as_utc(datetime.fromisoformat(text))
    except (ValueError, OverflowError):
        raise InvalidRequestError(f"cannot read {value!r}; expected {_FORMS}", path="since") from None


def select_lines(records: Iterable[str], *, lines: int | None, since: datetime | None) -> list[str]:
    """The stamped ``records`` at or after ``since``, then the last ``lines`` of those.

    A record without a stamp (a log written by something else) belongs to the stamped one before
    it; records before any stamp are older than every ``since``.
    """
    if since is None:
        kept = list(records)
    else:
        floor, current, kept = stamp(since), "", []
        for record in records:
            if _STAMPED.match(record):
                current = record[:_STAMP_WIDTH]
            if current >= floor:
                kept.append(record)
    return kept[-lines:] if lines else kept


def read_log(path: Path, *, lines: int | None, since: datetime | None) -> str:
    """The lines of the log file at ``path`` picked by :func:`select_lines` ("" if there is none)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    records = text.split("\n")
    if records[-1] == "":
        records.pop()
    return "\n".join(select_lines(records, lines=lines, since=since))


def unstamped(text: str) -> str:
    """``text`` with the stamp taken off each line (for messages that carry their own time)."""
    return "\n".join(line[_STAMP_WIDTH + 1 :] if _STAMPED.match(line) else line for line in text.split("\n"))


class LogCapture:
    """Copies a process's output into ``path``, one stamped line per line, on a daemon thread.

    The thread reads to end of file (the process exited and closed its output), keeping a last
    line that has no newline; bytes that are not UTF-8 become U+FFFD. If the file cannot be
    written the output is still drained (so the process never blocks on a full pipe), and the
    loss is counted in :attr:`lost_lines` and logged once.
    """

    def __init__(self, stream: IO[bytes], path: Path, *, now: Callable[[], datetime], name: str) -> None:
        self.path = path
        self.lost_lines = 0
        self._stream = stream
        self._out = open(path, "wb")  # noqa: SIM115 - closed by the thread once the stream ends
        self._now = now
        self._thread = threading.Thread(target=self._copy, name=name, daemon=True)
        self._thread.start()

    def _copy(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        try:
            with self._stream:
                for chunk in iter(lambda: self._stream.readline(_LONGEST), b""):
                    self._write(decoder.decode(chunk))
                self._write(decoder.decode(b"", final=True))
        finally:
            with contextlib.suppress(OSError):  # fails only after a failed write, already counted
                self._out.close()

    def _write(self, text: str) -> None:
        if not text:
            return
        when = stamp(self._now())
        pieces = text.splitlines() or [""]  # "\n" alone is a blank line, kept
        try:
            self._out.write("".join(f"{when} {piece}\n" for piece in pieces).encode("utf-8"))
            self._out.flush()
        except (OSError, ValueError) as error:
            if not self.lost_lines:
                logger.warning("cannot write %s (%s); this replica's output is dropped", self.path, error)
            self.lost_lines += len(pieces)

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the output to be drained; True once it is."""
        self._thread.join(timeout)
        return not self._thread.is_alive()
