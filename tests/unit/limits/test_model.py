"""Parsing Portkey's limit shapes (errors name the field) and the budgets' calendar periods."""

from __future__ import annotations

import datetime as dt

import pytest

from strands_portkey.errors import ConfigurationError
from strands_portkey.limits import Limits, RateLimit, Spend, UsageLimit
from strands_portkey.limits.model import period_of


def epoch(*args: int) -> float:
    return dt.datetime(*args, tzinfo=dt.timezone.utc).timestamp()


def test_portkey_shapes_parse_and_render_back() -> None:
    limits = Limits.parse(
        [{"type": "requests", "unit": "rpm", "value": 60}, {"type": "tokens", "unit": "rpd", "value": 1000}],
        {"credit_limit": 10, "type": "cost", "alert_threshold": 8, "periodic_reset": "monthly"},
    )
    assert limits.rate_limits == (RateLimit("requests", "rpm", 60), RateLimit("tokens", "rpd", 1000))
    assert limits.usage_limits == (UsageLimit(10.0, "cost", 8.0, "monthly"),)
    assert limits.to_dict()["usage_limits"] == [
        {"credit_limit": 10.0, "type": "cost", "alert_threshold": 8.0, "periodic_reset": "monthly"}
    ]
    assert Limits.parse(**limits.to_dict()) == limits
    assert limits.rate_limits[0].per_second == 1.0
    assert limits.rate_limits[0].label(0) == "rate_limits[0] (60 requests per minute)"
    assert limits.usage_limits[0].label(0) == "usage_limits[0] (cost 10 per month)"


def test_no_limits_is_falsy_and_usage_defaults_to_a_cost_budget_that_never_resets() -> None:
    assert not Limits.parse()
    (budget,) = Limits.parse(usage_limits=[{"credit_limit": 5}]).usage_limits
    assert (budget.type, budget.periodic_reset, budget.alert_threshold) == ("cost", None, None)


@pytest.mark.parametrize(
    ("rate", "usage", "path"),
    [
        ([{"type": "requests", "unit": "rpw", "value": 1}], None, "key.rate_limits[0].unit"),
        ([{"type": "calls", "unit": "rpm", "value": 1}], None, "key.rate_limits[0].type"),
        ([{"type": "requests", "unit": "rpm", "value": 0}], None, "key.rate_limits[0].value"),
        ([{"type": "requests", "unit": "rpm", "value": 1.5}], None, "key.rate_limits[0].value"),
        ([{"type": "requests", "unit": "rpm"}], None, "key.rate_limits[0].value"),
        ([{"unit": "rpm", "value": 1}], None, "key.rate_limits[0].type"),
        ([{"type": "requests", "unit": "rpm", "value": 1, "burst": 2}], None, "key.rate_limits[0]"),
        ({"type": "requests"}, None, "key.rate_limits"),
        (["x"], None, "key.rate_limits[0]"),
        (None, {"credit_limit": -1}, "key.usage_limits.credit_limit"),
        (None, {"credit_limit": float("nan")}, "key.usage_limits.credit_limit"),
        (None, {"credit_limit": True}, "key.usage_limits.credit_limit"),
        (None, {"credit_limit": 5, "type": "dollars"}, "key.usage_limits.type"),
        (None, {"credit_limit": 5, "alert_threshold": 6}, "key.usage_limits.alert_threshold"),
        (
            None,
            [{"credit_limit": 5}, {"credit_limit": 5, "periodic_reset": "yearly"}],
            "key.usage_limits[1].periodic_reset",
        ),
    ],
)
def test_bad_limits_name_the_field(rate: object, usage: object, path: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Limits.parse(rate, usage, path="key")
    assert info.value.path == path


@pytest.mark.parametrize(
    ("reset", "now", "period", "ends"),
    [
        (None, epoch(2026, 3, 4, 5), "total", float("inf")),
        ("daily", epoch(2026, 3, 4, 23, 59), "2026-03-04", epoch(2026, 3, 5)),
        ("weekly", epoch(2026, 3, 8, 12), "2026-03-02", epoch(2026, 3, 9)),  # Sunday -> Monday's week
        ("monthly", epoch(2026, 2, 28, 23), "2026-02-01", epoch(2026, 3, 1)),
        ("monthly", epoch(2024, 12, 31, 23), "2024-12-01", epoch(2025, 1, 1)),
    ],
)
def test_periods_are_utc_calendar_periods(reset: object, now: float, period: str, ends: float) -> None:
    found = period_of(reset, now)  # type: ignore[arg-type]
    assert (found.id, found.ends_at) == (period, ends)


@pytest.mark.parametrize(("tokens", "cost"), [(-1, 0.0), (1.5, 0.0), (0, -0.1), (0, float("inf"))])
def test_a_spend_is_never_negative_or_infinite(tokens: object, cost: object) -> None:
    with pytest.raises(ConfigurationError):
        Spend(tokens, cost)  # type: ignore[arg-type]
