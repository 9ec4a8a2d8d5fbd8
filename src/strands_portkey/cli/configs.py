"""``strands-portkey configs validate FILE`` and ``configs explain FILE`` (a Portkey config, locally).

``validate`` builds the config's plan exactly as a gateway would and reports the first error with
its JSON path (``config.targets[1].weight: ...``), or a JSON syntax error with its line and column.
``explain`` draws the plan tree: each strategy and its targets, and for each target the settings
it runs with and where each comes from (its own, or inherited from which parent); with
``--request`` (and ``--metadata``) it walks a sample request through the tree and says what would
happen. Nothing is sent anywhere; credentials written in the config are never shown.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ._common import (
    USAGE,
    AsJson,
    cell,
    console,
    emit,
    fail,
    guarded,
    open_faces,
    parse_json,
    read_json_file,
    table,
)

if TYPE_CHECKING:
    from ..config.plan import PlanNode

__all__ = ["configs_app"]

ConfigFile = Annotated[
    Path, typer.Argument(help="A Portkey config: a JSON file, or a saved config's id (pc-...).")
]


def _plan(file: Path) -> tuple[dict[str, Any], PlanNode]:
    """The raw config and its plan; exit 2 with the file and the JSON path of the first error."""
    from ..config.resolve import build_plan
    from ..errors import ConfigurationError

    raw = _saved(str(file)) if str(file).startswith("pc-") and not file.exists() else read_json_file(file)
    if not isinstance(raw, dict):
        fail(f"{file}: config: expected a JSON object, got {type(raw).__name__}", USAGE)
    try:
        return raw, build_plan(raw)
    except ConfigurationError as error:
        fail(f"{file}: {error}", USAGE)


def _saved(config_id: str) -> Any:
    """The current version of a saved config (from the store, or the server with ``--server``)."""
    with open_faces() as faces:
        return faces.configs.retrieve(config_id).config


def _label(entry: dict[str, Any]) -> str:
    from rich.markup import escape

    name = f" ({entry['name']})" if entry.get("name") else ""
    if "mode" in entry:
        codes = f" (moves on for {entry['on_status_codes']})" if entry.get("on_status_codes") else ""
        return f"[bold]{escape(entry['path'])}[/]{escape(name)}: {entry['mode']}{codes}"
    parts = [f"provider {entry['provider']}"] if entry.get("provider") else []
    if entry.get("virtual_key"):
        parts.append(f"virtual key {entry['virtual_key']!r}")
    if entry.get("prompt_id"):
        parts.append(f"prompt {entry['prompt_id']!r}")
    if entry.get("api_key_in_config"):
        parts.append("api_key in the config")
    via = ", ".join(parts) or "no provider"
    return f"[bold]{escape(entry['path'])}[/]{escape(name)}: {escape(via)}"


def _draw(branch: Any, entry: dict[str, Any], total_weight: float | None = None) -> None:
    from rich.markup import escape

    from ..config.explain import setting_text

    share = (
        f" weight {entry['weight']:g} ({100 * entry['weight'] / total_weight:.0f}%)" if total_weight else ""
    )
    node = branch.add(_label(entry) + share)
    for name, setting in entry.get("settings", {}).items():
        where = ", ".join(source if source == "own" else f"from {source}" for source in setting["from"])
        node.add(f"{name}: {escape(setting_text(name, setting['value']))} [dim]({escape(where)})[/]")
    children = entry.get("targets", [])
    weights = sum(child["weight"] for child in children) if entry.get("mode") == "loadbalance" else None
    for child in children:
        _draw(node, child, weights or None)


def validate(file: ConfigFile, as_json: AsJson = False) -> None:
    """Check a config as a gateway would; the first error names its JSON path (exit 2)."""
    from ..config.plan import iter_leaves

    _, plan = _plan(file)
    leaves = [leaf.path for leaf in iter_leaves(plan)]
    mode = getattr(plan, "mode", "single target")
    found = {"valid": True, "file": str(file), "mode": mode, "targets": leaves}
    emit(found, as_json, lambda _: console().print(f"{file}: valid ({mode}, {len(leaves)} target(s))"))


def explain(
    file: ConfigFile,
    request: Annotated[
        str | None, typer.Option(help='A sample request body (JSON), e.g. \'{"model": "gpt-4o"}\'.')
    ] = None,
    metadata: Annotated[str | None, typer.Option(help="The sample request's metadata (JSON object).")] = None,
    as_json: AsJson = False,
) -> None:
    """The plan tree, what each target inherits, and what a sample request would do."""
    raw, plan = _plan(file)
    params, meta = parse_json(request, "--request") or {}, parse_json(metadata, "--metadata") or {}
    if not isinstance(params, dict) or not isinstance(meta, dict):
        fail("--request and --metadata: expected JSON objects", USAGE)
    from ..config.explain import plan_tree, walk_sample

    steps: list[str] = []
    if request is not None or metadata is not None:
        with guarded():
            steps = walk_sample(plan, params, meta)
    tree = plan_tree(raw, plan)

    def render(_: Any) -> None:
        from rich.tree import Tree

        root = Tree(f"plan of {file}")
        _draw(root, tree)
        out = console()
        out.print(root)
        if steps:
            out.print("[bold]a sample request:[/]")
            for step in steps:
                out.print(f"  {step}", markup=False)

    emit({"plan": tree, "sample": steps}, as_json, render)


def list_saved(
    search: Annotated[str | None, typer.Option(help="Part of a saved config's name.")] = None,
    as_json: AsJson = False,
) -> None:
    """Saved configs (pc-...), each at its current version."""
    with open_faces() as faces:
        found = list(faces.configs.list(search=search, limit=100))

    def render(configs: list[Any]) -> None:
        out = table("id", "name", "version", "owner", "updated")
        for c in configs:
            out.add_row(*map(cell, (c.id, c.name, c.version, c.owner, c.updated_at)))
        console().print(out)

    emit(found, as_json, render)


def show(
    config_id: Annotated[str, typer.Argument(help="The saved config's id (pc-...) or name.")],
    version: Annotated[
        int | None, typer.Option(help="This version (default the current one).", min=1)
    ] = None,
    as_json: AsJson = False,
) -> None:
    """A saved config at one version (the config itself as JSON)."""
    with open_faces() as faces:
        found = faces.configs.retrieve(config_id, version)

    def render(c: Any) -> None:
        note = console(stderr=True)
        note.print(f"{c.id} {cell(c.name)}: version {c.version} of {c.latest_version}, by {cell(c.owner)}")
        print(json.dumps(c.config, indent=2))

    emit(found, as_json, render)


def save(
    file: Annotated[Path, typer.Argument(help="A Portkey config (JSON file).")],
    name: Annotated[str | None, typer.Option(help="The name of a new saved config.")] = None,
    config_id: Annotated[str | None, typer.Option("--id", help="Add a version to this saved config.")] = None,
    as_json: AsJson = False,
) -> None:
    """Save a config: a new pc-... (--name), or its next version (--id); validated first."""
    if (name is None) == (config_id is None):
        fail("give --name (a new saved config) or --id (a new version of one), not both or neither", USAGE)
    raw, _ = _plan(file)
    with open_faces() as faces:
        saved = (
            faces.configs.create(name, raw)
            if config_id is None
            else faces.configs.update(config_id, config=raw)
        )
    line = f"saved {saved.id} {saved.name}, version {saved.version}"
    emit(saved, as_json, lambda _: console(stderr=True).print(line, markup=False))


def configs_app() -> typer.Typer:
    """The ``configs`` command group."""
    app = typer.Typer(help="Portkey configs: validate, explain, and saved configs.", no_args_is_help=True)
    app.command("validate")(validate)
    app.command("explain")(explain)
    app.command("list")(list_saved)
    app.command("show")(show)
    app.command("save")(save)
    return app
