"""The OpenAPI document as the admin API really answers: 400 for bad input, one error body.

FastAPI documents a 422 with its own validation schema on every route that takes parameters; the
admin API answers bad input with 400 in the server's error shape instead (see :mod:`.errors`).
The document is rewritten once, when first asked for: 422 becomes 400, and every operation
documents the error body (``ErrorBody``) for its other failures (401, 403, 404, 409, 429, ...).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

__all__ = ["ERROR_BODY", "install_openapi"]

_REF = {"$ref": "#/components/schemas/ErrorBody"}
ERROR_BODY: dict[str, Any] = {
    "title": "ErrorBody",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type"],
            "properties": {
                "message": {"type": "string", "description": "What is wrong (never a secret)."},
                "type": {"type": "string", "description": "invalid_request_error, not_found_error, ..."},
                "param": {
                    "type": ["string", "null"],
                    "description": "The field at fault: body.x, query.limit.",
                },
                "code": {"type": ["string", "null"]},
                "kind": {"type": ["string", "null"], "description": "The library's exception class."},
                "errors": {
                    "type": "array",
                    "description": "Every field at fault (bad input only).",
                    "items": {
                        "type": "object",
                        "properties": {"param": {"type": "string"}, "message": {"type": "string"}},
                    },
                },
            },
        }
    },
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _REF}}}


def rewrite(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with FastAPI's 422s replaced by the admin API's 400 and error body."""
    for item in document.get("paths", {}).values():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            responses.setdefault("400", _error("Bad input: `error.param` names the field."))
            responses.setdefault("default", _error("Any other error, in the same shape."))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["ErrorBody"] = ERROR_BODY
    return document


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the rewritten document (built once)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, routes=app.routes)
            app.openapi_schema = rewrite(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
