"""``strands-portkey providers list|show|add|rm|health|models|test-models`` (``gw.providers``).

``test-models`` checks that every rated model is still offered by its provider (a model listing
per provider, never billed), with a progress bar while the background job runs; it exits 1 when a
model is not available.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from ._common import AsJson, cell, console, emit, open_faces, table
from ._progress import progress

__all__ = ["providers_app"]

_POLL_S = 0.2
_TEST_TIMEOUT_S = 600.0


def list_providers(as_json: AsJson = False) -> None:
    """Providers with their key and rate counts."""
    with open_faces() as faces:
        found = faces.providers.list()

    def render(providers: list[Any]) -> None:
        out = table("id", "name", "format", "base url", "enabled", "keys", "rates")
        for p in providers:
            out.add_row(
                *map(
                    cell,
                    (p.id, p.name, p.api_format, p.base_url, p.enabled, len(p.credentials), len(p.rates)),
                )
            )
        console().print(out)

    emit(found, as_json, render)


def show(
    provider: Annotated[str, typer.Argument(help="The provider's id or name.")], as_json: AsJson = False
) -> None:
    """One provider, its keys (masked) and its rates."""
    with open_faces() as faces:
        found = faces.providers.retrieve(provider)

    def render(p: Any) -> None:
        out = console()
        out.print(f"[bold]{cell(p.name)}[/] ({p.id}) {cell(p.display_name)}; format {p.api_format}")
        out.print(f"base url: {cell(p.base_url) or 'the provider default'}; enabled: {cell(p.enabled)}")
        keys = table("key", "name", "masked", "weight", "active", title="keys")
        for k in p.credentials:
            keys.add_row(*map(cell, (k.id, k.name, k.masked_key, k.weight, k.is_active)))
        rates = table("rate", "model", "type", "input", "output", title="rates")
        for r in p.rates:
            rates.add_row(*map(cell, (r.id, r.model, r.type, r.input_rate, r.output_rate)))
        out.print(keys, rates)

    emit(found, as_json, render)


def add(
    name: Annotated[str, typer.Argument(help="A unique name (configs route to it by this name).")],
    base_url: Annotated[
        str | None, typer.Option(help="Its base URL (required for a name the registry does not know).")
    ] = None,
    api_format: Annotated[str | None, typer.Option(help="openai (default) or another known format.")] = None,
    display_name: Annotated[str | None, typer.Option(help="A name for people.")] = None,
    as_json: AsJson = False,
) -> None:
    """Register a provider (a known one, or an OpenAI-compatible server at --base-url)."""
    body: dict[str, Any] = {"name": name}
    optional = {"baseUrl": base_url, "apiFormat": api_format, "displayName": display_name}
    body.update({field: value for field, value in optional.items() if value is not None})
    with open_faces() as faces:
        created = faces.providers.create(body)
    emit(created, as_json, lambda p: console(stderr=True).print(f"created provider {p.id} {p.name}"))


def remove(
    provider: Annotated[str, typer.Argument(help="The provider's id or name.")], as_json: AsJson = False
) -> None:
    """Delete a provider with all its keys and rates."""
    with open_faces() as faces:
        deleted = faces.providers.delete(provider)
    emit(deleted, as_json, lambda d: console(stderr=True).print(f"deleted provider {d['id']}"))


def health(as_json: AsJson = False) -> None:
    """Whether each key of each provider is in rotation (no provider is called)."""
    with open_faces() as faces:
        report = faces.providers.health()

    def render(found: dict[str, Any]) -> None:
        out = table("provider", "key", "in rotation")
        for provider, keys in sorted(found.get("providers", {}).items()):
            for key, state in sorted(keys.items()):
                out.add_row(cell(provider), cell(key), cell(state.get("running")))
        console().print(out)

    emit(report, as_json, render)


def models(
    type: Annotated[str | None, typer.Option(help="chat, embedding, ... (default all).")] = None,
    as_json: AsJson = False,
) -> None:
    """Rated models of enabled providers, in LiteLLM's format (model discovery)."""
    with open_faces() as faces:
        found = faces.providers.models(type=type)

    def render(entries: list[dict[str, Any]]) -> None:
        out = table("model", "provider", "type", "input credits/token", "output credits/token", "status")
        for entry in entries:
            fields = (
                "model",
                "provider",
                "type",
                "input_credits_per_token",
                "output_credits_per_token",
                "status",
            )
            out.add_row(*(cell(entry.get(name)) for name in fields))
        console().print(out)

    emit(found, as_json, render)


def check_models(
    user: Annotated[
        str, typer.Option(help="Whose run it counts as (5 runs per 10 minutes per user).")
    ] = "default",
    as_json: AsJson = False,
) -> None:
    """Check every rated model is offered by its provider; exit 1 when one is not."""
    with open_faces() as faces:
        total = sum(len(p.rates) for p in faces.providers.list())
        job = faces.providers.test_models(user=user)
        deadline = time.monotonic() + _TEST_TIMEOUT_S
        with progress("testing models", total) as bar:
            while not job.done and time.monotonic() < deadline:
                job.wait(_POLL_S)
                results = list(job.results)
                last = results[-1] if results else None
                bar.update(len(results), note=f"{last['provider']}/{last['model']}" if last else None)
        results = job.wait(0)
    failed = [r for r in results if not r.get("ok")]

    def render(found: list[dict[str, Any]]) -> None:
        out = table("provider", "model", "type", "ok", "message")
        for r in found:
            out.add_row(*map(cell, (r["provider"], r["model"], r["type"], r["ok"], r["message"])))
        console().print(out)
        console(stderr=True).print(f"{len(found) - len(failed)} of {len(found)} models available")

    emit(
        {"id": job.id, "status": job.status, "error": job.error, "results": results},
        as_json,
        lambda _: render(results),
    )
    if failed or job.status != "done":
        raise typer.Exit(1)


def providers_app() -> typer.Typer:
    """The ``providers`` command group."""
    app = typer.Typer(
        help="Providers: list, show, add, rm, health, models, test-models.", no_args_is_help=True
    )
    app.command("list")(list_providers)
    app.command("show")(show)
    app.command("add")(add)
    app.command("rm")(remove)
    app.command("health")(health)
    app.command("models")(models)
    app.command("test-models")(check_models)
    return app
