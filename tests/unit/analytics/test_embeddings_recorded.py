"""``Gateway.embed`` is recorded like a chat: tokens, route, and a cost when a rate knows the model."""

from __future__ import annotations

import httpx
import pytest

from strands_portkey import Gateway
from strands_portkey.controlplane import ControlPlane
from strands_portkey.errors import ServerError

from .conftest import rows

BODY = {"model": "text-embedding-3-small", "input": ["a", "b"], "user": "bob"}


def vectors(request: httpx.Request) -> httpx.Response:
    data = [{"index": i, "embedding": [0.1, 0.2]} for i in range(2)]
    usage = {"prompt_tokens": 1000, "total_tokens": 1000}
    return httpx.Response(200, json={"data": data, "model": "text-embedding-3-small", "usage": usage})


async def test_an_embedding_is_recorded_with_tokens_and_cost(plane: ControlPlane) -> None:
    gw = Gateway(
        {"provider": "openai", "api_key": "sk-x"}, control_plane=plane, transport=httpx.MockTransport(vectors)
    )
    gw.providers.create({"name": "openai", "displayName": "OpenAI", "baseUrl": "https://api.openai.com/v1/"})
    gw.providers.rates.create(
        {
            "model": "text-embedding-3-small",
            "type": "embedding",
            "inputRate": 2,
            "outputRate": 0,
            "unitCosts": {"input": "0.00000002", "output": "0"},
            "providers": ["openai"],
        }
    )
    await gw.embed(BODY, trace_id="t-emb")
    await gw.aclose()
    [row] = rows(plane)
    assert (row["trace_id"], row["user"], row["status"], row["status_code"]) == (
        "t-emb",
        "bob",
        "success",
        200,
    )
    assert (row["requested_model"], row["provider"], row["streamed"]) == (
        "text-embedding-3-small",
        "openai",
        False,
    )
    assert (row["prompt_tokens"], row["completion_tokens"], row["total_tokens"]) == (1000, 0, 1000)
    assert row["cost_usd"] == pytest.approx(0.00002)
    assert row["cost_credits"] == pytest.approx(2000.0)


async def test_a_failed_embedding_is_recorded_as_an_error(plane: ControlPlane) -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(500, json={"error": {"message": "boom"}}))
    gw = Gateway({"provider": "openai", "api_key": "sk-x"}, control_plane=plane, transport=transport)
    with pytest.raises(ServerError):
        await gw.embed(BODY)
    await gw.aclose()
    [row] = rows(plane)
    assert (row["status"], row["status_code"], row["error_type"]) == ("error", 500, "ServerError")
