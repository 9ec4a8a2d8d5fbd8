"""``GET /v1/models``: OpenAI's model list, from the control plane.

Listed: the registered models (``gw.ai.models``, by name, as requests name them) and the rated
chat models of enabled providers, as ``@provider/model`` slugs (a request may name one as its
``model``). The list is the same for every caller for now; filtering by the caller's gateway key
comes with the keys.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ...controlplane import ControlPlane
from ...errors import GatewayError
from .openai import error_response, json_response

__all__ = ["list_models", "model_entries"]


def model_entries(plane: ControlPlane | None) -> list[dict[str, Any]]:
    """OpenAI ``model`` objects for the registered and rated models (sorted, no duplicates)."""
    if plane is None:
        return []
    from ...controlplane.models_api import AIModels
    from ...controlplane.providers_api import Providers

    entries: dict[str, dict[str, Any]] = {}
    for model in AIModels(plane, plane.registered_models).list(status="active", limit=500):
        entries[model.name] = {"id": model.name, "object": "model", "created": 0, "owned_by": model.provider}
    for rated in Providers(plane).models(type="chat"):
        slug = f"@{rated['provider']}/{rated['model']}"
        entries.setdefault(slug, {"id": slug, "object": "model", "created": 0, "owned_by": rated["provider"]})
    return [entries[name] for name in sorted(entries)]


async def list_models(request: Request) -> Response:
    """The model list (authenticated like every data-plane route)."""
    state = request.app.state.server
    try:
        await state.authenticator.authenticate(request.headers)
        data = await asyncio.to_thread(model_entries, state.plane)
    except GatewayError as error:
        return error_response(error)
    return json_response({"object": "list", "data": data})
