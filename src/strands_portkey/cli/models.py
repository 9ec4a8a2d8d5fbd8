"""``strands-portkey models list|show|add|deploy|start|stop|status|logs [-f]`` (``gw.ai.models``).

Acts as the user of ``STRANDS_PORTKEY_USER`` (listings show the models that user may use; changes
are for a model's owner). ``logs -f`` prints new lines as they arrive (every second) until Ctrl-C
or until the model stops.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from ._common import USAGE, AsJson, cell, console, emit, fail, open_faces, parse_json, read_json_file, table

__all__ = ["models_app"]

_FOLLOW_S = 1.0
ModelRef = Annotated[str, typer.Argument(help="The model's id (aim-...) or name.")]


def list_models(
    search: Annotated[str | None, typer.Option(help="Part of a model's name.")] = None,
    type: Annotated[str | None, typer.Option(help="third-party or self-hosted.")] = None,
    status: Annotated[str | None, typer.Option(help="active, deploying, stopped or failed.")] = None,
    provider: Annotated[str | None, typer.Option(help="Only this provider's models.")] = None,
    as_json: AsJson = False,
) -> None:
    """Registered models this user may use."""
    with open_faces() as faces:
        found = list(
            faces.ai.models.list(search=search, type=type, status=status, provider=provider, limit=100)
        )

    def render(models: list[Any]) -> None:
        out = table("id", "name", "type", "provider", "vendor model", "status", "owner")
        for m in models:
            out.add_row(*map(cell, (m.id, m.name, m.type, m.provider, m.vendor_model_id, m.status, m.owner)))
        console().print(out)

    emit(found, as_json, render)


def show(model: ModelRef, as_json: AsJson = False) -> None:
    """One model's fields."""
    with open_faces() as faces:
        found = faces.ai.models.retrieve(model)

    def render(m: Any) -> None:
        out = table("field", "value")
        for name, value in m.to_dict().items():
            out.add_row(cell(name), cell(value))
        console().print(out)

    emit(found, as_json, render)


def add(
    body: Annotated[str, typer.Argument(help="The model as JSON, or @FILE for a JSON file.")],
    as_json: AsJson = False,
) -> None:
    """Register a model (name, provider, vendor_model_id, type, config, ...)."""
    parsed = read_json_file(Path(body[1:])) if body.startswith("@") else parse_json(body, "BODY")
    if not isinstance(parsed, dict):
        fail("BODY: expected a JSON object", USAGE)
    with open_faces() as faces:
        created = faces.ai.models.create(parsed)
    emit(created, as_json, lambda m: console(stderr=True).print(f"registered {m.id} {m.name} ({m.status})"))


Timeout = Annotated[
    float | None,
    typer.Option(help="Without --server: stop the replicas after this many seconds (default: at Ctrl-C)."),
]


def _foreground(faces: Any, model: str, timeout: float | None) -> None:
    """Without a server the replicas live in this process: follow their logs until Ctrl-C (or timeout)."""
    if faces.remote:
        return
    console(stderr=True).print(
        "the replicas run while this command runs: Ctrl-C stops them (--server deploys on a server)"
    )
    _follow(
        faces,
        model,
        container=None,
        since=None,
        deadline=None if timeout is None else time.monotonic() + timeout,
    )
    faces.ai.models.stop(model)


def deploy(
    model: ModelRef,
    replicas: Annotated[
        int | None, typer.Option(help="Replica count (default the model's config).", min=1)
    ] = None,
    timeout: Timeout = None,
    as_json: AsJson = False,
) -> None:
    """Start a self-hosted model's replicas (each an OpenAI-compatible server on loopback)."""
    with open_faces() as faces:
        result = faces.ai.models.deploy(model, **({"replicas": replicas} if replicas else {}))
        line = f"{result['id']}: {result['status']} ({result['replicas']} replica(s))"
        emit(result, as_json, lambda _: console(stderr=True).print(line))
        _foreground(faces, model, timeout)


def start(model: ModelRef, timeout: Timeout = None, as_json: AsJson = False) -> None:
    """Start a stopped self-hosted model."""
    with open_faces() as faces:
        result = faces.ai.models.start(model)
        emit(result, as_json, lambda r: console(stderr=True).print(f"{r['id']}: {r['status']}"))
        _foreground(faces, model, timeout)


