"""``strands-portkey``: the command line (typer + rich, the ``[server]`` extra, imported lazily).

One module per command group: ``serve``, ``keys``, ``provider-keys``, ``providers``, ``rates``,
``models``, ``analytics``, ``configs``, ``db``, ``master-key``. Each talks to the local store by
default and to a running server with ``--server URL`` (the remote client, same surface); exit
codes and error lines are shared (:mod:`strands_portkey.cli._common`). Without the extra
installed, the command says which one to install instead of a traceback.

Start-up stays fast (``strands-portkey --help``): building the app imports typer and the command
modules only; rich, the control plane and the server load when a command runs.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["EXTRA_HINT", "build_app", "main"]

EXTRA_HINT = "strands-portkey needs the [server] extra: pip install 'strands-agents-portkey[server]'"
_EPILOG = (
    "Exit codes: 0 ok, 1 the operation failed, 2 usage or bad input, 3 not found, "
    "4 unauthorized or forbidden, 5 the server could not be reached."
)


def build_app() -> Any:
    """The typer app with every command group registered."""
    import typer

    from ._common import root
    from .analytics import analytics_app
    from .configs import configs_app
    from .db import db_app
    from .keys import keys_app
    from .master_key import master_key_app
    from .models import models_app
    from .provider_keys import provider_keys_app
    from .providers import providers_app
    from .rates import rates_app
    from .serve import serve

    app = typer.Typer(
        name="strands-portkey",
        help="A Portkey-compatible AI gateway: run it as a server, manage its keys, models and configs.",
        epilog=_EPILOG,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.command("serve")(serve)
    for name, group in (
        ("keys", keys_app),
        ("provider-keys", provider_keys_app),
        ("providers", providers_app),
        ("rates", rates_app),
        ("models", models_app),
        ("analytics", analytics_app),
        ("configs", configs_app),
        ("db", db_app),
        ("master-key", master_key_app),
    ):
        app.add_typer(group(), name=name)

    app.callback()(root)
    return app


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``strands-portkey`` console script and ``python -m strands_portkey``."""
    try:
        app = build_app()
    except ImportError as error:
        missing = getattr(error, "name", None) or str(error)
        print(f"{EXTRA_HINT} (missing: {missing})", file=sys.stderr)
        raise SystemExit(2) from None
    app(args=argv, prog_name="strands-portkey")
