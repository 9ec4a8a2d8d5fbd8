"""The admin REST API: the control plane over HTTP (FastAPI, mounted under the data plane).

One service layer, two faces: handlers parse, call the same service objects ``gw.ai``,
``gw.providers``, ``gw.api_keys``, ``gw.configs`` and ``gw.prompts`` use (through
:class:`~.services.AdminServices`), and serialise. Access is decided by one table
(:mod:`.roles`) through one dependency (:func:`~.caller.current_caller`); errors map through
the server's one table (:mod:`.errors`). The OpenAPI document is generated from the code at
``/openapi.json``, with Swagger UI at ``/docs`` (no CDN).

FastAPI here, plain Starlette on the data plane: the admin API gains request models, field-path
errors and a generated OpenAPI document; the hot path keeps its direct dispatch. The app is
mounted last, so it also answers the data plane's unknown paths (404 in the same JSON shape).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, FastAPI
from starlette.routing import Route

from .body_limit import ADMIN_MAX_BODY_BYTES, BodyLimit
from .caller import CallerDep, current_caller
from .dashboard import data, pages
from .docs import install_docs
from .errors import install_error_handlers
from .openapi import install_openapi
from .services import AdminServices

if TYPE_CHECKING:
    from ..state import ServerState

__all__ = ["admin_app", "admin_routers", "served_routes"]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("strands-agents-portkey")
    except PackageNotFoundError:  # a source tree without an install
        return "0"


def _me_router() -> APIRouter:
    router = APIRouter(tags=["session"])

    @router.get("/api/me", summary="Who the caller's gateway key acts as")
    def me(caller: CallerDep) -> dict[str, str]:
        return {
            "keyId": caller.principal.key_id,
            "name": caller.principal.name,
            "user": caller.actor.user,
            "organizationId": caller.actor.organization_id,
            "role": caller.role,
        }

    return router


def admin_routers() -> list[APIRouter]:
    """Every resource's router, in the order their routes are matched."""
    from . import ai_models, analytics, api_keys, configs, prompts, provider_keys
    from .ai_providers import router as ai_providers

    return [
        _me_router(),
        ai_models.router(),
        provider_keys.router(),
        analytics.router(),
        api_keys.router(),
        configs.router(),
        prompts.router(),
        ai_providers(),
        data.router(),
        pages.router(),
    ]


def served_routes(app: FastAPI, routers: list[APIRouter] | None = None) -> set[tuple[str, str]]:
    """``(method, path)`` of every route ``app`` serves (``HEAD`` left out: it is judged as ``GET``).

    The app's own routes plus those of ``routers`` (default :func:`admin_routers`, what
    :func:`admin_app` includes); routers declare full paths (``APIRouter(prefix=...)`` is fine,
    ``include_router(prefix=...)`` is not: the roles table is keyed by the declared path).
    """
    found: set[tuple[str, str]] = set()
    for route in [*app.router.routes, *(r for router in routers or admin_routers() for r in router.routes)]:
        if isinstance(route, Route):
            found.update((method, route.path) for method in route.methods or () if method != "HEAD")
    return found


def admin_app(state: ServerState) -> FastAPI:
    """The admin API over ``state`` (its authenticator, control plane and settings)."""
    app = FastAPI(
        title="strands-agents-portkey",
        version=_version(),
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(current_caller)],
    )
    app.state.server = state
    app.state.services = AdminServices(state)
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=min(ADMIN_MAX_BODY_BYTES, state.settings.max_body_bytes))
    install_docs(app)
    install_openapi(app)
    for router in admin_routers():
        app.include_router(router)
    return app
