"""The analytics writer's ``flush_interval``: the bound on what a process killed outright loses."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from strands_portkey.analytics.record import RequestRecord, outcome_record
from strands_portkey.analytics.sinks import RecordWriter, check_flush_interval
from strands_portkey.catalog.billing import PriceBook
from strands_portkey.controlplane import FLUSH_INTERVAL_ENV, ControlPlane, open_control_plane
from strands_portkey.errors import ConfigurationError
from strands_portkey.types import ChatRequest, RouteInfo

from .conftest import MASTER

_GIVE_UP_S = 10.0  # only a hang waits this long; a passing test never does


def _record() -> RequestRecord:
    request = ChatRequest.from_body({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    return outcome_record(
        request,
        RouteInfo(trace_id="t"),
        {},
        started_at=0.0,
        latency_ms=1.0,
        usage=None,
        error=None,
        streamed=False,
    )


class SteppedWait:
    """Stands in for the writer thread's timed wait: records the timeout, returns when stepped."""

    def __init__(self) -> None:
        self.timeouts: list[float] = []
        self.waiting = threading.Semaphore(0)
        self._elapsed = threading.Semaphore(0)
        self.free = False

    def __call__(self, timeout: float) -> bool:
        self.timeouts.append(timeout)
        self.waiting.release()
        if not self.free:
            assert self._elapsed.acquire(timeout=_GIVE_UP_S)
        return False

    def elapse(self) -> None:
        """One interval passes."""
        self._elapsed.release()

    def next_wait(self) -> None:
        """Block until the writer thread is waiting again."""
        assert self.waiting.acquire(timeout=_GIVE_UP_S)


def test_the_writer_writes_queued_records_once_per_flush_interval(plane: ControlPlane) -> None:
    stepped = SteppedWait()
    writer = RecordWriter(plane.store, PriceBook, flush_interval=0.25, wait=stepped)
    writer.submit(_record())  # starts the thread, which waits one interval
    stepped.next_wait()
    assert stepped.timeouts == [0.25]
    assert writer.stats().written == 0  # nothing written before the interval is up
    writer.submit(_record())
    stepped.elapse()  # the interval passes: both queued records are written before the next wait
    stepped.next_wait()
    assert writer.stats().written == 2
    assert stepped.timeouts == [0.25, 0.25]
    stepped.free = True
    stepped.elapse()
    writer.close()
    assert writer.stats() == writer.stats().__class__(written=2, dropped=0, failed=0, queued=0)


def test_a_short_real_interval_writes_without_close_or_flush(plane: ControlPlane) -> None:
    written = threading.Event()
    real_wait = threading.Event()

    def wait(timeout: float) -> bool:
        if writer.stats().written:
            written.set()
        return real_wait.wait(timeout)

    writer = RecordWriter(plane.store, PriceBook, flush_interval=0.01, wait=wait)
    writer.submit(_record())
    assert written.wait(_GIVE_UP_S)  # written by the thread alone: no flush(), no close()
    writer.close()


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), True, "soon", None])
def test_flush_interval_must_be_a_positive_number(plane: ControlPlane, bad: object) -> None:
    with pytest.raises(ConfigurationError) as caught:
        RecordWriter(plane.store, PriceBook, flush_interval=bad)  # type: ignore[arg-type]
    assert caught.value.path == "flush_interval"
    assert "positive number of seconds" in caught.value.message


def test_the_control_plane_passes_its_flush_interval_to_its_writer(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"ControlPlane\.flush_interval"):
        ControlPlane(f"sqlite:///{tmp_path / 'x.db'}", master_key=MASTER, flush_interval=0)
    plane = ControlPlane(f"sqlite:///{tmp_path / 'cp.db'}", master_key=MASTER, flush_interval=0.2)
    assert plane.records.flush_interval == 0.2
    plane.close()


def test_the_default_plane_reads_the_interval_from_the_environment(tmp_path: Path) -> None:
    env = {"STRANDS_PORTKEY_HOME": str(tmp_path), "STRANDS_PORTKEY_MASTER_KEY": MASTER}
    plane = open_control_plane({**env, FLUSH_INTERVAL_ENV: "0.5"}, transport=None, create=True)
    assert plane is not None
    assert plane.records.flush_interval == 0.5
    plane.close()
    default = open_control_plane(env, transport=None, create=True)
    assert default is not None
    assert default.records.flush_interval == 1.0
    default.close()
    with pytest.raises(ConfigurationError, match=FLUSH_INTERVAL_ENV):
        open_control_plane({**env, FLUSH_INTERVAL_ENV: "-3"}, transport=None, create=True)
    assert check_flush_interval("2") == 2.0
