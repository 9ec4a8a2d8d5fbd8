"""Fixed windows in memory: admitted up to the limit, then the wait until the window ends."""

from __future__ import annotations

from strands_portkey.limits.windows import MemoryWindows


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def _take(windows: MemoryWindows, key: str = "u") -> float | None:
    return windows.take(key, limit=3, window_s=600)


def test_memory_windows_count_the_same_way() -> None:
    clock = Clock()
    windows = MemoryWindows(clock=clock)
    assert [_take(windows) for _ in range(3)] == [None, None, None]
    clock.now += 250
    assert _take(windows) == 350
    clock.now += 350
    assert _take(windows) is None
    assert _take(windows, "other") is None
