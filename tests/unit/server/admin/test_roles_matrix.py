"""The roles matrix, generated from the roles table: every route, called without a key, by a member,
by another organization's member and by an admin, answers as its rule says at the access layer.

What happens past the access check (400 for the placeholder body, 404 for the placeholder id) is
each resource's own tests' business; here only who is let in is checked: no key -> 401 (unless
public), a member on an admin route -> 403, an admin -> never 401 / 403.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from strands_portkey.server.admin.roles import ROUTE_ROLES
from tests.unit.server.admin.conftest import Keys, call

_PLACEHOLDER = re.compile(r"\{[^}]+\}")
_CASES = sorted(ROUTE_ROLES.items())


def _concrete(path: str) -> str:
    return _PLACEHOLDER.sub("no-such-id", path)


def _request(method: str) -> dict[str, Any]:
    return {"json": {}} if method in {"POST", "PUT", "PATCH"} else {}


@pytest.mark.parametrize(("route", "role"), _CASES, ids=[f"{m} {p}" for (m, p), _ in _CASES])
async def test_who_is_let_in(app: Any, keys: Keys, route: tuple[str, str], role: str) -> None:
    method, path = route
    url = _concrete(path)
    anonymous = await call(app, method, url, **_request(method))
    member = await call(app, method, url, key=keys.member, **_request(method))
    outsider = await call(app, method, url, key=keys.outsider, **_request(method))
    admin = await call(app, method, url, key=keys.admin, **_request(method))
    if role == "public":
        assert anonymous.status_code not in {401, 403}
    else:
        assert anonymous.status_code == 401
    if role == "admin":
        assert member.status_code == outsider.status_code == 403
    else:
        assert member.status_code not in {401, 403}
        assert outsider.status_code not in {401, 403}
    assert admin.status_code not in {401, 403}
    for answer in (anonymous, member, outsider, admin):
        assert answer.status_code < 500, answer.text
