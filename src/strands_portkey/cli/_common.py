"""What every command group shares: the faces it drives, exit codes, errors, JSON and tables.

**One surface, two places.** A command talks to :func:`open_faces`, which yields the local
store's control plane (``ai``, ``providers``, ``api_keys``, ``configs``: the same objects as
``Gateway().ai`` and friends) or, with ``--server URL``, the remote ``Client`` with exactly that
surface. Commands never know which one they drive.

**Exit codes** (one table, :data:`EXIT_CODES`; :func:`exit_code` maps the exception tree to it):

====  ===========================================================================
code  meaning
====  ===========================================================================
0     ok
1     the operation failed (the store, a provider, a job)
2     usage or bad input (an option, a file, a body field; the message names it)
3     not found (an unknown id or name)
4     unauthorized or forbidden (a gateway key, a master key, a refused credential)
5     the server (``--server``) could not be reached
====  ===========================================================================

Errors print one line to stderr (``error: <field or path>: <why>``), never a traceback.
``--json`` prints one JSON document on stdout and nothing else there (progress and notes go to
stderr).
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

__all__ = [
    "API_KEY_ENV",
    "EXIT_CODES",
    "SERVER_ENV",
    "AsJson",
    "Faces",
    "cell",
    "console",
    "emit",
    "exit_code",
    "fail",
    "guarded",
    "jsonable",
    "open_faces",
    "parse_json",
    "read_json_file",
    "require_local",
    "root",
    "table",
]

OK, FAILED, USAGE, NOT_FOUND, UNAUTHORIZED, UNREACHABLE = 0, 1, 2, 3, 4, 5
EXIT_CODES: Mapping[int, str] = {
    OK: "ok",
    FAILED: "the operation failed",
    USAGE: "usage or bad input",
    NOT_FOUND: "not found",
    UNAUTHORIZED: "unauthorized or forbidden",
    UNREACHABLE: "the server could not be reached",
}
SERVER_ENV = "STRANDS_PORTKEY_SERVER"
API_KEY_ENV = "STRANDS_PORTKEY_API_KEY"

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON on stdout (for scripts).")]


def console(*, stderr: bool = False) -> Any:
    """A rich console (stderr for notes and progress, so ``--json`` keeps stdout clean)."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def fail(message: str, code: int = USAGE) -> NoReturn:
    """Print ``error: message`` on one line of stderr and exit with ``code``."""
    line = " ".join(str(message).split())
    print(f"error: {line}", file=sys.stderr)
    raise typer.Exit(code)


def exit_code(error: BaseException) -> int:
    """The exit code of an exception (the one mapping from the exception tree)."""
    from .. import errors

    if isinstance(error, (errors.ResourceNotFoundError, errors.NotFoundError)):
        return NOT_FOUND
    unauthorized = (
        errors.InvalidApiKeyError,
        errors.PermissionDeniedError,
        errors.AuthenticationError,
        errors.VaultError,
        errors.CredentialRejectedError,
    )
    if isinstance(error, unauthorized):
        return UNAUTHORIZED
    bad_input = (
        errors.ConfigurationError,
        errors.InvalidRequestError,
        errors.BadRequestError,
        errors.ConflictError,
        errors.LimitExceededError,
    )
    if isinstance(error, bad_input):
        return USAGE
    if isinstance(error, (errors.UpstreamConnectionError, ConnectionError)) or _http_unreachable(error):
        return UNREACHABLE
    return FAILED


def _http_unreachable(error: BaseException) -> bool:
    """An HTTP client's connection failure (checked only when that library is already loaded)."""
    httpx = sys.modules.get("httpx")
    return httpx is not None and isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout))


def _describe(error: BaseException) -> str:
    """The error's message with the provider and config target it names (no HTTP status: a CLI)."""
    message = getattr(error, "message", None) or str(error)
    where = [
        f"{name}={value}"
        for name, value in (
            ("provider", getattr(error, "provider", None)),
            ("target", getattr(error, "option_index", None)),
        )
        if value
    ]
    return f"{message} ({', '.join(where)})" if where else message


@contextmanager
def guarded() -> Iterator[None]:
    """Turn the library's exceptions (and bad files) into one line on stderr and an exit code."""
    from ..errors import GatewayError

    try:
        yield
    except typer.Exit:
        raise
    except GatewayError as error:
        fail(_describe(error), exit_code(error))
    except FileNotFoundError as error:
        fail(f"{error.filename}: no such file", USAGE)
    except OSError as error:
        if isinstance(error, ConnectionError):
            fail(f"cannot reach the server: {error}", UNREACHABLE)
        fail(f"{getattr(error, 'filename', None) or 'I/O'}: {error.strerror or error}", FAILED)
    except Exception as error:
        if _http_unreachable(error):
            fail(f"cannot reach the server: {error}", UNREACHABLE)
        raise


# --------------------------------------------------------------------------- the faces


