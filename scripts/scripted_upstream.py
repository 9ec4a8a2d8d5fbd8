"""A scripted OpenAI-compatible upstream on 127.0.0.1: exact, countable behaviour over real sockets.

Gateways (Portkey's and ours) are pointed at it with ``custom_host``. The URL path before ``/v1``
names a *script*: ``/s/<scenario>/<target>/v1/chat/completions``. Each (scenario, target) has a
registered sequence of :class:`Reply` steps; the n-th call gets step n, and the last step repeats
once the sequence is used up (so ``[fail(503), ok()]`` is "503 once, then healthy").

Every call is recorded in arrival order (scenario, target, method, path, ``Authorization``, the
other headers, the JSON body), so a test can compare *the sequence of upstream calls* two gateways
made. :meth:`ScriptedUpstream.reset` clears scripts, counters and records between cases.

Steps can answer with any status and headers (``Retry-After``, ``retry-after-ms``), wait before
answering (to trip a ``request_timeout``), stream SSE chunks ending in ``data: [DONE]``, or cut a
stream after N chunks with no ``[DONE]`` (a mid-stream drop: the chunked body is never terminated).
:meth:`ScriptedUpstream.refused_base_url` is a target whose port refuses connections.

Stdlib only, importable from tests and benchmarks (``scripts/`` is on pytest's pythonpath)::

    with ScriptedUpstream() as upstream:
        upstream.script("case-1", "a", [fail(500), ok()])
        url = upstream.base_url("case-1", "a")     # http://127.0.0.1:N/s/case-1/a/v1
        ...
        [call.target for call in upstream.calls()]

Run ``python scripts/scripted_upstream.py`` to serve it in the foreground (scripts are registered
from Python; unscripted targets answer 200).
"""

from __future__ import annotations

import dataclasses
import json
import socket
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

HOST = "127.0.0.1"
DEFAULT_MAX_CALLS = 100_000  # a bound on what one server records: runaway loops end with 507s
_CHAT_SUFFIX = "/v1/chat/completions"

__all__ = ["Call", "Reply", "ScriptedUpstream", "drop", "fail", "late_stream", "ok", "slow"]


@dataclasses.dataclass(frozen=True)
class Reply:
    """One scripted answer.

    Attributes:
        status: HTTP status. 200 answers a chat completion (or SSE when the request streams);
            anything else answers an OpenAI-style error body.
        headers: extra response headers, e.g. ``{"retry-after": "1"}``.
        delay_s: seconds to wait before the status line (interrupted when the server stops).
        chunks: content chunks in a streamed 200 answer.
        drop_after: streamed 200 only: send this many chunks, then cut the connection (no [DONE]).
        first_chunk_delay_s: streamed 200 only: seconds between the headers and the first chunk.
        body: a JSON body to send instead of the generated one.
    """

    status: int = 200
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    delay_s: float = 0.0
    chunks: int = 3
    drop_after: int | None = None
    first_chunk_delay_s: float = 0.0
    body: Mapping[str, Any] | None = None


def ok(**kwargs: Any) -> Reply:
    """A 200 chat completion (SSE when the request asks for a stream)."""
    return Reply(200, **kwargs)


def fail(status: int = 500, **headers: str) -> Reply:
    """An error status; keyword headers use ``_`` for ``-`` (``retry_after="1"``)."""
    return Reply(status, headers={name.replace("_", "-"): value for name, value in headers.items()})


def slow(delay_s: float, status: int = 200) -> Reply:
    """Answer ``status`` only after ``delay_s`` seconds."""
    return Reply(status, delay_s=delay_s)


def late_stream(first_chunk_delay_s: float) -> Reply:
    """A streamed 200 whose headers come at once and whose first chunk comes after a delay."""
    return Reply(200, first_chunk_delay_s=first_chunk_delay_s)


def drop(after: int = 2) -> Reply:
    """A streamed 200 that is cut after ``after`` chunks (no ``[DONE]``, unterminated body)."""
    return Reply(200, chunks=after + 3, drop_after=after)


@dataclasses.dataclass(frozen=True)
class Call:
    """One request the upstream received."""

    scenario: str
    target: str
    method: str
    path: str
    authorization: str | None
    headers: Mapping[str, str]
    body: Any
    at: float  # time.monotonic() on arrival
    status: int  # what the script answered


