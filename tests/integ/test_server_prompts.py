"""Prompts through the real server process: Portkey's SDK ``prompts.completions.create`` and
``prompts.render`` against ``/v1/prompts/{id}/...``, and a label moved by another process (this
test's own control plane on the server's store) taking effect in the server within its refresh
interval, with each version's requests in analytics.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scripted_upstream import ScriptedUpstream, ok
from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.analytics_api import Analytics
from strands_portkey.controlplane.prompts_api import Prompts
from tests.integ.test_server_process import running_server, server_env

pytestmark = pytest.mark.integ

PROVIDER_KEY = "sk-canary-prompts-integ-4242"


@pytest.fixture(scope="module")
def upstream() -> Iterator[ScriptedUpstream]:
    with ScriptedUpstream(default=ok()) as scripted:
        yield scripted


def eventually(check: Callable[[], Any], within_s: float = 15.0) -> Any:
    """``check()`` once it returns something true (the server refreshes every 2 s)."""
    deadline = time.monotonic() + within_s
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_portkey_sdk_prompts_and_a_label_moved_by_another_process(
    tmp_path: Path, upstream: ScriptedUpstream
) -> None:
    from portkey_ai import Portkey

    home = tmp_path / "server-prompts"
    home.mkdir()
    plane = ControlPlane(env=server_env(home), validate_credentials=False, refresh_interval=None)
    prompts = Prompts(plane)
    prompts.create(
        "bot", [{"role": "system", "content": "v1 for {{name}}"}], model="m-one", params={"temperature": 0.1}
    )
    with running_server(home) as server:
        client = Portkey(
            base_url=f"{server.url}/v1",
            api_key="gateway-key-unused-without-auth",
            provider="openai",
            Authorization=f"Bearer {PROVIDER_KEY}",
            custom_host=upstream.base_url("prompts", "a"),
        )
        answer = client.prompts.completions.create(prompt_id="bot", variables={"name": "Ann"}, max_tokens=7)
        assert answer.choices[0].message.content
        body = upstream.calls("prompts")[-1].body
        assert (body["model"], body["messages"][0]["content"]) == ("m-one", "v1 for Ann")
        assert (body["max_tokens"], body["temperature"]) == (7, 0.1)
        assert "variables" not in body

        prompts.update("bot", messages=[{"role": "system", "content": "v2 for {{name}}"}], model="m-two")
        prompts.publish("bot")  # this process moves production; the server holds a snapshot

        def served_model() -> str | None:
            client.prompts.completions.create(prompt_id="bot", variables={"name": "Bo"})
            sent = upstream.calls("prompts")[-1].body
            return sent["model"] if sent["messages"][0]["content"] == "v2 for Bo" else None

        assert eventually(served_model) == "m-two"

        rendered = client.prompts.render(prompt_id="bot@1", variables={"name": "Cy"})
        assert (rendered.data.model, rendered.data.messages[0].content) == ("m-one", "v1 for Cy")
        streamed = client.prompts.completions.create(prompt_id="bot@2", variables={"name": "Di"}, stream=True)
        assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices).strip()

        def versions() -> dict[int, int] | None:
            stats = Analytics(plane).prompts(prompt_id="bot").versions
            found = {e["prompt_version"]: e["requests"] for e in stats}
            return found if found.get(1, 0) >= 1 and found.get(2, 0) >= 2 else None

        assert eventually(versions)
    plane.close()
