"""What one caller may read of the dashboard's data: everything for an admin, its own requests for a member.

The handlers of :mod:`.data` call this view (through ``services.dashboard_for(caller)``), never the
store: it opens a read session and runs the queries of :mod:`strands_portkey.analytics.dashboard`
and :mod:`strands_portkey.analytics.request_log` with ``owner`` set to a member's user.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ....analytics.dashboard import overview, span_of
from ....analytics.request_log import LogFilters, find_request, list_requests
from ....errors import ResourceNotFoundError

if TYPE_CHECKING:
    from ....controlplane import ControlPlane
    from ..caller import Caller

__all__ = ["DashboardView"]

_log = logging.getLogger("strands_portkey.server.admin")


class DashboardView:
    """The dashboard's reads for one caller (``owner`` None: an admin sees every request)."""

    def __init__(
        self,
        plane: ControlPlane,
        caller: Caller,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self._plane, self._caller = plane, caller
        self._owner = None if caller.is_admin else caller.user
        self._now = now or (lambda: dt.datetime.now(dt.timezone.utc))

    def overview(self, window: str, split: str) -> dict[str, Any]:
        """The Overview page's numbers and series for a named window ending now."""
        span = span_of(window, self._now())
        with self._plane.store.reading() as session:
            return overview(session, span, split, self._owner) | {"scope": self._scope()}

    def requests(self, filters: LogFilters, limit: int, offset: int) -> dict[str, Any]:
        """A page of the request log."""
        with self._plane.store.reading() as session:
            return list_requests(session, filters, self._owner, limit, offset)

    def request(self, request_id: str) -> dict[str, Any]:
        """One request whole; 404 when absent or another user's (logged, with the key id)."""
        with self._plane.store.reading() as session:
            found = find_request(session, request_id, self._owner)
        if found is None:
            if self._owner is not None:
                _log.info("request %s not shown to key %s", request_id, self._caller.principal.key_id)
            raise ResourceNotFoundError(
                f"request {request_id!r} does not exist or you do not have access to it"
            )
        return found

    def _scope(self) -> str:
        return "all requests" if self._owner is None else f"requests made with {self._owner}'s keys"
