"""What ``gw.prompts`` returns: a prompt at one version, a version's summary, a diff."""

from __future__ import annotations

import difflib
import json
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Prompt", "PromptDiff", "PromptVersion"]


@dataclass(frozen=True, slots=True)
class Prompt:
    """A prompt (or partial) at one version: ``template`` is messages, or a string for a partial."""

    id: str
    name: str
    kind: str
    description: str | None
    version: int
    latest_version: int
    labels: dict[str, int]
    template: Any
    model: str | None
    params: dict[str, Any]
    config_id: str | None
    note: str | None
    created_by: str
    owner: str
    organization_id: str
    created_at: str
    updated_at: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class PromptVersion:
    """One version: its number, the labels on it, its note, who wrote it and when."""

    version: int
    labels: list[str]
    note: str | None
    created_by: str
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class PromptDiff:
    """What changed from version ``a`` to ``b``: the fields that differ, and a unified text diff."""

    name: str
    a: int
    b: int
    changed: dict[str, dict[str, Any]]
    text: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def diff_versions(name: str, old: Prompt, new: Prompt) -> PromptDiff:
    """Compare two versions of one prompt field by field."""
    changed: dict[str, dict[str, Any]] = {}
    for key in ("template", "model", "config_id", "note"):
        if getattr(old, key) != getattr(new, key):
            changed[key] = {"a": getattr(old, key), "b": getattr(new, key)}
    for key in sorted(old.params.keys() | new.params.keys()):
        if old.params.get(key) != new.params.get(key):
            changed[f"params.{key}"] = {"a": old.params.get(key), "b": new.params.get(key)}

    def lines(prompt: Prompt) -> list[str]:
        shown = {"model": prompt.model, "params": prompt.params, "template": prompt.template}
        return json.dumps(shown, indent=2, sort_keys=True, ensure_ascii=False).splitlines(keepends=True)

    text = "".join(
        difflib.unified_diff(lines(old), lines(new), f"{name}@{old.version}", f"{name}@{new.version}")
    )
    return PromptDiff(name, old.version, new.version, changed, text)
