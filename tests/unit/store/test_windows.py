"""Fixed-window counters in the database: admitted up to the limit, the wait past it, shared by stores."""

from __future__ import annotations

import threading
from pathlib import Path

from strands_portkey.store.db import Store
from strands_portkey.store.windows import StoreWindows


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def _take(windows: StoreWindows, key: str = "u") -> float | None:
    return windows.take(key, limit=3, window_s=600)


def test_a_window_admits_its_limit_then_says_how_long_to_wait(tmp_path: Path) -> None:
    store, clock = Store(f"sqlite:///{tmp_path / 'w.db'}"), Clock()
    windows = StoreWindows(store, clock=clock)
    assert [_take(windows) for _ in range(3)] == [None, None, None]
    clock.now += 100
    assert _take(windows) == 500
    assert _take(windows, "other") is None  # keys count apart
    clock.now += 500  # the window ends 600 s after it opened
    assert _take(windows) is None
    clock.now += 1
    assert [_take(windows), _take(windows)] == [None, None]
    assert _take(windows) == 599
    store.close()


def test_two_stores_on_one_database_share_the_count(tmp_path: Path) -> None:
    url, clock = f"sqlite:///{tmp_path / 'w.db'}", Clock()
    first, second = Store(url), Store(url)
    a, b = StoreWindows(first, clock=clock), StoreWindows(second, clock=clock)
    assert [_take(a), _take(b), _take(a)] == [None, None, None]
    assert _take(b) == 600
    first.close()
    second.close()


def test_racing_threads_never_take_more_than_the_limit(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'w.db'}")
    windows = StoreWindows(store, clock=Clock())
    outcomes: list[float | None] = []
    lock = threading.Lock()

    def run() -> None:
        for _ in range(5):
            outcome = windows.take("u", limit=7, window_s=600)
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(None) == 7
    assert len(outcomes) == 20
    store.close()
