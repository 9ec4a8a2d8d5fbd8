"""The in-memory engine: token buckets, budgets with periods, settle, refusals naming the limit.

Time is injected (a monotonic clock for the buckets, a wall clock for the budgets' periods).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strands_portkey.errors import BudgetExceededError, RateLimitExceededError
from strands_portkey.limits import Limits, MemoryLimits, Spend


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class Key:
    id: str
    limits: Limits


def key(rate: object = None, usage: object = None, key_id: str = "ak-1") -> Key:
    return Key(key_id, Limits.parse(rate, usage))


MARCH = dt.datetime(2026, 3, 31, 23, 0, tzinfo=dt.timezone.utc).timestamp()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def wall() -> Clock:
    return Clock(MARCH)


@pytest.fixture
def engine(clock: Clock, wall: Clock) -> MemoryLimits:
    return MemoryLimits(clock=clock, wall_clock=wall)


async def test_a_key_without_limits_is_never_counted(engine: MemoryLimits) -> None:
    free = key()
    for _ in range(1000):
        reservation = await engine.reserve(free, Spend(10**6, 100.0))
        await engine.settle(reservation, Spend(10**6, 100.0))
    assert repr(engine) == "MemoryLimits(buckets=0, budgets=0)"


async def test_requests_per_minute_allow_a_burst_then_the_refill_rate(
    engine: MemoryLimits, clock: Clock
) -> None:
    limited = key([{"type": "requests", "unit": "rpm", "value": 3}])
    for _ in range(3):
        await engine.reserve(limited)
    with pytest.raises(RateLimitExceededError) as info:
        await engine.reserve(limited)
    assert info.value.retry_after == pytest.approx(20.0)  # one request every 20 s
    assert info.value.status_code == 429
    assert info.value.limit == "rate_limits[0] (3 requests per minute)"
    assert "ak-1" in str(info.value)
    clock.now += 19.9
    with pytest.raises(RateLimitExceededError) as info:
        await engine.reserve(limited)
    assert info.value.retry_after == pytest.approx(0.1)
    clock.now += 0.1
    await engine.reserve(limited)  # exactly one more
    with pytest.raises(RateLimitExceededError):
        await engine.reserve(limited)


async def test_a_refused_request_takes_nothing_from_the_other_limits(
    engine: MemoryLimits, clock: Clock
) -> None:
    both = key(
        [{"type": "requests", "unit": "rps", "value": 100}, {"type": "tokens", "unit": "rpm", "value": 60}]
    )
    await engine.reserve(both, Spend(tokens=60))  # drains the token bucket
    for _ in range(50):
        with pytest.raises(RateLimitExceededError) as info:
            await engine.reserve(both, Spend(tokens=1))
        assert info.value.limit.startswith("rate_limits[1]")
    clock.now += 1.0  # one token back (60/min); the request bucket was not drained by the refusals
    await engine.reserve(both, Spend(tokens=1))


async def test_the_longest_wait_is_reported_when_several_limits_are_over(engine: MemoryLimits) -> None:
    two = key(
        [{"type": "requests", "unit": "rps", "value": 1}, {"type": "requests", "unit": "rph", "value": 1}]
    )
    await engine.reserve(two)
    with pytest.raises(RateLimitExceededError) as info:
        await engine.reserve(two)
    assert info.value.limit.startswith("rate_limits[1]")
    assert info.value.retry_after == pytest.approx(3600.0)


async def test_token_limits_reserve_the_estimate_and_settle_the_actual(
    engine: MemoryLimits, clock: Clock
) -> None:
    tokens = key([{"type": "tokens", "unit": "rpm", "value": 1000}])
    first = await engine.reserve(tokens, Spend(tokens=900))
    await engine.reserve(tokens, Spend(tokens=100))  # 0 left
    with pytest.raises(RateLimitExceededError):
        await engine.reserve(tokens, Spend(tokens=1))
    await engine.settle(first, Spend(tokens=400))  # 500 come back
    await engine.settle(first, Spend(tokens=0))  # settling twice changes nothing
    assert first.settled
    for _ in range(5):
        await engine.reserve(tokens, Spend(tokens=100))
    with pytest.raises(RateLimitExceededError):
        await engine.reserve(tokens, Spend(tokens=1))


async def test_a_token_estimate_larger_than_the_bucket_is_admitted_once_then_waits_off_its_debt(
    engine: MemoryLimits, clock: Clock
) -> None:
    tokens = key([{"type": "tokens", "unit": "rps", "value": 10}])
    await engine.reserve(tokens, Spend(tokens=25))
    with pytest.raises(RateLimitExceededError) as info:
        await engine.reserve(tokens)
    assert info.value.retry_after == pytest.approx(1.6)  # from -15 back to 1 at 10/s


async def test_a_cost_budget_admits_while_anything_is_left_and_names_the_limit(engine: MemoryLimits) -> None:
    budget = key(usage={"credit_limit": 1.0, "type": "cost", "alert_threshold": 0.5})
    first = await engine.reserve(budget, Spend(cost=0.4))
    assert first.used == (0.4,)
    assert first.alerts == ()
    second = await engine.reserve(budget, Spend(cost=0.4))
    assert second.used == (pytest.approx(0.8),)
    assert second.alerts == ("usage_limits[0] (cost 1 in total)",)
    await engine.reserve(budget, Spend(cost=0.4))  # 0.8 < 1: admitted, may pass the limit by this one
    with pytest.raises(BudgetExceededError) as info:
        await engine.reserve(budget, Spend(cost=0.01))
    assert info.value.status_code == 412
    assert info.value.limit == "usage_limits[0] (cost 1 in total)"
    assert "1.2 of 1 used" in str(info.value)
    await engine.settle(first, Spend(cost=0.1))  # 0.3 back: 0.9 used
    await engine.reserve(budget, Spend(cost=0.01))


async def test_a_token_budget_counts_tokens_and_ignores_cost(engine: MemoryLimits) -> None:
    budget = key(usage={"credit_limit": 100, "type": "tokens"})
    reservation = await engine.reserve(budget, Spend(tokens=150, cost=99.0))
    with pytest.raises(BudgetExceededError):
        await engine.reserve(budget)
    await engine.settle(reservation, Spend(tokens=60, cost=99.0))
    await engine.reserve(budget)


async def test_a_failed_call_settled_with_nothing_gives_its_reservation_back(engine: MemoryLimits) -> None:
    budget = key(usage={"credit_limit": 1.0})
    failed = await engine.reserve(budget, Spend(cost=5.0))
    with pytest.raises(BudgetExceededError):
        await engine.reserve(budget)
    await engine.settle(failed)
    await engine.reserve(budget)


async def test_budgets_reset_with_their_calendar_period(engine: MemoryLimits, wall: Clock) -> None:
    monthly = key(usage={"credit_limit": 1.0, "periodic_reset": "monthly"})
    late = await engine.reserve(monthly, Spend(cost=2.0))  # 31 March, 23:00 UTC
    with pytest.raises(BudgetExceededError):
        await engine.reserve(monthly)
    wall.now += 3600  # 1 April
    early = await engine.reserve(monthly, Spend(cost=0.5))
    await engine.settle(late, Spend(cost=0.0))  # March's settlement does not touch April
    assert early.used == (0.5,)
    await engine.reserve(monthly, Spend(cost=0.4))
    await engine.reserve(monthly, Spend(cost=0.4))  # 0.9 < 1
    with pytest.raises(BudgetExceededError):
        await engine.reserve(monthly)


async def test_budgets_are_checked_before_rate_limits_and_a_refusal_takes_no_request(
    engine: MemoryLimits,
) -> None:
    both = key([{"type": "requests", "unit": "rpd", "value": 2}], {"credit_limit": 1.0})
    await engine.reserve(both, Spend(cost=1.0))
    for _ in range(3):
        with pytest.raises(BudgetExceededError):
            await engine.reserve(both)
    raised = key([{"type": "requests", "unit": "rpd", "value": 2}], {"credit_limit": 5.0})
    await engine.reserve(raised)  # same key id, budget raised: one request left of the day's two
    with pytest.raises(RateLimitExceededError):
        await engine.reserve(raised)


async def test_keys_are_counted_apart(engine: MemoryLimits) -> None:
    rate = [{"type": "requests", "unit": "rpm", "value": 1}]
    await engine.reserve(key(rate, key_id="ak-a"))
    await engine.reserve(key(rate, key_id="ak-b"))
    with pytest.raises(RateLimitExceededError):
        await engine.reserve(key(rate, key_id="ak-a"))


@settings(max_examples=40, deadline=None)
@given(
    limit=st.floats(min_value=0.5, max_value=50.0),
    estimates=st.lists(st.floats(min_value=0.01, max_value=5.0), min_size=1, max_size=60),
)
def test_concurrent_reservations_never_overshoot_a_budget_by_more_than_one(
    limit: float, estimates: list[float]
) -> None:
    engine = MemoryLimits(clock=Clock(), wall_clock=Clock(MARCH))
    budget = key(usage={"credit_limit": limit})
    admitted: list[float] = []
    barrier = threading.Barrier(4)

    def worker(share: list[float]) -> None:
        barrier.wait()
        for estimate in share:
            try:
                asyncio.run(engine.reserve(budget, Spend(cost=estimate)))
            except BudgetExceededError:
                continue
            admitted.append(estimate)

    threads = [threading.Thread(target=worker, args=(estimates[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(admitted) < limit + max(estimates)
    if sum(estimates) < limit - 1e-6:  # clear of float rounding: threads add in any order
        assert sorted(admitted) == sorted(estimates)  # nothing refused while the budget lasts


async def test_usage_reads_what_the_next_request_is_judged_by_and_changes_nothing(
    engine: MemoryLimits, clock: Clock
) -> None:
    limited = key(
        [{"type": "requests", "unit": "rpm", "value": 60}, {"type": "tokens", "unit": "rph", "value": 3600}],
        {"credit_limit": 2.0, "alert_threshold": 1.0, "periodic_reset": "monthly"},
    )
    fresh = engine.usage(limited)
    assert [rate.remaining for rate in fresh.rate_limits] == [60.0, 3600.0]
    assert fresh.usage_limits[0].used == 0.0
    assert fresh.usage_limits[0].period == "2026-03-01"
    assert fresh.usage_limits[0].resets_at == "2026-04-01T00:00:00.000Z"
    held = await engine.reserve(limited, Spend(tokens=600, cost=1.5))
    clock.now += 1.0  # one request per second and one token per second come back
    now = engine.usage(limited)
    assert engine.usage(limited) == now  # reading takes nothing
    requests, tokens = now.rate_limits
    assert requests.remaining == pytest.approx(60.0)
    assert requests.resets_in == pytest.approx(0.0)
    assert tokens.remaining == pytest.approx(3001.0)
    assert tokens.resets_in == pytest.approx(599.0)
    budget = now.usage_limits[0]
    assert (budget.used, budget.remaining, budget.alerting) == (1.5, 0.5, True)
    await engine.settle(held, Spend(tokens=100, cost=0.25))
    settled = engine.usage(limited)
    assert settled.usage_limits[0].used == 0.25
    assert not settled.usage_limits[0].alerting
    assert settled.rate_limits[1].remaining == pytest.approx(3501.0)
    assert settled.to_dict()["usage_limits"][0]["credit_limit"] == 2.0


async def test_usage_of_a_budget_reads_zero_once_its_period_ends(engine: MemoryLimits, wall: Clock) -> None:
    daily = key(usage={"credit_limit": 5.0, "type": "tokens", "periodic_reset": "daily"})
    await engine.reserve(daily, Spend(tokens=4))
    assert engine.usage(daily).usage_limits[0].used == 4.0
    wall.now += 3600.0  # past midnight UTC: a new day
    after = engine.usage(daily).usage_limits[0]
    assert (after.used, after.period) == (0.0, "2026-04-01")


def test_usage_of_a_key_without_limits_is_empty(engine: MemoryLimits) -> None:
    assert engine.usage(key()).to_dict() == {"rate_limits": [], "usage_limits": []}
