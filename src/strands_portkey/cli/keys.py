"""``strands-portkey keys create|list|revoke``: the gateway's API keys (``spk-...``) in the store.

The store is the server's (``STRANDS_PORTKEY_DB_URL``, else the user's SQLite file) and the master
key the vault's. ``create`` prints the key once (it is stored hashed and cannot be shown again);
``list`` shows keys masked (``spk-…abcd``). A revoked key stops working on every running worker
within one second.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from ..controlplane.api_keys import ApiKeys

__all__ = ["bootstrap_admin_key", "keys_app", "open_api_keys"]


def _console(stderr: bool = False) -> Console:
    return Console(stderr=stderr)


def _fail(message: str) -> typer.Exit:
    _console(stderr=True).print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=2)


@contextmanager
def open_api_keys() -> Iterator[ApiKeys]:
    """``gw.api_keys`` over the server's store (created when missing), closed afterwards."""
    from ..controlplane import open_control_plane
    from ..controlplane.api_keys import ApiKeys

    plane = open_control_plane(dict(os.environ), transport=None, create=True)
    assert plane is not None
    try:
        yield ApiKeys(plane)
    finally:
        plane.close()


def bootstrap_admin_key(api_keys: ApiKeys) -> str | None:
    """A first ``admin`` key when the store has none at all (the new key, shown once), else None."""
    if next(iter(api_keys.list(limit=1)), None) is not None:
        return None
    created = api_keys.create({"name": "admin (created by serve)", "role": "admin", "scopes": ["*"]})
    return created.key


def _json(value: str | None, option: str) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError:
        raise _fail(f"{option}: expected JSON, got {value[:40]!r}") from None


def create(  # noqa: PLR0917 (typer: one parameter per option)
    name: Annotated[str, typer.Option(help="A name to recognise the key by.")],
    role: Annotated[str, typer.Option(help="admin or member.")] = "member",
    scope: Annotated[
        list[str] | None, typer.Option(help="A scope (repeatable; default completions.write).")
    ] = None,
    model: Annotated[
        list[str] | None, typer.Option(help="An allowed model (repeatable; default any).")
    ] = None,
    config: Annotated[
        list[str] | None, typer.Option(help="An allowed saved config id (repeatable; default any).")
    ] = None,
    default_config: Annotated[
        str | None, typer.Option(help="Saved config (pc-...) for requests naming no route.")
    ] = None,
    user: Annotated[str | None, typer.Option(help="The key's user (default STRANDS_PORTKEY_USER).")] = None,
    organization: Annotated[str | None, typer.Option(help="The key's organization.")] = None,
    expires_at: Annotated[str | None, typer.Option(help="ISO 8601 expiry (default never).")] = None,
    rate_limits: Annotated[
        str | None, typer.Option(help='JSON, e.g. \'[{"type":"requests","unit":"rpm","value":60}]\'.')
    ] = None,
    usage_limits: Annotated[
        str | None, typer.Option(help='JSON, e.g. \'{"credit_limit":10,"periodic_reset":"monthly"}\'.')
    ] = None,
) -> None:
    """Create a gateway API key and print it, once."""
    from ..errors import GatewayError

    body: dict[str, Any] = {"name": name, "role": role}
    optional = {
        "scopes": scope or None,
        "allowed_models": model or None,
        "allowed_configs": config or None,
        "default_config": default_config,
        "user": user,
        "organization_id": organization,
        "expires_at": expires_at,
        "rate_limits": _json(rate_limits, "--rate-limits"),
        "usage_limits": _json(usage_limits, "--usage-limits"),
    }
    body.update({field: value for field, value in optional.items() if value is not None})
    try:
        with open_api_keys() as api_keys:
            created = api_keys.create(body)
    except GatewayError as error:
        raise _fail(str(error)) from None
    _console(stderr=True).print(f"created {created.api_key.id} ({role}); the key is shown this once:")
    print(created.key)


def list_keys(
    status: Annotated[str | None, typer.Option(help="active, expired or revoked.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """List gateway API keys (masked)."""
    from ..errors import GatewayError

    try:
        with open_api_keys() as api_keys:
            keys = list(api_keys.list(status=status, limit=100))
    except GatewayError as error:
        raise _fail(str(error)) from None
    if as_json:
        for key in keys:
            print(json.dumps(key.to_dict()))
        return
    table = Table("id", "name", "key", "role", "user", "status", "expires")
    for key in keys:
        table.add_row(key.id, key.name, key.masked_key, key.role, key.user, key.status, key.expires_at or "")
    _console().print(table)


def revoke(key_id: Annotated[str, typer.Argument(help="The key's id (ak-...).")]) -> None:
    """Revoke a gateway API key (every worker refuses it within one second)."""
    from ..errors import GatewayError

    try:
        with open_api_keys() as api_keys:
            revoked = api_keys.revoke(key_id)
    except GatewayError as error:
        raise _fail(str(error)) from None
    _console(stderr=True).print(f"revoked {revoked.id} ({revoked.masked_key})")


def keys_app() -> typer.Typer:
    """The ``keys`` command group."""
    app = typer.Typer(help="Gateway API keys (spk-...): create, list, revoke.", no_args_is_help=True)
    app.command("create")(create)
    app.command("list")(list_keys)
    app.command("revoke")(revoke)
    return app
