"""``strands-portkey rates list|add|import-litellm FILE|bulk-update`` (``gw.providers.rates``).

``import-litellm`` reads a LiteLLM price map (``model_prices_and_context_window.json``) into the
providers configured here, in one transaction (existing rates are updated, entries of providers
not configured are skipped and counted). ``bulk-update`` re-prices every rate with unit costs.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer

from ._common import USAGE, AsJson, cell, console, emit, fail, open_faces, parse_json, read_json_file, table
from ._progress import progress

__all__ = ["rates_app"]


def _number(text: str, option: str) -> int | float:
    """A number given on the command line, as JSON sends it (the server's API takes numbers)."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        fail(f"{option}: expected a number, got {text!r}", USAGE)
    if not value.is_finite():
        fail(f"{option}: expected a number, got {text!r}", USAGE)
    return int(value) if value == value.to_integral_value() else float(text)


def list_rates(
    provider: Annotated[str | None, typer.Option(help="Only this provider's rates.")] = None,
    model: Annotated[str | None, typer.Option(help="Only this model.")] = None,
    type: Annotated[str | None, typer.Option(help="chatCompletion, embedding, ...")] = None,
    search: Annotated[str | None, typer.Option(help="Part of a model's name.")] = None,
    as_json: AsJson = False,
) -> None:
    """Model rates (credits per token), by provider and model."""
    with open_faces() as faces:
        found = list(
            faces.providers.rates.list(provider=provider, model=model, type=type, search=search, limit=1000)
        )

    def render(rates: list[Any]) -> None:
        out = table("id", "provider", "model", "type", "input", "output", "cache read", "cache write")
        for r in rates:
            fields = (r.id, r.provider, r.model, r.type, r.input_rate, r.output_rate)
            out.add_row(*map(cell, (*fields, r.cache_read_rate, r.cache_write_rate)))
        console().print(out)
        console(stderr=True).print(f"{len(rates)} rate(s)")

    emit(found, as_json, render)


def add(  # noqa: PLR0917 (typer: one parameter per option)
    model: Annotated[str, typer.Argument(help="The model's name at the provider(s).")],
    provider: Annotated[
        list[str], typer.Option(help="A provider id or name (repeatable; all or none get it).")
    ],
    input_rate: Annotated[str, typer.Option(help="Credits per input token.")],
    output_rate: Annotated[str, typer.Option(help="Credits per output token.")],
    type: Annotated[str, typer.Option(help="chatCompletion, embedding, ...")] = "chatCompletion",
    extra: Annotated[
        str | None, typer.Option(help="More fields as JSON, e.g. '{\"unitCosts\": {...}}'.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Create the same rate at one or more providers (one transaction)."""
    body: dict[str, Any] = {"providers": provider, "model": model, "type": type}
    body.update(
        {
            "inputRate": _number(input_rate, "--input-rate"),
            "outputRate": _number(output_rate, "--output-rate"),
        }
    )
    more = parse_json(extra, "--extra")
    if more is not None and not isinstance(more, dict):
        fail("--extra: expected a JSON object", USAGE)
    body.update(more or {})
    with open_faces() as faces:
        created = faces.providers.rates.create(body)
    emit(created, as_json, lambda rates: console(stderr=True).print(f"created {len(rates)} rate(s)"))


def import_litellm(
    file: Annotated[Path, typer.Argument(help="A LiteLLM price map (JSON).")],
    provider: Annotated[
        list[str] | None, typer.Option(help="Import only this provider's entries (repeatable).")
    ] = None,
    profit_margin: Annotated[str, typer.Option(help="Percent added to the USD cost.")] = "0",
    credit_price: Annotated[str, typer.Option(help="USD per credit.")] = "1",
    as_json: AsJson = False,
) -> None:
    """Import a LiteLLM price map into the configured providers (one transaction)."""
    entries = read_json_file(file)  # a broken file fails here, in one line, before any progress
    if not isinstance(entries, dict):
        fail(f"{file}: expected a JSON object of model entries, got {type(entries).__name__}", USAGE)
    margin, price = _number(profit_margin, "--profit-margin"), _number(credit_price, "--credit-price")
    with open_faces() as faces:
        importer = (
            faces.providers.rates.import_litellm
        )  # not there (a remote client): refused before any progress
        with progress(f"importing {file.name}") as bar:
            bar.note(f"writing the rates of {len(entries)} entries (one transaction)")
            report = importer(str(file), providers=provider or None, profit_margin=margin, credit_price=price)
    line = (
        f"{report.created} created, {report.updated} updated, "
        f"{report.skipped} skipped (provider not configured)"
    )
    emit(report, as_json, lambda _: console(stderr=True).print(line))


def bulk_update(
    profit_margin: Annotated[str, typer.Option(help="Percent added to each rate's USD unit cost.")],
    credit_price: Annotated[str, typer.Option(help="USD per credit.")],
    as_json: AsJson = False,
) -> None:
    """Re-price every rate that has unit costs (rate = cost x (1 + margin) / credit price)."""
    margin, price = _number(profit_margin, "--profit-margin"), _number(credit_price, "--credit-price")
    with open_faces() as faces:
        result = faces.providers.rates.bulk_update(profit_margin=margin, credit_price=price)
    emit(result, as_json, lambda r: console(stderr=True).print(f"re-priced {r['updated']} rate(s)"))


def rates_app() -> typer.Typer:
    """The ``rates`` command group."""
    app = typer.Typer(help="Model rates: list, add, import-litellm, bulk-update.", no_args_is_help=True)
    app.command("list")(list_rates)
    app.command("add")(add)
    app.command("import-litellm")(import_litellm)
    app.command("bulk-update")(bulk_update)
    return app
