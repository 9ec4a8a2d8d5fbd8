"""Helpers for server tests: the app over a MockTransport upstream, driven with httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from strands_portkey.server.app import create_app
from strands_portkey.server.limits import LimitRequest, Outcome, Reservation
from strands_portkey.server.settings import ServerSettings

HI = [{"role": "user", "content": "hi"}]
PUBLIC = "93.184.216.34"


async def public_resolver(host: str, port: int) -> list[str]:
    """Every name resolves to one public address (no DNS in unit tests)."""
    return [PUBLIC]


class RecordingLimiter:
    """Counts reservations and settlements; optionally refuses."""

    def __init__(self, refuse: Exception | None = None) -> None:
        self.refuse = refuse
        self.reserved: list[LimitRequest] = []
        self.settled: list[Outcome] = []

    async def reserve(self, principal, request: LimitRequest) -> Reservation:
        if self.refuse is not None:
            raise self.refuse
        self.reserved.append(request)
        return Reservation(principal, request, {"x-ratelimit-remaining-requests": "41"})

    async def settle(self, reservation: Reservation, outcome: Outcome) -> None:
        self.settled.append(outcome)


def make_app(respond: Callable[[httpx.Request], httpx.Response], **kwargs: Any):
    settings_args = {
        key: kwargs.pop(key)
        for key in ("default_config", "max_body_bytes", "env", "control_plane", "address_policy")
        if key in kwargs
    }
    settings = ServerSettings(
        # never the user's own store: a home that does not exist means no control plane
        env={
            "STRANDS_PORTKEY_HOME": "/nonexistent/strands-portkey-unit-home",
            **settings_args.pop("env", {}),
        },
        open_store=False,
        upstream_transport=httpx.MockTransport(respond),
        resolver=public_resolver,
        **settings_args,
    )
    kwargs.setdefault("no_auth", "authenticator" not in kwargs)
    return create_app(settings, **kwargs)


def client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")


@pytest.fixture
def limiter() -> RecordingLimiter:
    return RecordingLimiter()
