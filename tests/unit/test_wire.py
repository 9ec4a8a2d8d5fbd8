"""``decode_json``: the one way bytes from outside become JSON, failing only with ``ValueError``."""

from __future__ import annotations

import json

import pytest

from strands_portkey.wire import MAX_JSON_DEPTH, JSONTooDeepError, decode_json


def nested(depth: int, *, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


def test_ordinary_json_decodes_as_json_loads_does() -> None:
    text = '{"choices": [{"delta": {"content": "hi"}}], "usage": null, "n": 1.5}'
    assert decode_json(text) == json.loads(text)
    assert decode_json(text.encode()) == json.loads(text)


@pytest.mark.parametrize("data", [b"[" * 100_000, "[" * 100_000, b'{"a":' * 100_000])
def test_nesting_past_the_interpreter_limit_is_a_value_error(data: bytes | str) -> None:
    with pytest.raises(JSONTooDeepError, match=f"nested deeper than {MAX_JSON_DEPTH} levels"):
        decode_json(data)


def test_complete_json_just_under_the_interpreter_limit_is_refused_too() -> None:
    """It parses, but walking it later (``json.dumps`` from a deeper frame) would recurse out."""
    text = nested(900)
    json.loads(text)  # the standard decoder accepts it
    with pytest.raises(JSONTooDeepError):
        decode_json(text)


def test_the_depth_limit_is_exact() -> None:
    assert decode_json(nested(MAX_JSON_DEPTH)) is not None
    with pytest.raises(JSONTooDeepError):
        decode_json(nested(MAX_JSON_DEPTH + 1))  # the shortest text that deep
    with pytest.raises(JSONTooDeepError):
        decode_json(nested(MAX_JSON_DEPTH + 1, opener='{"k":[', closer="]}"))


def test_many_brackets_side_by_side_are_not_depth() -> None:
    wide = json.dumps({"items": [[{"a": [1]}] for _ in range(2 * MAX_JSON_DEPTH)]})
    assert len(decode_json(wide)["items"]) == 2 * MAX_JSON_DEPTH


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"text": "[" * 10_000})
    assert decode_json(text) == {"text": "[" * 10_000}


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b'{"a": "\xff\xfe"}', "can't decode"),  # not UTF-8
        (b"\x80", "can't decode"),
        ("1" * 5000, "integer string conversion"),  # past Python's digit limit
        ("", "Expecting value"),
        ("[1,", "Expecting value"),
    ],
)
def test_every_other_failure_is_a_value_error(data: bytes | str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        decode_json(data)