@dataclasses.dataclass
class Faces:
    """The control-plane surface a command drives: local (the store) or remote (``--server``)."""

    ai: Any
    providers: Any
    api_keys: Any
    configs: Any
    remote: bool = False
    close: Callable[[], None] = lambda: None


def root(
    ctx: typer.Context,
    server: Annotated[
        str | None, typer.Option(envvar=SERVER_ENV, help="A running server's URL (default: the local store).")
    ] = None,
    api_key: Annotated[
        str | None, typer.Option(envvar=API_KEY_ENV, help="The gateway API key (spk-...) for --server.")
    ] = None,
) -> None:
    """A Portkey-compatible AI gateway."""
    ctx.obj = {"server": server, "api_key": api_key}


def _options() -> tuple[str | None, str | None]:
    """``--server`` and ``--api-key`` of this invocation (else their environment variables)."""
    import importlib

    # typer's Context derives from click's (a vendored copy in newer typer): ask that click.
    click_core = next(c.__module__ for c in typer.Context.__mro__[1:] if c.__name__ == "Context")
    click_globals = importlib.import_module(click_core.rsplit(".", 1)[0] + ".globals")
    context = click_globals.get_current_context(silent=True)
    found: Mapping[str, Any] = {}
    if context is not None and isinstance(context.find_root().obj, Mapping):
        found = context.find_root().obj
    server = found.get("server") or os.environ.get(SERVER_ENV) or None
    api_key = found.get("api_key") or os.environ.get(API_KEY_ENV) or None
    return server, api_key


def require_local(what: str) -> None:
    """Refuse ``--server`` for a command that works on this machine's store or key files only."""
    server, _ = _options()
    if server:
        fail(f"--server: {what} works on this machine's store only; run it where the store is", USAGE)


def _local_faces() -> Faces:
    from ..controlplane import AINamespace, open_control_plane
    from ..controlplane.api_keys import ApiKeys
    from ..controlplane.configs_api import Configs
    from ..controlplane.providers_api import Providers

    plane = open_control_plane(dict(os.environ), transport=None, create=True)
    assert plane is not None
    return Faces(AINamespace(plane), Providers(plane), ApiKeys(plane), Configs(plane), close=plane.close)


def _remote_faces(server: str, api_key: str | None) -> Faces:
    from .. import Client

    client: Any = Client(base_url=server, api_key=api_key)
    try:
        client.me()  # one round trip first: an unreachable server (5) or a refused key (4) says so now
    except BaseException:
        client.close()
        raise
    close = getattr(client, "close", None)
    return Faces(
        client.ai,
        client.providers,
        client.api_keys,
        client.configs,
        remote=True,
        close=close if callable(close) else (lambda: None),
    )


@contextmanager
def open_faces() -> Iterator[Faces]:
    """The local control plane, or the remote client with ``--server``; closed afterwards.

    Errors inside are mapped by :func:`guarded` (one line, an exit code).
    """
    server, api_key = _options()
    with guarded():
        faces = _remote_faces(server, api_key) if server else _local_faces()
        try:
            yield faces
        except AttributeError as error:  # a resource method the remote client does not have (yet)
            if not faces.remote:
                raise
            fail(
                f"--server: the remote client cannot do this yet ({error.name}); run it where the store is",
                FAILED,
            )
        finally:
            faces.close()


# --------------------------------------------------------------------------- input and output


def parse_json(value: str | None, option: str) -> Any:
    """``value`` parsed as JSON, or exit 2 naming the option and where the syntax breaks."""
    if value is None:
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError as error:
        fail(f"{option}: not JSON ({error.msg} at line {error.lineno} column {error.colno})", USAGE)


def read_json_file(path: Path) -> Any:
    """A JSON file, or exit 2 naming the file, line and column of the syntax error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"{path}: no such file", USAGE)
    except (OSError, UnicodeDecodeError) as error:
        fail(f"{path}: cannot read it ({type(error).__name__})", USAGE)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        fail(f"{path}:{error.lineno}:{error.colno}: not JSON ({error.msg})", USAGE)


def jsonable(value: Any) -> Any:
    """Dataclasses, mappings, decimals and tuples as plain JSON values."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and not isinstance(value, type):
        return jsonable(to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: jsonable(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not f.name.startswith("_")
        }
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def emit(value: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    """``value`` as JSON on stdout (``--json``), else drawn by ``render`` for a person."""
    if as_json:
        sys.stdout.write(json.dumps(jsonable(value), indent=2, ensure_ascii=False) + "\n")
        return
    render(value)


def table(*columns: str, title: str | None = None) -> Any:
    """A rich table with these columns."""
    from rich.table import Table

    return Table(*columns, title=title, title_justify="left")


def cell(value: Any) -> str:
    """A table cell: empty for None, yes/no for booleans, text otherwise (no rich markup)."""
    from rich.markup import escape

    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return escape(str(value))
