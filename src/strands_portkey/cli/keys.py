"""``strands-portkey keys create|list|rotate|revoke``: the gateway's API keys (``spk-...``) in the store.

The store is the server's (``STRANDS_PORTKEY_DB_URL``, else the user's SQLite file) and the master
key the vault's. ``create`` prints the key once (it is stored hashed and cannot be shown again);
``list`` shows keys masked (``spk-…abcd``). A revoked key stops working on every running worker
within one second.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ._common import AsJson, cell, console, emit, open_faces, parse_json, table

if TYPE_CHECKING:
    from ..controlplane.api_keys import ApiKeys

__all__ = ["bootstrap_admin_key", "keys_app", "open_api_keys"]


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
    as_json: AsJson = False,
) -> None:
    """Create a gateway API key and print it, once."""
    body: dict[str, Any] = {"name": name, "role": role}
    optional = {
        "scopes": scope or None,
        "allowed_models": model or None,
        "allowed_configs": config or None,
        "default_config": default_config,
        "user": user,
        "organization_id": organization,
        "expires_at": expires_at,
        "rate_limits": parse_json(rate_limits, "--rate-limits"),
        "usage_limits": parse_json(usage_limits, "--usage-limits"),
    }
    body.update({field: value for field, value in optional.items() if value is not None})
    with open_faces() as faces:
        created = faces.api_keys.create(body)
    _shown_once(created, as_json, f"created {created.api_key.id} ({role})")


def _shown_once(created: Any, as_json: bool, what: str) -> None:
    """A new key: JSON (``key`` included), or a note on stderr and the key alone on stdout."""
    if as_json:
        emit(created, True, lambda _: None)
        return
    console(stderr=True).print(f"{what}; the key is shown this once:")
    print(created.key)


def list_keys(
    status: Annotated[str | None, typer.Option(help="active, expired or revoked.")] = None,
    as_json: AsJson = False,
) -> None:
    """List gateway API keys (masked)."""
    with open_faces() as faces:
        keys = list(faces.api_keys.list(status=status, limit=100))

    def render(found: list[Any]) -> None:
        out = table("id", "name", "key", "role", "user", "status", "expires")
        for k in found:
            out.add_row(*map(cell, (k.id, k.name, k.masked_key, k.role, k.user, k.status, k.expires_at)))
        console().print(out)

    emit(keys, as_json, render)


def rotate(
    key_id: Annotated[str, typer.Argument(help="The key's id (ak-...).")], as_json: AsJson = False
) -> None:
    """A new secret for a key (same id, fields and limits); the old secret stops working."""
    with open_faces() as faces:
        created = faces.api_keys.rotate(key_id)
    _shown_once(created, as_json, f"rotated {created.api_key.id}")


def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (ak-...).")], as_json: AsJson = False
) -> None:
    """Revoke a gateway API key (every worker refuses it within one second)."""
    with open_faces() as faces:
        revoked = faces.api_keys.revoke(key_id)
    emit(revoked, as_json, lambda k: console(stderr=True).print(f"revoked {k.id} ({k.masked_key})"))


def keys_app() -> typer.Typer:
    """The ``keys`` command group."""
    app = typer.Typer(help="Gateway API keys (spk-...): create, list, rotate, revoke.", no_args_is_help=True)
    app.command("create")(create)
    app.command("list")(list_keys)
    app.command("rotate")(rotate)
    app.command("revoke")(revoke)
    return app
