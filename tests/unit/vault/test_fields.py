from __future__ import annotations

import pytest

from strands_portkey.errors import InvalidRequestError
from strands_portkey.vault.fields import mask, parse_credential


def test_mask_shows_ends_only_and_at_most_16_stars() -> None:
    key = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"
    assert mask(key) == "sk-p" + "*" * 16 + "6789"
    assert mask("a" * 20) == "aaaa" + "*" * 12 + "aaaa"


@pytest.mark.parametrize("short", ["", "abc", "sk-1234567890123"])
def test_short_values_show_nothing(short: str) -> None:
    assert mask(short) == "***"


def test_api_key_top_level_or_value() -> None:
    assert parse_credential({"api_key": "sk-x"}).secrets == {"api_key": "sk-x"}
    assert parse_credential({"value": "sk-y", "credentialType": "api_key"}).secrets == {"api_key": "sk-y"}


def test_access_key_pair_keeps_id_in_clear_and_masks_secret() -> None:
    spec = parse_credential(
        {
            "credential_type": "access_key_pair",
            "value": {
                "access_key_id": "AKIAEXAMPLE",
                "secret_access_key": "s" * 40,
                "session_token": "t" * 30,
            },
        }
    )
    assert spec.identifiers == {"access_key_id": "AKIAEXAMPLE"}
    assert set(spec.secrets) == {"secret_access_key", "session_token"}
    assert spec.masked.startswith("AKIAEXAMPLE:ssss")
    assert "s" * 40 not in repr(spec)


def test_custom_encrypts_every_value() -> None:
    spec = parse_credential(
        {"credential_type": "custom", "value": {"token": "t" * 24, "tenant": "acme-tenant-0001-xyz"}}
    )
    assert spec.secrets == {"token": "t" * 24, "tenant": "acme-tenant-0001-xyz"}
    assert "t" * 24 not in spec.masked


@pytest.mark.parametrize(
    ("body", "path", "words"),
    [
        ({"credential_type": "oauth"}, "body.credential_type", "unknown credential type 'oauth'"),
        ({}, "body.api_key", "missing"),
        ({"api_key": ""}, "body.api_key", "missing"),
        ({"api_key": 42}, "body.api_key", "expected a string"),
        ({"api_key": " sk-x "}, "body.api_key", "whitespace"),
        (
            {"credential_type": "access_key_pair", "access_key_id": "AKIA"},
            "body.secret_access_key",
            "missing",
        ),
        ({"credential_type": "access_key_pair", "secret_access_key": "s"}, "body.access_key_id", "missing"),
        ({"credential_type": "custom"}, "body.value", "missing"),
        ({"credential_type": "custom", "value": {"token": ""}}, "body.value.token", "missing"),
    ],
)
def test_bad_credentials_name_the_field(body: dict[str, object], path: str, words: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_credential(body)
    assert caught.value.path == path
    assert words in caught.value.message
