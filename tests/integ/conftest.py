"""Fixtures for integration tests against the real local model (SmolLM2-135M on 127.0.0.1).

Install the model once with ``hatch run model ensure``. Without it these tests are skipped, unless
``STRANDS_PORTKEY_REQUIRE_LOCAL_MODEL=1`` (set by CI), in which case they fail: CI must never pass
by silently skipping its integration tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

import local_model as local_model_lib  # scripts/ is on pytest's pythonpath

REQUIRE_ENV = "STRANDS_PORTKEY_REQUIRE_LOCAL_MODEL"


def _required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


@pytest.fixture(scope="session")
def local_model() -> Iterator[local_model_lib.LocalModelServer]:
    """The local model server, started once per session: ``.base_url``, ``.model``, ``.pid``."""
    env = local_model_lib.installed_env()
    if env is None:
        if _required():
            pytest.fail(
                f"{REQUIRE_ENV}=1 but the local model is not installed in {local_model_lib.model_home()}: "
                "run `hatch run model ensure` (CI runs it before the tests)",
                pytrace=False,
            )
        pytest.skip("local model not installed: run `hatch run model ensure`")
    with local_model_lib.start(env=env) as server:
        yield server


# --------------------------------------------------------------------------- llama-server (issue 4)
# llama.cpp's own server speaks Anthropic's /v1/messages; built by `hatch run llama-server ensure`.

import llama_server as llama_server_lib  # noqa: E402 - scripts/ is on pytest's pythonpath


@pytest.fixture(scope="session")
def llama_server() -> Iterator[llama_server_lib.LlamaServer]:
    """llama-server on 127.0.0.1, started once per session: ``.base_url`` (``.../v1``), ``.model``."""
    env = llama_server_lib.installed_env()
    if env is None:
        if _required():
            pytest.fail(
                f"{REQUIRE_ENV}=1 but llama-server is not installed in {llama_server_lib.server_home()}: "
                "run `hatch run llama-server ensure` (CI runs it before the tests)",
                pytrace=False,
            )
        pytest.skip("llama-server not installed: run `hatch run llama-server ensure`")
    with llama_server_lib.start(env=env) as server:
        yield server