class _State:
    """Scripts, counters and records; shared by the handler threads under one lock."""

    def __init__(self, max_calls: int, default: Reply | None) -> None:
        self.lock = threading.Lock()
        self.default = default
        self.stopping = threading.Event()
        self.max_calls = max_calls
        self.scripts: dict[tuple[str, str], list[Reply]] = {}
        self.hits: dict[tuple[str, str], int] = {}
        self.calls: list[Call] = []
        self.overflowed = False

    def next_reply(self, key: tuple[str, str]) -> Reply | None:
        with self.lock:
            steps = self.scripts.get(key)
            n = self.hits.get(key, 0)
            self.hits[key] = n + 1
        if steps is None:
            return self.default
        return steps[min(n, len(steps) - 1)]

    def record(self, call: Call) -> bool:
        with self.lock:
            if len(self.calls) >= self.max_calls:
                self.overflowed = True
                return False
            self.calls.append(call)
            return True


def _split_path(path: str) -> tuple[str, str, str] | None:
    """``/s/<scenario>/<target>/rest`` -> (scenario, target, /rest); None for other paths."""
    parts = path.split("?", 1)[0].split("/", 4)
    if len(parts) < 5 or parts[0] != "" or parts[1] != "s" or not parts[2] or not parts[3]:
        return None
    return parts[2], parts[3], "/" + parts[4]


def _completion(target: str, model: str, n: int) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{target}-{n}",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": f"ok from {target}"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
    }


def _chunk(target: str, model: str, delta: dict[str, Any], finish: str | None) -> bytes:
    payload = {
        "id": f"chatcmpl-{target}-stream",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(payload)}\n\n".encode()


