"""Prompts in memory: what ``gw.prompts.render`` and requests made through a prompt read.

The snapshot holds, for every prompt, its labels and newest version number, and the versions
those point at, parsed once. It reloads with the plane's other snapshots: at once after a change
made here, within ``refresh_interval`` after another process's (the store revision), so a moved
label takes effect on the next request everywhere. Versions are immutable, so one read by number
(``name@7``) is kept for good.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from sqlalchemy import select, tuple_

from ..errors import InvalidRequestError, ResourceNotFoundError
from ..prompts.refs import LATEST, PromptRef, parse_ref
from ..prompts.render import Compiled, Missing, check_given, compile_template, make_renderer, variable_names
from ..prompts.template import CompiledMessage, compile_messages, render_messages, templates_of
from ..store.db import Store
from ..store.prompt_tables import PromptLabelRow, PromptRow, PromptVersionRow

__all__ = ["LoadedVersion", "PromptSnapshot", "RenderedPrompt"]

_MAX_RESOLVED = 10_000  # references remembered between reloads (beyond that, resolved each time)


@dataclass(frozen=True, slots=True)
class LoadedVersion:
    """One version, parsed: a prompt's messages, or a partial's template."""

    prompt_id: str
    name: str
    kind: str
    version: int
    messages: tuple[CompiledMessage, ...]
    partial: Compiled | None
    model: str | None
    params: Mapping[str, Any]
    config_id: str | None


@dataclass(frozen=True, slots=True)
class RenderedPrompt:
    """A prompt filled in: the request it makes (``body()``), and which prompt version made it."""

    prompt_id: str
    name: str
    version: int
    model: str | None
    messages: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)
    config_id: str | None = None

    def body(self) -> dict[str, Any]:
        """The OpenAI-shaped request body: ``model``, ``messages`` and the parameters."""
        body: dict[str, Any] = {**self.params, "messages": self.messages}
        if self.model is not None:
            body["model"] = self.model
        return body

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "prompt_id": self.prompt_id,
            "name": self.name,
            "version": self.version,
            "config_id": self.config_id,
            **self.body(),
        }


@dataclass(frozen=True, slots=True)
class _Entry:
    id: str
    name: str
    kind: str
    latest: int
    labels: Mapping[str, int]


class PromptsHost(Protocol):
    """What the snapshot needs of its control plane."""

    store: Store
    reload_lock: threading.RLock

    def maybe_refresh(self) -> None:
        """Reload when another process changed the store (cheap)."""
        ...

    def refresh(self) -> None:
        """Reload every snapshot now."""
        ...

    def revision_moved(self) -> bool:
        """Whether the store revision moved since the last load."""
        ...


def load_version(row: PromptVersionRow, prompt: PromptRow) -> LoadedVersion:
    """Parse a stored version (it was checked when written)."""
    partial = compile_template(row.template, "template") if prompt.kind == "partial" else None
    messages = compile_messages(row.template) if prompt.kind != "partial" else ()
    return LoadedVersion(
        prompt.id, prompt.name, prompt.kind, row.version, messages, partial,
        row.model, MappingProxyType(dict(row.params or {})), row.config_id,
    )  # fmt: skip


class PromptSnapshot:
    """Every prompt's labels and labelled versions in memory, by id and by name."""

    def __init__(self, plane: PromptsHost) -> None:
        self._plane = plane
        self._entries: Mapping[str, _Entry] = {}
        self._versions: dict[tuple[str, int], LoadedVersion] = {}
        # Request-path caches, emptied on every reload (labels may have moved): a reference's
        # version, and a version's variable names (its partials included).
        self._resolved: dict[str, LoadedVersion] = {}
        self._names: dict[tuple[str, int], tuple[frozenset[str], frozenset[str]]] = {}
        self._renderer = make_renderer(self._partial)
        self.refresh()

    def __repr__(self) -> str:
        return f"PromptSnapshot(prompts={len({e.id for e in self._entries.values()})})"

    def refresh(self) -> None:
        """Reload labels and the versions they name (under the plane's reload lock)."""
        with self._plane.reload_lock, self._plane.store.reading() as session:
            prompts = session.scalars(select(PromptRow)).all()
            labels: dict[str, dict[str, int]] = {}
            for label in session.scalars(select(PromptLabelRow)).all():
                labels.setdefault(label.prompt_id, {})[label.label] = label.version
            entries: dict[str, _Entry] = {}
            wanted: set[tuple[str, int]] = set()
            for row in prompts:
                entry = _Entry(
                    row.id, row.name, row.kind, row.latest_version, MappingProxyType(labels.get(row.id, {}))
                )
                entries[row.id] = entries[row.name] = entry
                wanted |= {(row.id, row.latest_version), *((row.id, v) for v in entry.labels.values())}
            missing = wanted - self._versions.keys()
            by_id = {row.id: row for row in prompts}
            if missing:
                statement = select(PromptVersionRow).where(
                    tuple_(PromptVersionRow.prompt_id, PromptVersionRow.version).in_(sorted(missing))
                )
                for version in session.scalars(statement).all():
                    self._versions[(version.prompt_id, version.version)] = load_version(
                        version, by_id[version.prompt_id]
                    )
            live = {row.id for row in prompts}
            self._versions = {k: v for k, v in self._versions.items() if k[0] in live}
            self._entries = entries
            self._resolved, self._names = {}, {}

    def _entry(self, ref: PromptRef, path: str) -> _Entry:
        self._plane.maybe_refresh()
        entry = self._entries.get(ref.prompt)
        if entry is None and self._plane.revision_moved():  # created by another process just now
            self._plane.refresh()
            entry = self._entries.get(ref.prompt)
        if entry is None:
            raise ResourceNotFoundError(f"no prompt with id or name {ref.prompt!r} (at {path})")
        return entry

    def resolve(self, ref: str | PromptRef, path: str = "prompt") -> LoadedVersion:
        """The version ``ref`` names; unknown prompt, version or label: ``ResourceNotFoundError``."""
        if isinstance(ref, str):
            self._plane.maybe_refresh()
            known = self._resolved.get(ref)
            if known is not None:
                return known
        parsed = ref if isinstance(ref, PromptRef) else parse_ref(ref, path)
        entry = self._entry(parsed, path)
        if parsed.version is not None:
            number = parsed.version
        elif parsed.label == LATEST:
            number = entry.latest
        else:
            assert parsed.label is not None
            found = entry.labels.get(parsed.label)
            if found is None:
                labels = ", ".join(sorted([*entry.labels, LATEST]))
                raise ResourceNotFoundError(
                    f"prompt {entry.name!r} has no label {parsed.label!r} (labels: {labels})"
                )
            number = found
        loaded = self._versions.get((entry.id, number))
        if loaded is None:
            loaded = self._load(entry, number)
        if isinstance(ref, str) and len(self._resolved) < _MAX_RESOLVED:
            self._resolved[ref] = loaded
        return loaded

    def _load(self, entry: _Entry, number: int) -> LoadedVersion:
        with self._plane.store.reading() as session:
            row = session.get(PromptVersionRow, (entry.id, number))
            prompt = session.get(PromptRow, entry.id)
            if row is None or prompt is None:
                raise ResourceNotFoundError(
                    f"prompt {entry.name!r} has no version {number} (versions 1 to {entry.latest})"
                )
            loaded = load_version(row, prompt)
        self._versions[(entry.id, number)] = loaded
        return loaded

    def _partial(self, ref: str) -> Compiled:
        loaded = self.resolve(ref, path=f"{{{{>{ref}}}}}")
        if loaded.partial is None:
            raise InvalidRequestError(f"{ref!r} is a chat prompt, not a partial", path=f"{{{{>{ref}}}}}")
        return loaded.partial

    def render(
        self,
        ref: str | PromptRef,
        variables: Mapping[str, Any] | None = None,
        overrides: Mapping[str, Any] | None = None,
        *,
        missing: Missing = "error",
    ) -> RenderedPrompt:
        """Fill in the prompt ``ref`` names: its model, messages and parameters, then ``overrides``.

        ``overrides``: ``model`` replaces the prompt's, ``messages`` follow the prompt's, any
        other key replaces or adds a parameter.
        """
        values = dict(variables or {})
        loaded = self.resolve(ref)
        if loaded.kind == "partial":
            raise InvalidRequestError(
                f"{loaded.name!r} is a partial: include it with {{{{>{loaded.name}}}}}", path="prompt"
            )
        which = (loaded.prompt_id, loaded.version)
        names = self._names.get(which)
        if names is None:
            names = self._names[which] = variable_names(templates_of(loaded.messages), self._partial)
        check_given(*names, values, missing)
        messages = render_messages(self._renderer, loaded.messages, values)
        params = dict(loaded.params)
        model = loaded.model
        for key, value in (overrides or {}).items():
            if key == "model":
                model = value
            elif key == "messages":
                if not isinstance(value, list):
                    raise InvalidRequestError("expected a list of messages", path="messages")
                messages.extend(value)
            elif key not in ("variables", "stream"):
                params[key] = value
        return RenderedPrompt(
            loaded.prompt_id, loaded.name, loaded.version, model, messages, params, loaded.config_id
        )
