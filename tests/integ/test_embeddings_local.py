"""``Gateway.embed`` against the real local model server (llama-cpp-python, SmolLM2-135M, loopback).

The shared chat server (the ``local_model`` fixture) loads the model without ``embedding=True``,
so its ``/v1/embeddings`` answers 500: the gateway must report that as the upstream failure it is.
A second server of the same model started with ``--embedding True`` answers one vector per
token (SmolLM2 has no pooling): the gateway refuses that as malformed. So this local server offers
no usable ``/v1/embeddings``; the vector path itself is covered offline (tests/unit).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

import local_model as local_model_lib  # scripts/ is on pytest's pythonpath
from strands_portkey import Gateway
from strands_portkey.errors import MalformedResponseError, ServerError

pytestmark = pytest.mark.integ


@dataclasses.dataclass(frozen=True)
class _EmbeddingModelEnv(local_model_lib.ModelEnv):
    """The installed model environment, serving with embeddings enabled."""

    def server_command(self, port: int, *, n_ctx: int = 2048, n_threads: int = 2) -> list[str]:
        return [*super().server_command(port, n_ctx=n_ctx, n_threads=n_threads), "--embedding", "True"]


@pytest.fixture(scope="module")
def embedding_server(local_model) -> Iterator[local_model_lib.LocalModelServer]:
    env = local_model_lib.installed_env()
    assert env is not None  # the local_model fixture skipped (or failed) otherwise
    with local_model_lib.start(env=_EmbeddingModelEnv(**dataclasses.asdict(env)), ready_timeout=90) as server:
        yield server


def gateway(base_url: str, tmp_path: Path, *, first: dict | None = None) -> Gateway:
    local = {"provider": "llama-cpp", "custom_host": base_url}
    config = local if first is None else {"strategy": {"mode": "fallback"}, "targets": [first, local]}
    return Gateway(config, env={"STRANDS_PORTKEY_HOME": str(tmp_path)})


async def test_a_server_without_embeddings_is_an_upstream_server_error(local_model, tmp_path) -> None:
    async with gateway(local_model.base_url, tmp_path) as gw:
        with pytest.raises(ServerError, match="embedding=True") as raised:
            await gw.embed({"model": local_model.model, "input": "hello"})
    assert raised.value.status_code == 500
    assert raised.value.route is not None
    assert raised.value.route.provider == "llama-cpp"


async def test_per_token_vectors_are_refused_after_the_fallback(embedding_server, tmp_path) -> None:
    """With ``--embedding True`` this server answers 200, but one vector *per token* (the model has
    no pooling and llama-cpp-python 0.3's server cannot set one): not OpenAI's shape, so the gateway
    reports a malformed answer instead of handing nested lists on as vectors."""
    anthropic = {"provider": "anthropic", "api_key": "sk-ant-unused"}
    async with gateway(embedding_server.base_url, tmp_path, first=anthropic) as gw:
        with pytest.raises(MalformedResponseError, match="llama-cpp sent an embeddings answer") as raised:
            await gw.embed({"model": embedding_server.model, "input": ["the cat", "the dog"]})
    route = raised.value.route
    assert route is not None
    assert [(a.provider, a.error_type) for a in route.attempts] == [
        ("anthropic", "InvalidRequestError"),
        ("llama-cpp", "MalformedResponseError"),
    ]
    assert route.last_used_option_index == "config.targets[1]"
