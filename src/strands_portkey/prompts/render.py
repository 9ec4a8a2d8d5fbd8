"""Mustache rendering of prompt templates: the only importer of the Mustache library (pystache).

Templates are parsed once (when a version is saved, and again when a snapshot loads it) into a
:class:`Compiled` template that knows the variables it needs. Rendering never HTML-escapes (a
prompt is not a web page). A variable the template needs at its top level (outside any section)
that the call does not give is an error naming it, unless ``missing="empty"``; a variable given
that no tag names warns. Sections and inverted sections treat a missing key as false, as the
Mustache spec says. Partials (``{{>name}}``, ``{{>name@3}}``) are other prompts, found through a
resolver the caller passes.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import InvalidRequestError

__all__ = [
    "MAX_TEMPLATE_CHARS",
    "Compiled",
    "Missing",
    "PartialResolver",
    "check_given",
    "check_variables",
    "compile_template",
    "make_renderer",
    "render_text",
    "variable_names",
]

MAX_TEMPLATE_CHARS = 100_000  # per template (a message's content or a partial)
MAX_PARTIAL_DEPTH = 10

Missing = Literal["error", "empty"]


@dataclass(frozen=True, slots=True)
class Compiled:
    """A parsed template and the names in it: ``required`` (top level), ``names`` (any tag), partials."""

    source: str
    parsed: Any
    required: frozenset[str]
    names: frozenset[str]
    partials: frozenset[str]


PartialResolver = Callable[[str], Compiled]


def _position(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


def compile_template(text: object, path: str) -> Compiled:
    """Parse ``text``; a template that does not parse is an error saying where (line, column)."""
    from pystache.parser import ParsingError, parse

    if not isinstance(text, str):
        raise InvalidRequestError(f"expected a template string, got {type(text).__name__}", path=path)
    if len(text) > MAX_TEMPLATE_CHARS:
        raise InvalidRequestError(
            f"template of {len(text)} characters is over the limit of {MAX_TEMPLATE_CHARS}", path=path
        )
    try:
        parsed = parse(text, raise_on_mismatch=True)
    except ParsingError as error:
        where = f" at {_position(text, error.info.position)}" if error.info is not None else ""
        raise InvalidRequestError(f"template does not parse{where}: {error}", path=path) from None
    except Exception as error:  # pystache raises bare exceptions for bad tags (e.g. '{{=x}}')
        raise InvalidRequestError(f"template does not parse: {error}", path=path) from None
    required: set[str] = set()
    names: set[str] = set()
    partials: set[str] = set()
    _walk(parsed, top=True, required=required, names=names, partials=partials)
    return Compiled(text, parsed, frozenset(required), frozenset(names), frozenset(partials))


def _walk(parsed: Any, *, top: bool, required: set[str], names: set[str], partials: set[str]) -> None:
    """Collect tag names from pystache's parse tree (node classes are private: read by duck typing)."""
    for node in getattr(parsed, "_parse_tree", ()):
        kind = type(node).__name__
        key = getattr(node, "key", None)
        if not isinstance(key, str) or key == ".":
            continue
        if kind == "_PartialNode":
            partials.add(key)
            continue
        first = key.split(".", 1)[0]
        names.add(first)
        if kind in ("_EscapeNode", "_LiteralNode") and top:
            required.add(first)
        inner = getattr(node, "parsed", None) or getattr(node, "parsed_section", None)
        if inner is not None:
            _walk(inner, top=False, required=required, names=names, partials=partials)


def variable_names(
    compiled: Iterable[Compiled], resolve: PartialResolver
) -> tuple[frozenset[str], frozenset[str]]:
    """Required and known names of templates plus the partials they include (to a bounded depth)."""
    required: set[str] = set()
    names: set[str] = set()
    seen: set[str] = set()
    frontier = list(compiled)
    for _ in range(MAX_PARTIAL_DEPTH):
        if not frontier:
            break
        following: list[Compiled] = []
        for template in frontier:
            required |= template.required
            names |= template.names
            for ref in template.partials - seen:
                seen.add(ref)
                following.append(resolve(ref))
        frontier = following
    return frozenset(required), frozenset(names)


def check_variables(
    templates: Iterable[Compiled], variables: Mapping[str, Any], resolve: PartialResolver, missing: Missing
) -> None:
    """Raise for a needed variable not given (``missing="error"``); warn for a given one never used."""
    check_given(*variable_names(templates, resolve), variables, missing)


def check_given(
    required: frozenset[str], names: frozenset[str], variables: Mapping[str, Any], missing: Missing
) -> None:
    """:func:`check_variables` with the names already collected (a snapshot caches them)."""
    if missing == "error":
        absent = sorted(required - variables.keys())
        if absent:
            raise InvalidRequestError(
                f"missing prompt variable(s): {', '.join(absent)}", path=f"variables.{absent[0]}"
            )
    unused = sorted(set(variables) - names)
    if unused:
        warnings.warn(
            f"prompt variable(s) not used by the template: {', '.join(unused)}", UserWarning, stacklevel=3
        )


class _Partials:
    """pystache's partial loader: ``get(name)`` returns the partial's template text."""

    __slots__ = ("_resolve",)

    def __init__(self, resolve: PartialResolver) -> None:
        self._resolve = resolve

    def get(self, name: str) -> str:
        return self._resolve(name).source


def make_renderer(resolve: PartialResolver) -> Any:
    """A pystache renderer: no HTML escaping, missing tags empty (presence is checked beforehand)."""
    from pystache.renderer import Renderer

    return Renderer(escape=lambda text: text, missing_tags="ignore", partials=_Partials(resolve))


def render_text(renderer: Any, compiled: Compiled, variables: Mapping[str, Any]) -> str:
    """Fill ``compiled`` with ``variables`` (checked by :func:`check_variables` first)."""
    return str(renderer.render(compiled.parsed, dict(variables)))
