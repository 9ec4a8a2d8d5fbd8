"""nginx as the static upstream of the benchmarks: started in the foreground on 127.0.0.1 with a
temporary prefix, serving a fixed chat completion and fixed SSE answers, stopped at the end.

``POST`` to a static file is answered 405 by nginx; ``error_page 405 =200 $uri`` turns it into the
file itself, so every path is one static answer with keep-alive and a Content-Length:

* ``/json/v1/chat/completions``   a chat completion (application/json)
* ``/sse<N>/v1/chat/completions`` an SSE answer of N chunks ending in ``data: [DONE]``
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

COMPLETION = json.dumps(
    {
        "id": "bench",
        "object": "chat.completion",
        "created": 1,
        "model": "bench",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "fixed answer"}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }
).encode()


def sse_body(chunks: int) -> bytes:
    """A realistic SSE answer of ``chunks`` chunks (the last carries the finish reason)."""

    def event(delta: dict[str, str], finish: str | None) -> bytes:
        payload = {
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "bench",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return b"data: " + json.dumps(payload).encode() + b"\n\n"

    body = b"".join(event({"content": f"tok{i} "}, None) for i in range(chunks - 1))
    return body + event({}, "stop") + b"data: [DONE]\n\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 16384; multi_accept on; }}
worker_rlimit_nofile 32768;
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    tcp_nodelay on;
    etag off;
    server_tokens off;
    server {{
        listen 127.0.0.1:{port} backlog=16384;
        root {prefix}/www;
        error_page 405 =200 $uri;
        location /json/ {{ default_type application/json; }}
        location ~ ^/sse {{ default_type text/event-stream; }}
    }}
}}
"""


@contextlib.contextmanager
def no_control_plane() -> Iterator[None]:
    """Gateways made inside find no default store (a fresh ``STRANDS_PORTKEY_HOME``, no
    ``STRANDS_PORTKEY_DB_URL``): no vault lookups, no analytics writes, and the user's own
    database is never opened or migrated."""
    names = ("STRANDS_PORTKEY_HOME", "STRANDS_PORTKEY_DB_URL")
    saved = {name: os.environ.pop(name) for name in names if name in os.environ}
    with tempfile.TemporaryDirectory(prefix="bench-home-") as home:
        os.environ["STRANDS_PORTKEY_HOME"] = home
        try:
            yield
        finally:
            os.environ.pop("STRANDS_PORTKEY_HOME", None)
            os.environ.update(saved)


@contextlib.contextmanager
def nginx(stream_chunks: tuple[int, ...] = (8, 64)) -> Iterator[str]:
    """Serve the static answers; yields the base URL (``http://127.0.0.1:N``)."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-nginx-") as tmp:
        prefix = Path(tmp)
        for name, body in [("json", COMPLETION)] + [(f"sse{n}", sse_body(n)) for n in stream_chunks]:
            path = prefix / "www" / name / "v1" / "chat"
            path.mkdir(parents=True)
            (path / "completions").write_bytes(body)
        (prefix / "nginx.conf").write_text(_CONF.format(prefix=prefix, port=port))
        process = subprocess.Popen(
            [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                with socket.socket() as sock:
                    if sock.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (prefix / "error.log").read_text() if (prefix / "error.log").exists() else ""
                    raise RuntimeError(f"nginx did not start: {log[-500:]}")
                time.sleep(0.05)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
