"""The one app factory: :func:`create_app` builds the server's Starlette app from its settings.

Plain Starlette routes (no FastAPI): the data plane parses its own bodies, so request models and
dependency injection would only add work to the hot path. Every data-plane route exists with and
without the ``/v1`` prefix (Portkey's SDK, OpenAI's SDK and ``curl`` habits differ). Health
checks need no key: ``/health/live`` says the process answers, ``/health/ready`` that the store
(and Redis, when configured) can be reached.

The seams the next pieces plug into: ``authenticator`` (gateway API keys), ``limiter`` (budgets,
rate limits), ``saved_configs`` (``pc-...`` ids), and ``extra_routes`` (more data-plane routes,
e.g. Anthropic's ``/v1/messages``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import Scope

from ..errors import ConfigurationError
from .auth import Authenticator, NoAuth
from .dataplane.embeddings import embeddings
from .dataplane.messages import messages
from .dataplane.models import list_models
from .dataplane.openai import chat_completions, json_response
from .dataplane.prompts import prompt_completions, prompt_render
from .direct import ServerApp
from .limits import Limiter, NoLimits
from .metrics import metrics
from .routes import SavedConfigs
from .settings import ServerSettings, load_config_file
from .state import ServerState

__all__ = ["DEFAULT_CONFIG_ENV", "NO_AUTH_ENV", "app_from_env", "create_app"]

_log = logging.getLogger("strands_portkey.server")

DEFAULT_CONFIG_ENV = "STRANDS_PORTKEY_SERVER_CONFIG"
"""A JSON file with the default config (``serve --config``; read by every worker)."""
NO_AUTH_ENV = "_STRANDS_PORTKEY_SERVE_NO_AUTH"
"""Set only by ``strands-portkey serve --no-auth`` on a loopback bind, for its workers."""


def data_plane_routes() -> list[BaseRoute]:
    """The OpenAI-compatible routes and Anthropic's ``/messages``, with and without ``/v1``."""
    routes: list[BaseRoute] = []
    for prefix in ("/v1", ""):
        routes.append(Route(f"{prefix}/chat/completions", chat_completions, methods=["POST"]))
        routes.append(Route(f"{prefix}/models", list_models, methods=["GET"]))
        routes.append(Route(f"{prefix}/messages", messages, methods=["POST"]))
        routes.append(Route(f"{prefix}/embeddings", embeddings, methods=["POST"]))
        routes.append(
            Route(f"{prefix}/prompts/{{prompt_id}}/completions", prompt_completions, methods=["POST"])
        )
        routes.append(Route(f"{prefix}/prompts/{{prompt_id}}/render", prompt_render, methods=["POST"]))
    return routes


async def _live(request: Request) -> Response:
    return json_response({"status": "ok"})


async def _ready(request: Request) -> Response:
    checks = await request.app.state.server.ready()
    ok = all(value == "ok" for value in checks.values())
    return json_response({"status": "ok" if ok else "unavailable", "checks": checks}, 200 if ok else 503)


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    kind = {404: "not_found_error", 405: "invalid_request_error"}.get(status, "api_error")
    message = {404: f"no route {request.url.path}", 405: f"{request.method} is not allowed here"}.get(
        status, "the server failed to process the request"
    )
    if request.url.path.endswith("/messages"):  # Anthropic's route answers in Anthropic's shape
        return json_response({"type": "error", "error": {"type": kind, "message": message}}, status)
    return json_response({"error": {"message": message, "type": kind, "param": None, "code": None}}, status)


ADMIN_PREFIXES = ("/api/", "/openapi.json", "/docs", "/ui")
"""Paths the admin app answers (the admin REST API, its OpenAPI document and docs, the dashboard)."""


class _AdminMount(Mount):
    """The admin app, for its own paths only: the data plane keeps its 404 and 405 answers."""

    def __init__(self, app: Starlette) -> None:
        super().__init__("", app=app)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope.get("path", "")
        ours = any(path == prefix.rstrip("/") or path.startswith(prefix) for prefix in ADMIN_PREFIXES)
        if scope["type"] == "http" and ours:
            return super().matches(scope)
        return Match.NONE, {}


def _admin(state: ServerState) -> Starlette:
    from .admin import admin_app  # FastAPI: loaded with the app, not with the package

    return admin_app(state)


def create_app(
    settings: ServerSettings | None = None,
    *,
    authenticator: Authenticator | None = None,
    no_auth: bool = False,
    limiter: Limiter | None = None,
    saved_configs: SavedConfigs | None = None,
    extra_routes: Sequence[BaseRoute] = (),
    gateway_keys: bool = False,
) -> Starlette:
    """The server app. Needs an ``authenticator``, ``gateway_keys=True`` or an explicit ``no_auth=True``.

    ``gateway_keys=True``: callers present ``spk-...`` keys of the store (``gw.api_keys``, and
    ``STRANDS_PORTKEY_ADMIN_KEY``); their roles, scopes, allow-lists, rate limits and budgets
    apply (limits in Redis when ``settings.redis_url`` is set, else in this process); saved
    configs come from the store.
    """
    if authenticator is None and not no_auth and not gateway_keys:
        raise ConfigurationError(
            "the server needs an authenticator (gateway API keys), or no_auth=True for a loopback "
            "development server",
            path="create_app.authenticator",
        )
    settings = settings or ServerSettings.from_env()
    state = ServerState(
        settings,
        authenticator or NoAuth(),
        limiter or NoLimits(),
        saved_configs,
        gateway_keys=gateway_keys and authenticator is None,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await state.aclose()  # after in-flight requests ended (uvicorn drains them first)

    routes: list[BaseRoute] = [
        Route("/health/live", _live, methods=["GET"]),
        Route("/health/ready", _ready, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        *extra_routes,
        *data_plane_routes(),
        _AdminMount(_admin(state)),
    ]
    app = ServerApp(routes=routes, lifespan=lifespan, error_handler=_http_error)
    app.state.server = state
    return app


def app_from_env() -> Starlette:
    """The app of one ``strands-portkey serve`` worker, from the environment (uvicorn's factory)."""
    env = dict(os.environ)
    config_file = env.get(DEFAULT_CONFIG_ENV)
    settings = ServerSettings.from_env(
        env, default_config=load_config_file(config_file) if config_file else None
    )
    no_auth = env.get(NO_AUTH_ENV) == "1"
    if no_auth:
        _log.warning("no authentication: every request is served (a loopback development server)")
    return create_app(settings, no_auth=no_auth, gateway_keys=not no_auth)
