"""Run the app under uvicorn: the one place the server's ASGI host is started (``serve`` calls it).

Each worker sets its logging up from ``STRANDS_PORTKEY_LOG_FORMAT`` / ``STRANDS_PORTKEY_LOG_LEVEL``
(``serve --log-format json``: one JSON line per record, uvicorn's included, with trace and span
ids), and its OpenTelemetry SDK from the ``OTEL_*`` variables. With several workers,
``PROMETHEUS_MULTIPROC_DIR`` (a fresh directory unless set) lets ``GET /metrics`` of any worker sum
every worker's counters.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from typing import Any

from starlette.applications import Starlette

__all__ = ["LOG_FORMAT_ENV", "LOG_LEVEL_ENV", "run", "worker_app"]

APP_FACTORY = "strands_portkey.server.runner:worker_app"
"""What each of several workers imports and calls to build its own app."""
LOG_FORMAT_ENV = "STRANDS_PORTKEY_LOG_FORMAT"
LOG_LEVEL_ENV = "STRANDS_PORTKEY_LOG_LEVEL"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own variable


def _configure_logging() -> None:
    """Our logger tree (and uvicorn's, for JSON) as the environment says; nothing when unset."""
    log_format = os.environ.get(LOG_FORMAT_ENV, "").strip()
    if log_format:
        from ..telemetry.logs import configure_logging

        configure_logging(log_format, os.environ.get(LOG_LEVEL_ENV, "info"))


def worker_app() -> Starlette:
    """One worker's app (uvicorn's factory when there are several): logging, the SDK, then the app.

    The OpenTelemetry SDK is installed when ``OTEL_*`` variables name an exporter (see
    :mod:`strands_portkey.telemetry.sdk`): the server is the application, so it sets one up.
    """
    from ..telemetry.sdk import install_sdk_from_env
    from .app import app_from_env

    _configure_logging()
    install_sdk_from_env(os.environ)
    return app_from_env()


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
    In-flight requests and streams get ``shutdown_grace`` seconds after a signal. ``access_log``
    is uvicorn's own; ours (route, status, latency, cache, cost) is ``STRANDS_PORTKEY_ACCESS_LOG``.
    """
    import uvicorn

    made_dir = None
    if workers > 1 and not os.environ.get(MULTIPROC_ENV):
        made_dir = tempfile.mkdtemp(prefix="strands-portkey-metrics-")
        os.environ[MULTIPROC_ENV] = made_dir
    json_logs = os.environ.get(LOG_FORMAT_ENV, "").strip() == "json"
    if workers == 1:
        _configure_logging()
    extra: dict[str, Any] = {"log_config": None} if json_logs else {}  # ours, not uvicorn's dictConfig
    try:
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
            **extra,
        )
    finally:
        if made_dir is not None:
            shutil.rmtree(made_dir, ignore_errors=True)
            os.environ.pop(MULTIPROC_ENV, None)
