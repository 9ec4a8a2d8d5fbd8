"""Progress for anything that takes longer than a second: a live bar on a terminal, lines elsewhere.

On a TTY, rich draws a bar (spinner, what it is doing, how far, elapsed time) on stderr. On
anything else (CI logs, a pipe) a live bar would be noise, so plain lines are printed instead: one
per tenth of the way (or per step when there are few), and one per change of what it is doing.
Both end with one line saying how long it took. Nothing goes to stdout, so ``--json`` stays clean.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

__all__ = ["Tracker", "progress"]


class Tracker:
    """Reports how far a task is: :meth:`advance`, :meth:`update`, :meth:`note`."""

    def __init__(self, description: str, total: int | None, out: TextIO, clock: Callable[[], float]) -> None:
        self.description = description
        self.total = total
        self.completed = 0
        self.started = clock()
        self._out = out
        self._clock = clock
        self._last_tenth = -1
        self._note: str | None = None
        self._bar: Any = None
        self._task: Any = None

    def _attach(self, bar: Any) -> None:
        self._bar = bar
        self._task = bar.add_task(self.description, total=self.total)

    def update(
        self, completed: int | None = None, *, total: int | None = None, note: str | None = None
    ) -> None:
        """Set how far (``completed`` of ``total``) and what is being done now (``note``)."""
        if total is not None:
            self.total = total
        if completed is not None:
            self.completed = completed
        changed_note = note is not None and note != self._note
        if note is not None:
            self._note = note
        if self._bar is not None:
            label = f"{self.description}: {self._note}" if self._note else self.description
            self._bar.update(self._task, completed=self.completed, total=self.total, description=label)
            return
        self._plain(changed_note)

    def advance(self, count: int = 1, *, note: str | None = None) -> None:
        """``count`` more done."""
        self.update(self.completed + count, note=note)

    def note(self, text: str) -> None:
        """Say what is being done now (a step without a count)."""
        self.update(note=text)

    def elapsed(self) -> float:
        """Seconds since the task started."""
        return self._clock() - self.started

    def _plain(self, changed_note: bool) -> None:
        where = ""
        report = changed_note
        if self.total:
            tenth = min(10, 10 * self.completed // self.total) if self.total > 10 else self.completed
            if tenth != self._last_tenth:
                self._last_tenth, report = tenth, True
            percent = 100 * self.completed // self.total
            where = f" {self.completed}/{self.total} ({percent}%)"
        if report:
            note = f" {self._note}" if self._note else ""
            self._out.write(f"{self.description}:{where}{note} [{self.elapsed():.1f} s]\n")
            self._out.flush()


@contextmanager
def progress(
    description: str,
    total: int | None = None,
    *,
    out: TextIO | None = None,
    live: bool | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Tracker]:
    """Track a task; ``live`` (default: stderr is a terminal) draws a rich bar instead of lines."""
    stream = out if out is not None else sys.stderr
    tracker = Tracker(description, total, stream, clock)
    if live is None:
        live = stream.isatty()
    if not live:
        yield tracker
        stream.write(f"{description}: done in {tracker.elapsed():.1f} s\n")
        stream.flush()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None:  # a count to show; otherwise the spinner and the time say it is working
        columns += [BarColumn(), MofNCompleteColumn()]
    with Progress(*columns, TimeElapsedColumn(), console=Console(file=stream), transient=False) as bar:
        tracker._attach(bar)
        yield tracker
    stream.write(f"{description}: done in {tracker.elapsed():.1f} s\n")
    stream.flush()
