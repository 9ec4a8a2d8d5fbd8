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
import re
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
    from ..config.plan import LeafPlan, PlanNode

__all__ = ["configs_app"]

ConfigFile = Annotated[
    Path, typer.Argument(help="A Portkey config: a JSON file, or a saved config's id (pc-...).")
]
_INDEX = re.compile(r"\.targets\[(\d+)\]")
# Settings a target inherits from its parents, and the config keys that set each.
_INHERITED: dict[str, tuple[str, ...]] = {
    "retry": ("retry",),
    "cache": ("cache",),
    "request_timeout": ("request_timeout",),
    "custom_host": ("custom_host",),
    "forward_headers": ("forward_headers",),
    "override_params": ("override_params",),
    "before_hooks": ("before_request_hooks", "input_guardrails", "input_mutators"),
    "after_hooks": ("after_request_hooks", "output_guardrails", "output_mutators"),
}


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


def _chain(raw: dict[str, Any], path: str) -> list[tuple[str, dict[str, Any]]]:
    """The raw nodes from the root to ``path`` (``config.targets[1].targets[0]``), with their paths."""
    nodes, here, node = [("config", raw)], "config", raw
    for index in _INDEX.findall(path):
        here, node = f"{here}.targets[{index}]", node["targets"][int(index)]
        nodes.append((here, node))
    return nodes


def _shown(name: str, leaf: LeafPlan) -> Any:
    """A leaf's resolved setting as plain JSON (None when it has none)."""
    if name == "retry" and leaf.retry is not None:
        return {"attempts": leaf.retry.attempts, "on_status_codes": sorted(leaf.retry.on_status_codes)}
    if name == "cache" and leaf.cache is not None:
        return {"mode": leaf.cache.mode, "max_age": leaf.cache.max_age_s}
    if name in ("before_hooks", "after_hooks"):
        return [hook.id for hook in getattr(leaf, name)] or None
    value = {"request_timeout": leaf.request_timeout_ms}.get(name, getattr(leaf, name, None))
    if isinstance(value, tuple):
        value = list(value)
    return value or None


def _settings(raw: dict[str, Any], leaf: LeafPlan) -> dict[str, dict[str, Any]]:
    """Each setting the leaf runs with: its value and ``from`` (``own`` or the parent's path)."""
    chain = _chain(raw, leaf.path)
    out: dict[str, dict[str, Any]] = {}
    for name, keys in _INHERITED.items():
        setters = [path for path, node in chain if any(node.get(key) is not None for key in keys)]
        value = _shown(name, leaf)
        if value is None and not setters:
            continue
        if value is None:
            value = "off"  # e.g. retry.attempts 0: set, to nothing
        if name != "override_params":
            setters = setters[-1:]
        out[name] = {"value": value, "from": ["own" if path == leaf.path else path for path in setters]}
    return out


def _tree(raw: dict[str, Any], node: PlanNode) -> dict[str, Any]:
    """The plan as JSON: strategies with their targets, leaves with their settings."""
    from ..config.plan import LeafPlan

    if isinstance(node, LeafPlan):
        where = {"provider": node.provider, "virtual_key": node.virtual_key, "prompt_id": node.prompt_id}
        return {
            "path": node.path,
            "name": node.name,
            "weight": node.weight,
            **{key: value for key, value in where.items() if value},
            "api_key_in_config": node.api_key is not None,
            "settings": _settings(raw, node),
        }
    entry: dict[str, Any] = {"path": node.path, "name": node.name, "weight": node.weight, "mode": node.mode}
    if node.on_status_codes:
        entry["on_status_codes"] = sorted(node.on_status_codes)
    if node.mode == "conditional":
        entry["conditions"] = [{"then": c.target} for c in node.conditions]
        entry["default"] = node.default
    entry["targets"] = [_tree(raw, child) for child in node.targets]
    return entry


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


def _text(name: str, value: Any) -> str:
    """A setting for people: ``2 retries on 429, 500``, ``5000 ms``, JSON for the rest."""
    if name == "retry" and isinstance(value, dict):
        return f"{value['attempts']} retries on {', '.join(map(str, value['on_status_codes']))}"
    if name == "cache" and isinstance(value, dict):
        return str(value["mode"]) + (f", max age {value['max_age']:g} s" if value.get("max_age") else "")
    if name == "request_timeout" and isinstance(value, (int, float)):
        return f"{value:g} ms"
    return value if isinstance(value, str) else json.dumps(value)


def _draw(branch: Any, entry: dict[str, Any], total_weight: float | None = None) -> None:
    from rich.markup import escape

    share = (
        f" weight {entry['weight']:g} ({100 * entry['weight'] / total_weight:.0f}%)" if total_weight else ""
    )
    node = branch.add(_label(entry) + share)
    for name, setting in entry.get("settings", {}).items():
        where = ", ".join(source if source == "own" else f"from {source}" for source in setting["from"])
        node.add(f"{name}: {escape(_text(name, setting['value']))} [dim]({escape(where)})[/]")
    children = entry.get("targets", [])
    weights = sum(child["weight"] for child in children) if entry.get("mode") == "loadbalance" else None
    for child in children:
        _draw(node, child, weights or None)


def _walk(node: PlanNode, context: dict[str, Any], steps: list[str], depth: int = 0, lead: str = "") -> None:
    """Append what a request with ``context`` would do at ``node`` (one line per step)."""
    from ..config.plan import LeafPlan

    pad = "  " * depth + lead
    if isinstance(node, LeafPlan):
        body = {**context["params"], **node.override_params}
        retry = f", up to {node.retry.attempts} retries" if node.retry else ""
        steps.append(
            f"{pad}{node.path}: sent to {node.provider or 'the virtual key ' + repr(node.virtual_key)} "
            f"as model {body.get('model')!r}{retry}"
        )
        return
    if node.mode == "conditional":
        chosen = next((c for c in node.conditions if c.matches(context)), None)
        index = chosen.target if chosen is not None else node.default
        if index is None:
            steps.append(f"{pad}{node.path}: no condition matches and there is no default: refused (400)")
            return
        why = (
            f"conditions[{node.conditions.index(chosen)}] matches"
            if chosen
            else "no condition matches: default"
        )
        steps.append(f"{pad}{node.path}: {why} -> targets[{index}]")
        _walk(node.targets[index], context, steps, depth + 1)
    elif node.mode == "loadbalance":
        total = sum(child.weight for child in node.targets) or 1.0
        shares = ", ".join(f"targets[{i}] {100 * c.weight / total:.0f}%" for i, c in enumerate(node.targets))
        steps.append(f"{pad}{node.path}: one target drawn by weight ({shares}); a failure goes to the parent")
        for child in node.targets:
            _walk(child, context, steps, depth + 1, "if drawn, ")
    else:
        also = " then the next on failure" if node.mode == "fallback" and len(node.targets) > 1 else ""
        steps.append(f"{pad}{node.path}: {node.mode}: targets[0] first{also}")
        if node.mode != "fallback":
            _walk(node.targets[0], context, steps, depth + 1)
            return
        for index, child in enumerate(node.targets):
            _walk(child, context, steps, depth + 1, "first, " if index == 0 else "on failure, ")


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
    steps: list[str] = []
    if request is not None or metadata is not None:
        with guarded():
            _walk(
                plan, {"metadata": meta, "params": params, "url": {"pathname": "/v1/chat/completions"}}, steps
            )
    tree = _tree(raw, plan)

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
