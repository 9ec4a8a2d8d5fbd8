"""Run the app under uvicorn: the one place the server's ASGI host is started (``serve`` calls it)."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["run"]

APP_FACTORY = "strands_portkey.server.app:app_from_env"
"""What each of several workers imports and calls to build its own app."""


def run(
    app: Any,
    *,
    host: str,
    port: int,
    workers: int,
    shutdown_grace: float,
    access_log: bool,
    log_level: str,
) -> None:
    """Serve until SIGINT/SIGTERM; with several workers ``app`` is ignored and each builds its own.

    uvicorn picks uvloop and httptools itself when they are installed (the ``[server]`` extra).
    In-flight requests and streams get ``shutdown_grace`` seconds after a signal.
    """
    import uvicorn

    uvicorn.run(
        app if workers == 1 else APP_FACTORY,
        host=host,
        port=port,
        workers=workers if workers > 1 else None,
        factory=workers > 1,
        timeout_graceful_shutdown=max(1, math.ceil(shutdown_grace)),
        access_log=access_log,
        log_level=log_level,
        lifespan="on",
    )