def stop(model: ModelRef, as_json: AsJson = False) -> None:
    """Stop a self-hosted model's replicas."""
    with open_faces() as faces:
        result = faces.ai.models.stop(model)
    emit(result, as_json, lambda r: console(stderr=True).print(f"{r['id']}: {r['status']}"))


def status(model: ModelRef, as_json: AsJson = False) -> None:
    """Deployment status: replicas ready, and the conditions that say why."""
    with open_faces() as faces:
        found = faces.ai.models.status(model)

    def render(s: Any) -> None:
        console().print(f"{cell(s.status)}: {s.ready_replicas}/{s.replicas} replica(s) ready")
        out = table("type", "status", "reason", "message")
        for c in s.conditions:
            out.add_row(*(cell(c.get(key)) for key in ("type", "status", "reason", "message")))
        console().print(out)

    emit(found, as_json, render)


def _newest(found: dict[str, Any]) -> str | None:
    stamps = [
        line.split(" ", 1)[0] for text in found.get("logs", {}).values() for line in str(text).splitlines()
    ]
    return max(stamps, default=None)


def _follow(
    faces: Any,
    model: str,
    *,
    container: str | None,
    since: str | None,
    deadline: float | None,
    seen: set[tuple[str, str]] | None = None,
) -> None:
    """Print new log lines every second while the model runs, until Ctrl-C or ``deadline``."""
    seen = set() if seen is None else seen
    newest = since
    try:
        while faces.ai.models.status(model).status in {"active", "deploying"}:
            if deadline is not None and time.monotonic() >= deadline:
                return
            found = faces.ai.models.logs(model, since=newest, container=container)
            newest = _print_logs(found, seen) or newest
            seen = {entry for entry in seen if entry[1].split(" ", 1)[0] >= (newest or "")}
            time.sleep(_FOLLOW_S)
    except KeyboardInterrupt:
        return
    console(stderr=True).print("the model is not running")


def _print_logs(found: dict[str, Any], seen: set[tuple[str, str]] | None = None) -> str | None:
    """Print each replica's lines (``replica-N | line``), skipping ``seen``; the newest stamp."""
    newest: str | None = None
    for container, text in sorted(found.get("logs", {}).items()):
        for line in str(text).splitlines():
            if seen is not None:
                if (container, line) in seen:
                    continue
                seen.add((container, line))
            print(f"{container} | {line}", flush=True)
            stamp = line.split(" ", 1)[0]
            newest = max(newest or stamp, stamp)
    return newest


def _show_logs(found: dict[str, Any]) -> None:
    _print_logs(found)


def logs(  # noqa: PLR0917 (typer: one parameter per option)
    model: ModelRef,
    lines: Annotated[
        int | None, typer.Option(help="The last N lines of each replica (default 100).", min=1)
    ] = None,
    since: Annotated[str | None, typer.Option(help="1h, 30m, 1h30m back, or an ISO 8601 time.")] = None,
    container: Annotated[str | None, typer.Option(help="One replica (replica-N).")] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines (Ctrl-C stops).")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """A self-hosted model's replica logs (lines start with the UTC time they arrived)."""
    if follow and as_json:
        fail("--follow prints lines as they come; it cannot be combined with --json", USAGE)
    with open_faces() as faces:
        found = faces.ai.models.logs(model, lines=lines, since=since, container=container)
        if not follow:
            emit(found, as_json, _show_logs)
            return
        seen: set[tuple[str, str]] = set()
        _print_logs(found, seen)
        _follow(
            faces,
            model,
            container=container,
            since=_newest(found) or found.get("since"),
            deadline=None,
            seen=seen,
        )


def models_app() -> typer.Typer:
    """The ``models`` command group."""
    app = typer.Typer(
        help="Registered AI models: list, show, add, deploy, start, stop, status, logs.", no_args_is_help=True
    )
    for name, command in (
        ("list", list_models),
        ("show", show),
        ("add", add),
        ("deploy", deploy),
        ("start", start),
        ("stop", stop),
        ("status", status),
        ("logs", logs),
    ):
        app.command(name)(command)
    return app
