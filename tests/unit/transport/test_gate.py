import asyncio

import pytest

from strands_portkey.transport import Gate


async def test_uncontended_slots_are_taken_at_once_and_given_back() -> None:
    gate = Gate(2)
    assert await gate.acquire()
    assert await gate.acquire()
    assert gate.in_use == 2
    gate.release()
    gate.release()
    assert gate.in_use == 0


async def test_waiters_are_served_in_arrival_order() -> None:
    gate = Gate(1)
    await gate.acquire()
    served: list[int] = []

    async def wait(n: int) -> None:
        await gate.acquire()
        served.append(n)

    tasks = [asyncio.create_task(wait(n)) for n in range(5)]
    await asyncio.sleep(0)
    assert gate.waiting == 5
    for _ in range(5):
        gate.release()
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    assert served == [0, 1, 2, 3, 4]


async def test_a_wait_that_runs_out_returns_false_and_leaves_the_line() -> None:
    gate = Gate(1)
    await gate.acquire()
    assert await gate.acquire(timeout=0) is False
    assert gate.waiting == 0
    gate.release()
    assert gate.in_use == 0


async def test_a_cancelled_waiter_leaves_the_line_without_taking_a_slot() -> None:
    gate = Gate(1)
    await gate.acquire()
    waiting = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert gate.waiting == 0
    gate.release()
    assert gate.in_use == 0


async def test_a_slot_granted_to_a_waiter_cancelled_at_that_moment_goes_to_the_next() -> None:
    gate = Gate(1)
    await gate.acquire()
    first = asyncio.create_task(gate.acquire())
    second = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0)
    gate.release()  # hands the slot to `first`...
    first.cancel()  # ...which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await second is True
    assert (gate.in_use, gate.waiting) == (1, 0)


async def test_try_acquire_takes_a_free_slot_but_never_jumps_the_line() -> None:
    gate = Gate(1)
    assert gate.try_acquire() is True
    assert gate.try_acquire() is False  # none free
    waiting = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0)
    gate.release()  # handed to the waiter, not left free for try_acquire
    assert gate.try_acquire() is False
    assert await waiting is True
