"""``strands-portkey serve``: the gateway as an HTTP server (``server.runner`` starts uvicorn).

Every worker builds its app from the environment (:func:`~strands_portkey.server.app.app_from_env`),
so the options are handed over as ``STRANDS_PORTKEY_*`` variables. Several workers share state
(gateway keys' limits and budgets, the cache, round-robin positions, credential cooldowns) through
Redis, so ``--workers`` above 1 needs ``STRANDS_PORTKEY_REDIS_URL``.

Auth is always on: callers present gateway API keys (``spk-...``). The first admin key is
``STRANDS_PORTKEY_ADMIN_KEY``, or, when the store has no key at all, one that ``serve`` creates and
prints once. ``--no-auth`` is accepted only on a loopback bind, and says so at start.

On SIGTERM or Ctrl-C the server stops accepting connections, lets in-flight requests and streams
finish for up to ``--shutdown-grace`` seconds, then writes pending analytics and closes its
connections.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from ._common import USAGE, console, fail

__all__ = ["is_loopback", "serve"]


def _console() -> Any:
    return console(stderr=True)


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _fail(message: str) -> NoReturn:
    fail(message, USAGE)


def _admin_key() -> None:
    """Check ``STRANDS_PORTKEY_ADMIN_KEY``, or create a first admin key in an empty store (printed once)."""
    from ..errors import GatewayError
    from ..server.gateway_keys import ADMIN_KEY_ENV, check_admin_key
    from .keys import bootstrap_admin_key, open_api_keys

    try:
        if os.environ.get(ADMIN_KEY_ENV, "").strip():
            check_admin_key(os.environ[ADMIN_KEY_ENV])
            return
        with open_api_keys() as api_keys:
            created = bootstrap_admin_key(api_keys)
    except GatewayError as error:
        raise _fail(str(error)) from None
    if created is not None:
        _console().print(
            f"[bold]a first admin key was created[/] (shown this once; store it now, or set {ADMIN_KEY_ENV}):"
        )
        print(created, flush=True)


def serve(
    *,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="Port to listen on (Portkey's is 8787).", min=1, max=65535)
    ] = 8787,
    workers: Annotated[int, typer.Option(help="Worker processes (above 1 needs Redis).", min=1)] = 1,
    config: Annotated[
        Path | None, typer.Option(help="A Portkey config (JSON file) for requests that name no route.")
    ] = None,
    no_auth: Annotated[
        bool,
        typer.Option("--no-auth", help="Serve every request without a gateway key (loopback binds only)."),
    ] = False,
    shutdown_grace: Annotated[
        float,
        typer.Option(
            help="Seconds in-flight requests may run after SIGTERM (whole seconds, at least 1).", min=0.0
        ),
    ] = 30.0,
    log_level: Annotated[str, typer.Option(help="Log level (uvicorn's and strands_portkey's).")] = "info",
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log",
            help="Log one line per request: route, status, latency, cache status, cost (off: it costs).",
        ),
    ] = False,
    log_format: Annotated[
        str, typer.Option(help="'text' or 'json' (one JSON object per line, with trace and span ids).")
    ] = "text",
) -> None:
    """Run the gateway as an HTTP server (OpenAI- and Portkey-compatible data plane)."""
    from ..errors import ConfigurationError
    from ..server.access_log import ACCESS_LOG_ENV
    from ..server.app import DEFAULT_CONFIG_ENV, NO_AUTH_ENV
    from ..server.runner import LOG_FORMAT_ENV, LOG_LEVEL_ENV, run, worker_app
    from ..server.settings import REDIS_URL_ENV, SHUTDOWN_GRACE_ENV, load_config_file

    if log_format not in ("text", "json"):
        raise _fail(f"--log-format is 'text' or 'json', not {log_format!r}")
    if no_auth and not is_loopback(host):
        raise _fail(f"--no-auth serves anyone who can connect: bind a loopback address, not {host!r}")
    if workers > 1 and not os.environ.get(REDIS_URL_ENV):
        raise _fail(
            f"--workers {workers} shares state through Redis: set {REDIS_URL_ENV} (redis://host:6379/0)"
        )
    if config is not None:
        try:
            load_config_file(config)  # fail now, in the terminal, not in every worker
        except ConfigurationError as error:
            raise _fail(str(error)) from None
        os.environ[DEFAULT_CONFIG_ENV] = str(config.resolve())
    if not no_auth:
        _admin_key()
    os.environ[NO_AUTH_ENV] = "1" if no_auth else "0"
    os.environ[SHUTDOWN_GRACE_ENV] = str(shutdown_grace) if shutdown_grace > 0 else "0.001"
    os.environ[ACCESS_LOG_ENV] = "1" if access_log else "0"
    os.environ[LOG_FORMAT_ENV], os.environ[LOG_LEVEL_ENV] = log_format, log_level
    try:
        app = worker_app() if workers == 1 else None  # several workers: each builds its own
    except ConfigurationError as error:
        raise _fail(str(error)) from None
    auth = "[yellow]no authentication (loopback only)[/]" if no_auth else "gateway API keys"
    _console().print(
        f"strands-portkey serving on [bold]http://{host}:{port}[/] with {workers} worker(s); {auth}"
    )
    run(
        app,
        host=host,
        port=port,
        workers=workers,
        shutdown_grace=shutdown_grace,
        access_log=False,  # ours replaces uvicorn's (it says more: cache status, cost, trace id)
        log_level=log_level,
    )
