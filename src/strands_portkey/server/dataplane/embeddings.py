"""``POST /v1/embeddings``: OpenAI's embeddings API over ``Gateway.embed``.

OpenAI's body in (checked by :meth:`~strands_portkey.embeddings.EmbeddingRequest.from_body`; a
bad field is a 400 naming it, ``body.input[1]``), OpenAI's ``list`` of embeddings out, routed by
the same headers and configs as chat to the providers that offer embeddings (a target whose
provider has none is passed over by a fallback). Portkey's ``x-portkey-*`` response headers and
the cost header (with an ``embedding`` rate) come with the answer; errors have OpenAI's shape.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from ...embeddings import EmbeddingRequest
from ...errors import GatewayError
from ..errors import status_of
from ..headers import response_headers
from ..limits import Outcome
from ..state import ServerState
from .openai import error_response, json_response

__all__ = ["embeddings"]

_log = logging.getLogger("strands_portkey.server")


async def embeddings(request: Request) -> Response:
    """Answer one embeddings request."""
    state: ServerState = request.app.state.server
    try:
        admitted = await state.admit(request, "embeddings")
    except Exception as error:
        return error_response(error)
    try:
        embedding = EmbeddingRequest.from_body(admitted.body, path="body")
        options = admitted.options
        response = await admitted.gateway.embed(
            embedding, trace_id=options.trace_id, metadata=options.metadata, forward=options.forward
        )
    except Exception as error:
        await state.settle(admitted, Outcome(status_of(error)))
        if not isinstance(error, GatewayError):
            _log.error("embeddings failed unexpectedly: %s", type(error).__name__)
        return error_response(error)
    route = response.route
    provider = route.provider if route is not None else ""
    cost = state.cost(
        provider, route.model if route is not None and route.model else response.model, response.usage
    )
    await state.settle(admitted, Outcome(200, response.usage, cost))
    return json_response(response.to_dict(), 200, response_headers(route, cost, admitted.reservation.headers))
