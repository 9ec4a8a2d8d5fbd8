"""The conformance harness's own peers: the scripted upstream and Portkey's gateway process.

If the upstream miscounted or the gateway listened beyond loopback, the table would be meaningless
or unsafe, so both are tested over real sockets here.
"""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import httpx
import pytest

import portkey_gateway as portkey_gateway_lib
from scripted_upstream import Reply, ScriptedUpstream, drop, fail, ok, slow

pytestmark = pytest.mark.integ

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def client() -> httpx.Client:
    return httpx.Client(trust_env=False, timeout=10.0)


@pytest.fixture
def upstream(scripted_upstream: ScriptedUpstream) -> ScriptedUpstream:
    scripted_upstream.reset()
    return scripted_upstream


def _post(
    client: httpx.Client, url: str, body: dict[str, object] | None = None, **headers: str
) -> httpx.Response:
    return client.post(f"{url}/chat/completions", json=body or BODY, headers=headers)


# --------------------------------------------------------------------------- scripted upstream


def test_steps_are_served_in_order_and_the_last_one_repeats(
    upstream: ScriptedUpstream, client: httpx.Client
) -> None:
    upstream.script("seq", "a", [500, fail(503, retry_after="1"), 200])
    url = upstream.base_url("seq", "a")
    responses = [_post(client, url) for _ in range(4)]
    assert [r.status_code for r in responses] == [500, 503, 200, 200]
    assert responses[1].headers["retry-after"] == "1"
    assert responses[2].json()["choices"][0]["message"]["content"] == "ok from a"
    assert responses[0].json()["error"]["message"] == "scripted 500 from a"


def test_calls_are_recorded_in_order_with_key_and_body(
    upstream: ScriptedUpstream, client: httpx.Client
) -> None:
    upstream.script_all("rec", {"a": [200], "b": [429]})
    _post(client, upstream.base_url("rec", "b"), {**BODY, "temperature": 0.5}, authorization="Bearer sk-b")
    _post(client, upstream.base_url("rec", "a"), BODY, authorization="Bearer sk-a")
    calls = upstream.calls("rec")
    assert [(c.target, c.status, c.authorization) for c in calls] == [
        ("b", 429, "Bearer sk-b"),
        ("a", 200, "Bearer sk-a"),
    ]
    assert calls[0].body == {**BODY, "temperature": 0.5}
    assert calls[0].path == "/v1/chat/completions"
    upstream.reset()
    assert upstream.calls() == []
    assert _post(client, upstream.base_url("rec", "a")).status_code == 404  # scripts are gone too


def test_unscripted_targets_and_paths_answer_404(upstream: ScriptedUpstream, client: httpx.Client) -> None:
    assert _post(client, upstream.base_url("none", "x")).json()["error"]["message"] == "no script for none/x"
    assert client.post(f"http://127.0.0.1:{upstream.port}/elsewhere", json={}).status_code == 404


def test_a_stream_ends_with_done(upstream: ScriptedUpstream, client: httpx.Client) -> None:
    upstream.script("stream", "a", [ok()])
    response = _post(client, upstream.base_url("stream", "a"), {**BODY, "stream": True})
    events = [line for line in response.text.splitlines() if line.startswith("data: ")]
    assert response.headers["content-type"] == "text/event-stream"
    assert events[-1] == "data: [DONE]"
    assert '"finish_reason": "stop"' in events[-2]


def test_a_dropped_stream_is_cut_without_done(upstream: ScriptedUpstream, client: httpx.Client) -> None:
    upstream.script("drop", "a", [drop(after=2)])
    lines: list[str] = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        client.stream(
            "POST", f"{upstream.base_url('drop', 'a')}/chat/completions", json={**BODY, "stream": True}
        ) as r,
    ):
        lines.extend(line for line in r.iter_lines() if line)
    assert len(lines) == 2
    assert "[DONE]" not in "".join(lines)


def test_a_delay_trips_a_client_timeout(upstream: ScriptedUpstream, client: httpx.Client) -> None:
    upstream.script("slow", "a", [slow(2.0), ok()])
    with pytest.raises(httpx.ReadTimeout):
        client.post(f"{upstream.base_url('slow', 'a')}/chat/completions", json=BODY, timeout=0.2)
    assert _post(client, upstream.base_url("slow", "a")).status_code == 200


def test_the_refused_target_refuses(upstream: ScriptedUpstream, client: httpx.Client) -> None:
    with pytest.raises(httpx.ConnectError):
        _post(client, upstream.refused_base_url())


def test_the_call_budget_bounds_recording(client: httpx.Client) -> None:
    with ScriptedUpstream(max_calls=2, default=Reply(200)) as small:
        statuses = [_post(client, small.base_url("b", "a")).status_code for _ in range(3)]
        assert statuses == [200, 200, 507]
        assert small.overflowed
        assert len(small.calls()) == 2


def test_stop_interrupts_pending_delays() -> None:
    small = ScriptedUpstream()
    small.script("s", "a", [slow(30.0)])
    with socket.create_connection(("127.0.0.1", small.port), timeout=5) as sock:
        sock.sendall(b"POST /s/s/a/v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}")
        time.sleep(0.2)  # the handler is now waiting out its 30 s delay
        small.stop()
        sock.settimeout(3.0)
        assert sock.recv(100) == b""  # closed unanswered at once, not after 30 s


# --------------------------------------------------------------------------- Portkey's gateway process


def _listeners(port: int) -> list[str]:
    """Local addresses (hex, as in /proc/net/tcp*) of sockets listening on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                found.append(address)
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/net/tcp")
def test_the_gateway_listens_on_loopback_only(portkey_gateway: portkey_gateway_lib.RunningGateway) -> None:
    assert _listeners(portkey_gateway.port) == ["0100007F"]  # 127.0.0.1, and nothing else


def test_every_hono_node_server_copy_is_pinned(portkey_gateway: portkey_gateway_lib.RunningGateway) -> None:
    copies = portkey_gateway_lib.hono_node_server_copies(portkey_gateway_lib.gateway_home())
    assert copies
    assert set(copies.values()) == {portkey_gateway_lib.HONO_NODE_SERVER_VERSION}


def test_start_and_stop_a_second_gateway(portkey_gateway: portkey_gateway_lib.RunningGateway) -> None:
    with portkey_gateway_lib.start() as second:
        assert second.port != portkey_gateway.port
        assert second.base_url == f"http://127.0.0.1:{second.port}/v1"
        assert httpx.get(f"http://127.0.0.1:{second.port}/", trust_env=False).text.endswith("says hey!")
    assert not second.is_running()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{second.port}/", trust_env=False)
