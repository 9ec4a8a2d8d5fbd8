"""``strands-portkey``: the command line (typer + rich, the ``[server]`` extra, imported lazily).

One module per command group; ``serve`` runs the gateway as an HTTP server, ``keys`` manages its
API keys. Without the extra
installed, the command says which one to install instead of a traceback.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["EXTRA_HINT", "build_app", "main"]

EXTRA_HINT = "strands-portkey needs the [server] extra: pip install 'strands-agents-portkey[server]'"


def build_app() -> Any:
    """The typer app with every command group registered."""
    import typer

    from .keys import keys_app
    from .serve import serve

    app = typer.Typer(
        name="strands-portkey",
        help="A Portkey-compatible AI gateway: run it as a server.",
        no_args_is_help=True,
        add_completion=False,
    )
    app.command("serve")(serve)
    app.add_typer(keys_app(), name="keys")

    @app.callback()
    def _root() -> None:
        """A Portkey-compatible AI gateway."""

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
