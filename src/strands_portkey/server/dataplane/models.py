"""``GET /v1/models``: OpenAI's model list, from the control plane.

Listed: the registered models (``gw.ai.models``, by name, as requests name them) and the rated
chat models of enabled providers, as ``@provider/model`` slugs (a request may name one as its
``model``). With gateway keys, the list is what the caller's key may use: registered models its
user owns or that are shared with them or their organization, and, for a key with
``allowed_models``, only the names on that list.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ...controlplane import ControlPlane
from ...controlplane.api_key_fields import ApiKeyPrincipal
from ...errors import GatewayError
from ..state import plain_headers
from .openai import error_response, json_response

__all__ = ["list_models", "model_entries"]


def model_entries(plane: ControlPlane | None, key: ApiKeyPrincipal | None = None) -> list[dict[str, Any]]:
    """OpenAI ``model`` objects for the registered and rated models (sorted, no duplicates).

    With ``key``: the registered models its user may see, and only its ``allowed_models``.
    """
    if plane is None:
        return []
    from ...controlplane.models_api import AIModels
    from ...controlplane.providers_api import Providers

    entries: dict[str, dict[str, Any]] = {}
    registered = AIModels(plane, plane.registered_models)
    if key is not None:
        registered.actor = key.actor
    for model in registered.list(status="active", limit=500):
        entries[model.name] = {"id": model.name, "object": "model", "created": 0, "owned_by": model.provider}
    for rated in Providers(plane).models(type="chat"):
        slug = f"@{rated['provider']}/{rated['model']}"
        entries.setdefault(slug, {"id": slug, "object": "model", "created": 0, "owned_by": rated["provider"]})
    names = sorted(entries) if key is None else sorted(filter(key.may_use_model, entries))
    return [entries[name] for name in names]


async def list_models(request: Request) -> Response:
    """The model list (authenticated like every data-plane route)."""
    state = request.app.state.server
    try:
        principal = await state.authenticator.authenticate(plain_headers(request))
        data = await asyncio.to_thread(model_entries, state.plane, principal.key)
    except GatewayError as error:
        return error_response(error)
    return json_response({"object": "list", "data": data})
