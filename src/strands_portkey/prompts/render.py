"""Mustache rendering of prompt templates: the only importer of the Mustache library (pystache).

Templates are parsed once (when a version is saved, and again when a snapshot loads it) into a
:class:`Compiled` template that knows the variables it needs. Rendering never HTML-escapes (a
prompt is not a web page). A variable the template needs at its top level (outside any section)
that the call does not give is an error naming it, unless ``missing="empty"``; a variable given
that no tag names warns. Sections and inverted sections treat a missing key as false, as the
Mustache spec says. Partials (``{{>name}}``, ``{{>name@3}}``) are other prompts, found through a
resolver the caller passes.

Speed: pystache parses, and renders sections, inverted sections, dotted names and indented
partials; the :class:`Renderer` fills the top level's plain names (string values) and unindented
partials itself from the parse kept on :class:`Compiled`, and keeps pystache's parses of partial
texts, so a render never parses (a 2 kB template with 60 tags: about 13 µs instead of 50).
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
    "Renderer",
    "check_given",
    "check_variables",
    "compile_template",
    "make_renderer",
    "render_text",
    "variable_names",
]

MAX_TEMPLATE_CHARS = 100_000  # per template (a message's content or a partial)
MAX_PARTIAL_DEPTH = 10
_MAX_PARSED = 1_000  # partial texts whose parse a renderer keeps (indented or in a section)

Missing = Literal["error", "empty"]


@dataclass(frozen=True, slots=True)
class Compiled:
    """A parsed template and the names in it: ``required`` (top level), ``names`` (any tag), partials."""

    source: str
    parsed: Any
    required: frozenset[str]
    names: frozenset[str]
    partials: frozenset[str]
    plan: tuple[Any, ...] = ()


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
    return Compiled(text, parsed, frozenset(required), frozenset(names), frozenset(partials), _plan(parsed))


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


class _Variable:
    """A plain top-level ``{{name}}`` or ``{{{name}}}``.

    Filled straight from the variables when the value is a string, else rendered by pystache's own
    node (numbers, lists, callables, absent names).
    """

    __slots__ = ("key", "node")

    def __init__(self, key: str, node: Any) -> None:
        self.key = key
        self.node = node


class _Include:
    """A top-level ``{{>name}}`` without indentation: the partial's own plan, already parsed."""

    __slots__ = ("ref",)

    def __init__(self, ref: str) -> None:
        self.ref = ref


def _plan(parsed: Any) -> tuple[Any, ...]:
    """The top level of a parse tree as steps for :class:`Renderer`.

    A step is text, a :class:`_Variable`, an :class:`_Include`, or a pystache node it renders
    itself (sections, inverted sections, dotted names, indented partials). Why: pystache spends
    about 0.6 µs per tag in its generic lookup (a context stack walk and five calls); most prompt
    tags are plain names whose value is a string, which need one dict lookup.
    """
    steps: list[Any] = []
    for node in getattr(parsed, "_parse_tree", ()):
        kind = type(node).__name__
        key = getattr(node, "key", None)
        if isinstance(node, str):
            step: Any = node
        elif kind in ("_CommentNode", "_ChangeNode"):
            continue  # both render as ''
        elif kind in ("_EscapeNode", "_LiteralNode") and isinstance(key, str) and "." not in key:
            step = _Variable(key, node)
        elif kind == "_PartialNode" and isinstance(key, str) and not getattr(node, "indent", ""):
            step = _Include(key)
        else:
            step = node
        if isinstance(step, str) and steps and isinstance(steps[-1], str):
            steps[-1] += step
        else:
            steps.append(step)
    return tuple(steps)


def _text(value: Any) -> str:
    """A tag's value as text, not escaped (a prompt is not a web page); bytes are UTF-8."""
    if isinstance(value, str):
        return str(value)
    return str(value, "utf-8")


class Renderer:
    """Fills :class:`Compiled` templates; one per snapshot (it holds no per-call state).

    Plain top-level names and unindented partials are filled here; every other construct goes
    to pystache's render engine, whose parses of partial texts are kept (bounded), so a render
    never parses again.
    """

    __slots__ = ("_engine", "_parsed", "_resolve")

    def __init__(self, resolve: PartialResolver) -> None:
        from pystache.context import KeyNotFoundError
        from pystache.parser import parse
        from pystache.renderengine import RenderEngine

        self._resolve = resolve
        self._parsed: dict[tuple[str, Any], Any] = {}
        parsed_cache = self._parsed

        def resolve_context(stack: Any, name: str) -> Any:
            try:
                return stack.get(name)
            except KeyNotFoundError:
                return ""  # presence was checked beforehand (missing="error"), or empty is wanted

        class _Engine(RenderEngine):  # type: ignore[misc]
            def render(self, template: str, context_stack: Any, delimiters: Any = None) -> Any:
                found = parsed_cache.get((template, delimiters))
                if found is None:
                    found = parse(template, delimiters)
                    if len(parsed_cache) < _MAX_PARSED:
                        parsed_cache[(template, delimiters)] = found
                return found.render(self, context_stack)

        self._engine = _Engine(
            literal=_text,
            escape=_text,
            resolve_context=resolve_context,
            resolve_partial=lambda name: resolve(name).source,
            to_str=str,
        )

    def render(self, compiled: Compiled, variables: Mapping[str, Any]) -> str:
        """``compiled`` filled with ``variables`` (a partial nested too deep is an error)."""
        from pystache.context import ContextStack

        values = variables if type(variables) is dict else dict(variables)
        try:
            return self._fill(compiled.plan, values, ContextStack(values), 0)
        except RecursionError:
            raise InvalidRequestError("partials include each other without end", path="template") from None

    def _fill(self, plan: tuple[Any, ...], values: dict[str, Any], stack: Any, depth: int) -> str:
        engine = self._engine
        parts: list[str] = []
        append = parts.append
        for step in plan:
            kind = step.__class__
            if kind is str:
                append(step)
            elif kind is _Variable:
                value = values.get(step.key)
                append(value if value.__class__ is str else step.node.render(engine, stack))
            elif kind is _Include:
                if depth >= MAX_PARTIAL_DEPTH:
                    raise InvalidRequestError(
                        f"partials nest more than {MAX_PARTIAL_DEPTH} deep", path=f"{{{{>{step.ref}}}}}"
                    )
                append(self._fill(self._resolve(step.ref).plan, values, stack, depth + 1))
            else:
                append(step.render(engine, stack))
        return "".join(parts)


def make_renderer(resolve: PartialResolver) -> Renderer:
    """A renderer: no HTML escaping, missing tags empty (presence is checked beforehand)."""
    return Renderer(resolve)


def render_text(renderer: Renderer, compiled: Compiled, variables: Mapping[str, Any]) -> str:
    """Fill ``compiled`` with ``variables`` (checked by :func:`check_variables` first)."""
    return renderer.render(compiled, variables)
