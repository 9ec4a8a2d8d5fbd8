"""The direct dispatch of plain routes: the same route, answer and errors as Starlette's router."""

from __future__ import annotations

import httpx
import pytest
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from strands_portkey.server.direct import ServerApp, direct_routes


async def _first(request: Request) -> Response:
    return JSONResponse({"route": "first", "app": request.app is not None})


async def _second(request: Request) -> Response:
    return JSONResponse({"route": "second"})


async def _param(request: Request) -> Response:
    return JSONResponse({"route": "param", "name": request.path_params["name"]})


async def _boom(request: Request) -> Response:
    raise RuntimeError("boom")


async def _teapot(request: Request) -> Response:
    raise HTTPException(418)


async def _handler(request: Request, error: Exception) -> Response:
    status = error.status_code if isinstance(error, HTTPException) else 500
    return JSONResponse({"error": type(error).__name__}, status)


def test_the_first_matching_route_wins_and_shadowed_paths_are_left_to_the_router() -> None:
    routes = [
        Route("/a", _first, methods=["POST"]),
        Route("/a", _second, methods=["POST", "GET"]),
        Route("/{name}", _param, methods=["POST"]),
        Route("/b", _second, methods=["POST"]),
    ]
    table = direct_routes(routes)
    assert table[("POST", "/a")] is _first
    assert table[("GET", "/a")] is _second
    assert ("POST", "/b") not in table  # "/{name}" matches it first
    assert ("POST", "/{name}") not in table


def _client(app: ServerApp) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://t")


async def test_direct_and_routed_requests_answer_as_starlette_would() -> None:
    app = ServerApp(
        routes=[
            Route("/a", _first, methods=["POST"]),
            Route("/boom", _boom, methods=["POST"]),
            Route("/teapot", _teapot, methods=["POST"]),
            Route("/{name}", _param, methods=["POST"]),
        ],
        error_handler=_handler,
    )
    async with _client(app) as client:
        assert (await client.post("/a")).json() == {"route": "first", "app": True}
        assert (await client.post("/zz")).json() == {"route": "param", "name": "zz"}
        assert (await client.get("/a")).status_code == 405
        boom = await client.post("/boom")
        assert (boom.status_code, boom.json()) == (500, {"error": "RuntimeError"})
        teapot = await client.post("/teapot")
        assert (teapot.status_code, teapot.json()) == (418, {"error": "HTTPException"})


async def test_an_unexpected_exception_is_reraised_for_the_server_to_log() -> None:
    app = ServerApp(routes=[Route("/boom", _boom, methods=["POST"])], error_handler=_handler)
    transport = httpx.ASGITransport(app=app)  # raises the app's exception
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        with pytest.raises(RuntimeError, match="boom"):
            await client.post("/boom")