def _error_type(status: int) -> str:
    if status == 429:
        return "rate_limit_error"
    if 400 <= status < 500:
        return "invalid_request_error"
    return "server_error"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "scripted-upstream/1"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle plus the client's delayed
    # ACK stall every answer on a kept-alive connection by ~40 ms.
    disable_nagle_algorithm = True
    state: _State  # set on the per-server subclass

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the records are the log."""

    # ------------------------------------------------------------------ dispatch

    def do_GET(self) -> None:
        if self.path == "/health":
            self._send_json(200, {"status": "ok"})
        else:
            self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _read_body(self) -> Any:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode("utf-8", "replace")

    def _handle(self) -> None:
        body = self._read_body()
        where = _split_path(self.path)
        if where is None:
            self._send_json(404, {"error": {"message": f"no script path: {self.path}", "type": "not_found"}})
            return
        scenario, target, rest = where
        key = (scenario, target)
        reply = self.state.next_reply(key)
        if reply is None:
            reply = Reply(404, body={"error": {"message": f"no script for {scenario}/{target}"}})
        if rest != _CHAT_SUFFIX and reply.status == 200:
            reply = Reply(404, body={"error": {"message": f"unsupported path {rest}", "type": "not_found"}})
        headers = {name.lower(): value for name, value in self.headers.items()}
        call = Call(
            scenario, target, self.command, rest, headers.get("authorization"), headers, body,
            time.monotonic(), reply.status,
        )  # fmt: skip
        if not self.state.record(call):
            self._send_json(507, {"error": {"message": "scripted upstream: call budget exhausted"}})
            return
        if reply.delay_s and self.state.stopping.wait(reply.delay_s):
            self.close_connection = True
            return
        model = body.get("model", "scripted") if isinstance(body, dict) else "scripted"
        streaming = isinstance(body, dict) and bool(body.get("stream"))
        try:
            if reply.status == 200 and reply.body is None and streaming:
                self._send_stream(target, str(model), reply)
            else:
                self._send_reply(target, str(model), reply)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout): nothing to answer

    # ------------------------------------------------------------------ answers

    def _send_json(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_reply(self, target: str, model: str, reply: Reply) -> None:
        if reply.body is not None:
            payload: Any = reply.body
        elif 200 <= reply.status < 300:
            payload = _completion(target, model, len(self.state.calls))
        else:
            payload = {
                "error": {
                    "message": f"scripted {reply.status} from {target}",
                    "type": _error_type(reply.status),
                    "param": None,
                    "code": None,
                }
            }
        self._send_json(reply.status, payload, reply.headers)

    def _send_stream(self, target: str, model: str, reply: Reply) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.flush()
        if reply.first_chunk_delay_s and self.state.stopping.wait(reply.first_chunk_delay_s):
            self.close_connection = True
            return
        events = [_chunk(target, model, {"role": "assistant", "content": ""}, None)]
        events += [_chunk(target, model, {"content": f"part{i} "}, None) for i in range(reply.chunks)]
        if reply.drop_after is not None:
            for event in events[: reply.drop_after]:
                self._write_chunk(event)
            self.wfile.flush()
            # A network cut: close without the terminating zero-length chunk (and without [DONE]).
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        events.append(_chunk(target, model, {}, "stop"))
        events.append(b"data: [DONE]\n\n")
        for event in events:
            self._write_chunk(event)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class ScriptedUpstream:
    """The scripted upstream server, serving from its own thread until :meth:`stop`."""

    def __init__(self, *, max_calls: int = DEFAULT_MAX_CALLS, default: Reply | None = None) -> None:
        """``default`` answers targets without a script; without it they get a 404 naming the script."""
        self._state = _State(max_calls, default)
        handler = type("_BoundHandler", (_Handler,), {"state": self._state})
        self._server = _Server((HOST, 0), handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
            name=f"scripted-upstream-{self.port}",
        )  # fmt: skip
        self._thread.start()
        # Bound but never listening: connecting gets ECONNREFUSED, and nobody else can take the port.
        self._refusing = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._refusing.bind((HOST, 0))
        self.refused_port = int(self._refusing.getsockname()[1])

    # ------------------------------------------------------------------ scripting

    def base_url(self, scenario: str, target: str) -> str:
        """The OpenAI base URL of one scripted target: ``http://127.0.0.1:N/s/<scenario>/<target>/v1``."""
        for part in (scenario, target):
            if not part or "/" in part or "?" in part:
                raise ValueError(f"scenario and target must be non-empty path segments, got {part!r}")
        return f"http://{HOST}:{self.port}/s/{scenario}/{target}/v1"

    def refused_base_url(self) -> str:
        """A base URL on a port that refuses connections (nothing is recorded for it)."""
        return f"http://{HOST}:{self.refused_port}/v1"

    def script(self, scenario: str, target: str, steps: Sequence[Reply | int]) -> None:
        """Register the replies of one target; ints are statuses (``[500, 500, 200]``)."""
        replies = [step if isinstance(step, Reply) else Reply(int(step)) for step in steps]
        if not replies:
            raise ValueError("a script needs at least one step")
        with self._state.lock:
            self._state.scripts[(scenario, target)] = replies
            self._state.hits.pop((scenario, target), None)

    def script_all(self, scenario: str, scripts: Mapping[str, Iterable[Reply | int]]) -> None:
        """Register several targets of one scenario."""
        for target, steps in scripts.items():
            self.script(scenario, target, list(steps))

    def reset(self) -> None:
        """Forget every script, counter and recorded call."""
        with self._state.lock:
            self._state.scripts.clear()
            self._state.hits.clear()
            self._state.calls.clear()
            self._state.overflowed = False

    # ------------------------------------------------------------------ observing

    def calls(self, scenario: str | None = None) -> list[Call]:
        """Recorded calls in arrival order (of one scenario, or all)."""
        with self._state.lock:
            return [c for c in self._state.calls if scenario is None or c.scenario == scenario]

    @property
    def overflowed(self) -> bool:
        """True once more than ``max_calls`` calls arrived since the last reset."""
        return self._state.overflowed

    # ------------------------------------------------------------------ lifecycle

    def stop(self) -> None:
        """Stop serving; pending delays are interrupted."""
        self._state.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._refusing.close()
        self._thread.join(timeout=5.0)

    def __enter__(self) -> ScriptedUpstream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"ScriptedUpstream(port={self.port}, calls={len(self._state.calls)})"


def main() -> int:
    with ScriptedUpstream(default=ok()) as upstream:
        print(f"scripted upstream on http://{HOST}:{upstream.port}/s/<scenario>/<target>/v1 (Ctrl-C stops)")
        try:
            while True:
                time.sleep(1.0)
        except KeyboardInterrupt:
            print(f"stopping after {len(upstream.calls())} calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
