"""``strands-portkey provider-keys add|list|test|rm``: provider keys in the vault (``gw.ai.provider_keys``).

``add`` checks the key with the provider (a model listing, never billed) before saving it;
``--no-validate`` saves it unchecked (offline). The key is read from ``--key``, or from stdin with
``--key -`` (so it stays out of the shell's history). Keys are only ever shown masked.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from ._common import USAGE, AsJson, cell, console, emit, fail, open_faces, table

__all__ = ["provider_keys_app"]


def _secret(key: str) -> str:
    value = sys.stdin.readline().strip() if key == "-" else key.strip()
    if not value:
        fail("--key: empty (give the key, or '-' to read it from stdin)", USAGE)
    return value


def add(  # noqa: PLR0917 (typer: one parameter per option)
    provider: Annotated[
        str, typer.Argument(help="The provider (openai, anthropic, groq, ... or a registered one).")
    ],
    name: Annotated[str, typer.Option(help="A unique name; configs name it as their virtual_key.")],
    key: Annotated[str, typer.Option(help="The API key, or '-' to read it from stdin.")],
    weight: Annotated[int | None, typer.Option(help="Rotation weight (default 100).", min=0)] = None,
    description: Annotated[str | None, typer.Option(help="What the key is for.")] = None,
    validate: Annotated[
        bool | None,
        typer.Option(
            "--validate/--no-validate",
            help="Check the key with the provider first (default: yes, unless "
            "STRANDS_PORTKEY_VALIDATE_KEYS=off).",
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Store a provider key (checked with the provider first, unless --no-validate)."""
    body: dict[str, Any] = {"provider": provider, "name": name, "api_key": _secret(key)}
    if weight is not None:
        body["weight"] = weight
    if description is not None:
        body["description"] = description
    with open_faces() as faces:
        created = faces.ai.provider_keys.create(body, validate=validate)
    emit(created, as_json, lambda k: console(stderr=True).print(f"stored {k.id} {k.name} ({k.masked_key})"))


def list_keys(
    provider: Annotated[str | None, typer.Option(help="Only this provider's keys.")] = None,
    status: Annotated[str | None, typer.Option(help="active or disabled.")] = None,
    search: Annotated[str | None, typer.Option(help="Part of a key's name.")] = None,
    as_json: AsJson = False,
) -> None:
    """List provider keys (masked), with whether each is in rotation."""
    with open_faces() as faces:
        keys = list(faces.ai.provider_keys.list(provider=provider, status=status, search=search, limit=100))

    def render(found: list[Any]) -> None:
        out = table("id", "name", "provider", "key", "weight", "active", "last used", "error")
        for k in found:
            out.add_row(
                *map(
                    cell,
                    (k.id, k.name, k.provider, k.masked_key, k.weight, k.is_active, k.last_used_at, k.error),
                )
            )
        console().print(out)

    emit(keys, as_json, render)


def check_key(
    key_id: Annotated[str, typer.Argument(help="The key's id (key-...) or name.")],
    as_json: AsJson = False,
) -> None:
    """Check a key with its provider now (a passing key is put back in rotation). Exit 1 when refused."""
    with open_faces() as faces:
        result = faces.ai.provider_keys.test(key_id)
    emit(result, as_json, lambda r: console().print(f"{'ok' if r.success else 'refused'}: {cell(r.message)}"))
    if not result.success:
        raise typer.Exit(1)


def remove(
    key_id: Annotated[str, typer.Argument(help="The key's id (key-...) or name.")], as_json: AsJson = False
) -> None:
    """Delete a provider key."""
    with open_faces() as faces:
        deleted = faces.ai.provider_keys.delete(key_id)
    emit(deleted, as_json, lambda d: console(stderr=True).print(f"deleted {d['id']}"))


def provider_keys_app() -> typer.Typer:
    """The ``provider-keys`` command group."""
    app = typer.Typer(help="Provider keys in the vault: add, list, test, rm.", no_args_is_help=True)
    app.command("add")(add)
    app.command("list")(list_keys)
    app.command("test")(check_key)
    app.command("rm")(remove)
    return app
