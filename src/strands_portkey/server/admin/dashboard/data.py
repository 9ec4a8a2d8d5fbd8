"""The dashboard's data routes: the overview, the request log, one request, a config's tree.

Thin handlers over :class:`~.view.DashboardView` (``services.dashboard_for(caller)``): a member's
answers hold only the requests made with its own keys. Any client may call them with a gateway
key, the dashboard calls them with its session cookie.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from ....analytics.request_log import LogFilters
from ....analytics.window import Window, parse_window
from ....errors import InvalidRequestError
from ..bodies import MAX_LIMIT, Body
from ..caller import CallerDep
from ..services import ServicesDep
from .config_tree import config_tree

__all__ = ["router"]

WindowName = Literal["1h", "24h", "7d", "30d"]
Split = Literal["model", "provider"]
Filter = Annotated[str | None, Field(min_length=1, max_length=300)]
Time = Annotated[str | None, Field(description="YYYY-MM-DD or an ISO-8601 time (UTC when naive).")]


class RequestQuery(BaseModel):
    """The request log's query parameters: equality filters, a time range, a page."""

    model_config = ConfigDict(extra="forbid")

    model: Filter = None
    provider: Filter = None
    status: Literal["success", "error", "cancelled"] | None = None
    key: Filter = None
    user: Filter = None
    trace_id: Filter = None
    cache: Literal["HIT", "SEMANTIC HIT", "MISS", "SEMANTIC MISS", "REFRESH", "DISABLED"] | None = None
    since: Time = None
    until: Time = None
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0)


class ConfigTreeBody(Body):
    """A config to draw (Portkey's format, as saved or as written)."""

    config: dict[str, Any]


def _time_range(since: str | None, until: str | None) -> Window:
    """The log's time range; errors name ``query.since`` / ``query.until``, the parameters sent."""
    try:
        return parse_window(since, until)
    except InvalidRequestError as error:
        names = {"start_date": "query.since", "end_date": "query.until"}
        path = names.get(error.path or "", error.path)
        raise InvalidRequestError(str(error).split(": ", 1)[-1], path=path) from None


def router() -> APIRouter:
    """The dashboard's data routes."""
    r = APIRouter(tags=["dashboard"])

    @r.get("/api/dashboard/overview", summary="Overview: the window's numbers and their series")
    def dashboard_overview(
        caller: CallerDep, services: ServicesDep, window: WindowName = "24h", split: Split = "model"
    ) -> dict[str, Any]:
        return services.dashboard_for(caller).overview(window, split)

    @r.get("/api/requests", summary="The request log, newest first, filtered")
    def requests(
        caller: CallerDep, services: ServicesDep, query: Annotated[RequestQuery, Query()]
    ) -> dict[str, Any]:
        window = _time_range(query.since, query.until)
        names = ("model", "provider", "status", "key", "user", "trace_id", "cache")
        given = {name: getattr(query, name) for name in names if getattr(query, name) is not None}
        filters = LogFilters(given, window.start, window.end)
        return services.dashboard_for(caller).requests(filters, query.limit, query.offset)

    @r.get("/api/requests/{request_id}", summary="One request: its route, attempts, guardrails, cost")
    def request(request_id: str, caller: CallerDep, services: ServicesDep) -> dict[str, Any]:
        return services.dashboard_for(caller).request(request_id)

    @r.post("/api/dashboard/config-tree", summary="A config's plan tree, inheritance and validation error")
    def tree(body: ConfigTreeBody, caller: CallerDep) -> dict[str, Any]:
        return config_tree(body.config)

    return r
