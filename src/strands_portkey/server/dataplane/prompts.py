"""``POST /v1/prompts/{id}/completions`` and ``/v1/prompts/{id}/render``: Portkey's prompt API.

The request bodies are Portkey's (``variables``, ``stream`` and hyperparameters such as
``temperature`` or ``max_tokens``, which override the prompt's), so Portkey's SDK
``prompts.completions.create(prompt_id=..., variables=...)`` and ``prompts.render(...)`` work
against this server. ``{id}`` is any prompt reference: ``pp-...``, ``name``, ``name@12``,
``name@staging``. Completions answer as ``/v1/chat/completions`` does (JSON or SSE, the same
headers), through the gateway the request's headers choose; the request records the prompt id and
version for analytics. When the headers name no route, a version's ``config_id`` (a saved
``pc-...`` config, through the server's saved-config hook) or an ``@provider/model`` model routes
it, before the key's ``default_config``. Render answers ``{"success": true, "data": {model, messages, ...}}``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ...errors import InvalidRequestError, ResourceNotFoundError
from ...types import ChatRequest
from ..errors import status_of
from ..gateway_keys import INFERENCE_SCOPE, authorize, check_registered_model
from ..headers import RouteSpec
from ..limits import Outcome
from ..state import Admitted, ServerState
from .openai import _chat, _stream, _unexpected, json_response  # one answer path for both routes

__all__ = ["prompt_completions", "prompt_render"]

_NOT_OVERRIDES = frozenset({"variables", "stream", "prompt_id", "model"})


def _rendered(
    state: ServerState, admitted: Admitted, ref: str
) -> tuple[dict[str, Any], dict[str, str], str | None]:
    """The filled-in body, the prompt's analytics metadata and the version's ``config_id``."""
    if state.plane is None:
        raise ResourceNotFoundError(f"no prompt {ref!r}: this server has no store")
    variables = admitted.body.get("variables") or {}
    if not isinstance(variables, dict):
        raise InvalidRequestError("expected an object of template variables", path="variables")
    overrides = {k: v for k, v in admitted.body.items() if k not in _NOT_OVERRIDES and v is not None}
    rendered = state.plane.prompts.render(ref, variables, overrides)
    key = admitted.principal.key
    if key is not None:  # the model comes from the prompt, not the body: check it as /chat/completions does
        authorize(key, INFERENCE_SCOPE, rendered.model or "")
        check_registered_model(state.plane, key, rendered.model or "")
    tags = {"prompt_id": rendered.prompt_id, "prompt_version": str(rendered.version)}
    return {**rendered.body(), "variables": variables}, tags, rendered.config_id


async def _routed(
    state: ServerState, admitted: Admitted, body: dict[str, Any], config_id: str | None
) -> Admitted:
    """Headers that name no route leave it to the prompt: its ``config_id``, else an ``@provider/model``.

    The prompt's route also wins over the gateway key's ``default_config`` (a default for requests
    that say nothing; a prompt version that names its config says something).
    """
    if admitted.route_named:
        return admitted  # the request's headers chose the route: they win, as on /chat/completions
    model = body.get("model")
    if config_id:
        gateway, _ = await state.pool.gateway(RouteSpec(saved_config=config_id), "", admitted.principal)
    elif isinstance(model, str) and model.startswith("@"):
        gateway, name = await state.pool.gateway(RouteSpec(), model, admitted.principal)
        body["model"] = name or model
    else:
        return admitted
    return dataclasses.replace(admitted, gateway=gateway)


async def prompt_completions(request: Request) -> Response:
    """Render the prompt and answer it as chat completions (streamed on ``"stream": true``)."""
    state: ServerState = request.app.state.server
    try:
        admitted = await state.admit(request, "prompts.completions")
    except Exception as error:
        return _unexpected(error)
    try:
        body, tags, config_id = _rendered(state, admitted, request.path_params["prompt_id"])
        options = dataclasses.replace(admitted.options, metadata={**admitted.options.metadata, **tags})
        admitted = await _routed(state, dataclasses.replace(admitted, options=options), body, config_id)
        chat_request = ChatRequest.from_body({**body, "stream": admitted.body.get("stream") is True})
        if chat_request.stream:
            return await _stream(state, admitted, chat_request)
        return await _chat(state, admitted, chat_request)
    except Exception as error:
        await state.settle(admitted, Outcome(status_of(error)))
        return _unexpected(error)


async def prompt_render(request: Request) -> Response:
    """The prompt filled in with the request's variables and hyperparameters (nothing is sent)."""
    state: ServerState = request.app.state.server
    try:
        admitted = await state.admit(request, "prompts.render")
    except Exception as error:
        return _unexpected(error)
    try:
        body, _, _ = _rendered(state, admitted, request.path_params["prompt_id"])
    except Exception as error:
        await state.settle(admitted, Outcome(status_of(error)))
        return _unexpected(error)
    await state.settle(admitted, Outcome(200))
    body.pop("variables", None)
    return json_response({"success": True, "data": body})
