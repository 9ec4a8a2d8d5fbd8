"""Prompt references: the one grammar for naming a prompt version or label."""

from __future__ import annotations

import pytest

from strands_portkey.errors import InvalidRequestError
from strands_portkey.prompts.refs import PromptRef, check_label, parse_ref


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("support-bot", PromptRef("support-bot", label="production")),
        ("pp-0123abcd", PromptRef("pp-0123abcd", label="production")),
        ("support-bot@12", PromptRef("support-bot", version=12)),
        ("support-bot@latest", PromptRef("support-bot", label="latest")),
        ("support-bot@staging", PromptRef("support-bot", label="staging")),
        ("team.bot-v2@canary-eu", PromptRef("team.bot-v2", label="canary-eu")),
    ],
)
def test_references_parse(text: str, expected: PromptRef) -> None:
    assert parse_ref(text) == expected
    assert str(parse_ref(str(expected))) == str(expected)


@pytest.mark.parametrize(
    "text", ["", "@3", "bot@0", "bot@", "bot@Staging", "bad name", "bot@1@2", "team/bot", None, 7]
)
def test_bad_references_name_the_field(text: object) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_ref(text, path="prompt_id")
    assert caught.value.path == "prompt_id"


def test_latest_is_not_a_movable_label() -> None:
    with pytest.raises(InvalidRequestError, match="latest"):
        check_label("latest")
