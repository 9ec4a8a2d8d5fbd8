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
