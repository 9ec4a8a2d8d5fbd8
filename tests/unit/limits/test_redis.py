"""RedisLimits without a server: construction checks, and no password in its repr (offline)."""

from __future__ import annotations

import pytest

from strands_portkey.limits.redis import RedisLimits


def test_the_password_never_shows() -> None:
    engine = RedisLimits("redis://user:hunter2-secret@cache.internal:6380/2", fail_open=True)
    assert "hunter2" not in repr(engine)
    assert (
        repr(engine)
        == "RedisLimits(url='redis://user:***@cache.internal:6380/2', prefix='spk:limits:', fails=open)"
    )


def test_a_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="timeout_s"):
        RedisLimits(timeout_s=0)
