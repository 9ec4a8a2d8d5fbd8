"""Key validation never lets part of a key through: the error body is masked before it is cut."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from strands_portkey.controlplane import ControlPlane, ProviderKeys
from strands_portkey.controlplane.validation import secret_forms
from strands_portkey.errors import CredentialRejectedError
from strands_portkey.store.tables import CredentialRow

from .conftest import MASTER

# 37 characters, with characters that URL-encoding and JSON-escaping change ('/', '+', '=', '"')
KEY = 'sk-live/AbCdEfGh+IjKlMnOp=QrStUvWx"yz0'
RUN = 6
_SNIPPET = 160  # validation keeps this many characters of an error body


def _runs(secret: str) -> set[str]:
    return {secret[i : i + RUN] for i in range(len(secret) - RUN + 1)}


_FORMS = [KEY, urllib.parse.quote(KEY, safe=""), json.dumps(KEY)[1:-1]]
_ALL_RUNS = set().union(*(_runs(form) for form in _FORMS))


def _leaks(text: str) -> list[str]:
    """The runs of >= 6 characters of the key (in any of its echoed forms) found in ``text``."""
    return sorted(run for run in _ALL_RUNS if run in text)


class Echo:
    """A provider refusing every key with a body that echoes it at ``offset``, encoded by ``encode``."""

    def __init__(self) -> None:
        self.offset = 0
        self.encode: Callable[[str], str] = lambda key: key

    def handler(self, request: httpx.Request) -> httpx.Response:
        key = request.headers["authorization"].removeprefix("Bearer ")
        body = "x" * self.offset + f"[{self.encode(key)}]" + " and then more text" * 10
        return httpx.Response(401, text=body)


@pytest.fixture
def echo() -> Echo:
    return Echo()


@pytest.fixture
def echo_plane(tmp_path: Path, echo: Echo) -> Iterator[ControlPlane]:
    cp = ControlPlane(
        f"sqlite:///{tmp_path / 'cp.db'}",
        env={"STRANDS_PORTKEY_HOME": str(tmp_path)},
        master_key=MASTER,
        transport=httpx.MockTransport(echo.handler),
        refresh_interval=None,
    )
    yield cp
    cp.close()


def test_secret_forms_cover_the_encodings_a_provider_may_echo() -> None:
    forms = secret_forms([KEY, ""])
    assert KEY in forms
    assert urllib.parse.quote(KEY, safe="") in forms
    assert urllib.parse.quote_plus(KEY, safe="") in forms
    assert json.dumps(KEY)[1:-1] in forms
    assert forms == sorted(forms, key=len, reverse=True)  # longest first: no form is split by another


@pytest.mark.parametrize(
    "encode",
    [
        lambda key: key,
        lambda key: urllib.parse.quote(key, safe=""),
        lambda key: urllib.parse.quote_plus(key, safe=""),
        lambda key: json.dumps(key)[1:-1],
    ],
    ids=["raw", "url", "url-plus", "json"],
)
def test_an_echoed_key_is_masked_at_every_offset_of_the_error_body(
    echo_plane: ControlPlane, echo: Echo, encode: Callable[[str], str]
) -> None:
    keys = ProviderKeys(echo_plane)
    keys.create({"name": "stored", "provider": "openai", "api_key": KEY}, validate=False)
    echo.encode = encode
    longest = max(len(form) for form in _FORMS) + 2
    # raw: every offset; encoded forms: every offset where the form can meet the cut (the slow part)
    first = 0 if encode(KEY) == KEY else _SNIPPET - longest
    for offset in range(first, _SNIPPET + 10):
        echo.offset = offset
        with pytest.raises(CredentialRejectedError) as caught:
            keys.create({"name": f"new-{offset}", "provider": "openai", "api_key": KEY})
        error = caught.value
        assert "refused the key (HTTP 401)" in error.message
        assert _leaks(str(error)) == [], offset
        assert _leaks(repr(error)) == [], offset
        result = keys.test("stored")
        assert result.success is False
        assert _leaks(result.message) == [], offset
        assert _leaks(repr(result)) == [], offset
        assert _leaks(str(keys.retrieve("stored").to_dict())) == [], offset
        with echo_plane.store.reading() as session:
            row = session.scalars(select(CredentialRow).where(CredentialRow.name == "stored")).one()
            stored = f"{row.test_message} {row.error}"
        assert _leaks(stored) == [], offset
    # the masked message still says where the key was: the cut came after the mask
    echo.encode, echo.offset = (lambda key: key), 100
    assert "[REDACTED]" in keys.test("stored").message


async def test_a_listing_nested_too_deep_accepts_the_key_with_no_models_listed() -> None:
    from strands_portkey.controlplane.validation import list_models
    from strands_portkey.vault.fields import CredentialSecret
    from strands_portkey.wire import Secret

    def deep(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b'{"data": ' + b"[" * 100_000)

    listing = await list_models(
        "openai",
        "http://upstream.test/v1",
        CredentialSecret("api_key", {"api_key": Secret(KEY)}),
        transport=httpx.MockTransport(deep),
    )
    assert listing.outcome.success, listing.outcome.message
    assert "0 models listed" in listing.outcome.message
    assert listing.model_ids == frozenset()
