"""``/docs``: Swagger UI for ``/openapi.json``, served from the package, with no CDN.

FastAPI's own docs page loads Swagger UI from a CDN; a gateway often runs where there is no
internet. The assets come from ``swagger-ui-py`` (Swagger UI 5, which reads OpenAPI 3.1), a
dependency of the ``[server]`` extra, and are served by name from a fixed list (no path walking).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

__all__ = ["install_docs"]

_ASSETS = {
    "swagger-ui-bundle.js": "application/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


def _static_dir() -> Path:
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or spec.origin is None:
        raise HTTPException(404, "the API docs need swagger-ui-py: install 'strands-agents-portkey[server]'")
    return Path(spec.origin).parent / "static"


def install_docs(app: FastAPI) -> None:
    """Add ``GET /docs`` and its assets to ``app`` (its ``openapi_url`` must be set)."""

    async def docs(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon-32x32.png",
        )

    async def asset(name: str) -> Response:
        media = _ASSETS.get(name)
        if media is None:
            raise HTTPException(404)
        headers = {"cache-control": "max-age=86400"}
        return FileResponse(_static_dir() / name, media_type=media, headers=headers)

    app.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)
    app.add_api_route("/docs/assets/{name}", asset, methods=["GET"], include_in_schema=False)
