"""Mustache rendering of prompt templates: no HTML escaping, missing variables are errors naming
them (or empty on request), unknown ones warn, parse errors say where, partials resolve by reference.
"""

from __future__ import annotations

import warnings

import pytest

from strands_portkey.errors import InvalidRequestError, ResourceNotFoundError
from strands_portkey.prompts.render import (
    MAX_TEMPLATE_CHARS,
    Compiled,
    check_variables,
    compile_template,
    make_renderer,
    render_text,
)
from strands_portkey.prompts.template import compile_messages, render_messages, templates_of

PARTIALS = {"sig": "-- {{team}}", "sig@2": "Regards, {{team}}", "outer": "[{{>sig}}]"}


def resolve(ref: str) -> Compiled:
    if ref not in PARTIALS:
        raise ResourceNotFoundError(f"no prompt {ref!r}")
    return compile_template(PARTIALS[ref], "template")


def render(text: str, variables: dict[str, object], missing: str = "error") -> str:
    compiled = compile_template(text, "messages[0].content")
    check_variables([compiled], variables, resolve, missing)  # type: ignore[arg-type]
    return render_text(make_renderer(resolve), compiled, variables)


def test_variables_sections_inverted_comments_without_html_escaping() -> None:
    text = "Hi {{name}}{{! a comment }}. {{#items}}<{{.}}>{{/items}}{{^vip}} (standard){{/vip}} {{&raw}}"
    out = render(text, {"name": "<Ann & Co>", "items": ["a", "b"], "vip": False, "raw": '"q"'})
    assert out == 'Hi <Ann & Co>. <a><b> (standard) "q"'


def test_partials_by_name_and_by_version_nest() -> None:
    assert render("{{>sig}} / {{>sig@2}} / {{>outer}}", {"team": "Ops"}) == "-- Ops / Regards, Ops / [-- Ops]"


def test_a_missing_variable_is_an_error_naming_it_even_inside_a_partial() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        render("Hi {{name}} {{>sig}}", {})
    assert "name" in str(caught.value)
    assert "team" in str(caught.value)
    assert caught.value.path == "variables.name"


def test_missing_can_be_configured_to_empty() -> None:
    assert render("Hi {{name}}!", {}, missing="empty") == "Hi !"


def test_a_section_key_is_optional_as_the_spec_says() -> None:
    assert render("a{{#extra}} {{extra}}{{/extra}}b", {}) == "ab"


def test_unknown_variables_warn() -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        render("Hi {{name}}", {"name": "x", "nmae": "typo"})
    assert any("nmae" in str(w.message) for w in seen)


@pytest.mark.parametrize(
    ("text", "where"),
    [("line one\nHi {{#open}} there", "line 2, column 13"), ("{{#a}}x{{/b}}", "line 1, column 14")],
)
def test_a_template_that_does_not_parse_says_where(text: str, where: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        compile_template(text, "messages[1].content")
    assert where in str(caught.value)
    assert caught.value.path == "messages[1].content"


def test_an_unknown_partial_is_an_error() -> None:
    with pytest.raises(ResourceNotFoundError, match="nope"):
        render("{{>nope}}", {})


def test_an_oversized_template_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        compile_messages([{"role": "user", "content": "x" * (MAX_TEMPLATE_CHARS + 1)}])
    assert caught.value.path == "messages[0].content"


def test_messages_with_content_parts_render_text_and_image_urls() -> None:
    messages = compile_messages(
        [
            {"role": "system", "content": "You help {{company}}."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Look at {{what}}"},
                    {"type": "image_url", "image_url": {"url": "https://img/{{id}}.png", "detail": "low"}},
                ],
            },
        ]
    )
    variables = {"company": "Acme", "what": "this", "id": 7}
    check_variables(templates_of(messages), variables, resolve, "error")
    assert render_messages(make_renderer(resolve), messages, variables) == [
        {"role": "system", "content": "You help Acme."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Look at this"},
                {"type": "image_url", "image_url": {"url": "https://img/7.png", "detail": "low"}},
            ],
        },
    ]


@pytest.mark.parametrize(
    ("messages", "path"),
    [
        ([], "messages"),
        ([{"role": "robot", "content": "x"}], "messages[0].role"),
        ([{"role": "user", "content": 3}], "messages[0].content"),
        ([{"role": "user", "content": [{"text": "x"}]}], "messages[0].content[0]"),
    ],
)
def test_bad_messages_name_the_field(messages: object, path: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        compile_messages(messages)
    assert caught.value.path == path


def test_values_that_are_not_strings_render_as_pystache_renders_them() -> None:
    # A plain name is filled straight from the variables only when its value is a string; any
    # other value goes through pystache's own rendering (numbers, booleans, callables, lists).
    variables = {"n": 7, "f": 1.5, "yes": True, "call": lambda: "{{team}}!", "team": "Ops"}
    compiled = compile_template("{{n}} {{f}} {{yes}} {{call}} {{{n}}} {{&f}}", "template")
    assert render_text(make_renderer(resolve), compiled, variables) == "7 1.5 True Ops! 7 1.5"
    assert render("{{#items}}<{{.}}>{{/items}}", {"items": [1, 2]}) == "<1><2>"


def test_dotted_names_sections_and_partials_see_the_same_variables() -> None:
    variables = {"user": {"name": "Ann"}, "team": "Ops", "vip": True}
    text = "{{user.name}}{{#vip}} [{{team}}]{{/vip}}{{^vip}}no{{/vip}} {{>outer}}"
    assert render(text, variables) == "Ann [Ops] [-- Ops]"
    from types import MappingProxyType

    assert render(text, MappingProxyType(variables)) == "Ann [Ops] [-- Ops]"  # type: ignore[arg-type]


def test_an_indented_standalone_partial_is_indented_on_every_render() -> None:
    line = compile_template("-- {{team}}\n", "template")
    compiled = compile_template("Notes:\n  {{>line}}\n  {{>line}}\n", "template")
    renderer = make_renderer(lambda ref: line)
    for _ in range(2):
        assert render_text(renderer, compiled, {"team": "Ops"}) == "Notes:\n  -- Ops\n  -- Ops\n"


def test_partials_that_include_each_other_without_end_are_an_error_not_a_crash() -> None:
    loops = {"loop": "x{{>loop}}", "deep": "{{#on}}{{>deep}}{{/on}}"}
    compiled = {name: compile_template(text, name) for name, text in loops.items()}
    renderer = make_renderer(compiled.__getitem__)
    with pytest.raises(InvalidRequestError, match="nest more than 10 deep"):
        render_text(renderer, compile_template("{{>loop}}", "template"), {})
    with pytest.raises(InvalidRequestError, match="without end"):
        render_text(renderer, compile_template("{{>deep}}", "template"), {"on": True})
