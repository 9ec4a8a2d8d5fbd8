"""Reading a request's JSON body from its ASGI messages: joined parts, the size limit, a disconnect."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from starlette.requests import ClientDisconnect, Request

from strands_portkey.server.errors import ServerInputError
from strands_portkey.server.state import read_json_body


def _request(messages: Iterable[dict[str, Any]], headers: list[tuple[bytes, bytes]] | None = None) -> Request:
    pending = list(messages)

    async def receive() -> dict[str, Any]:
        return pending.pop(0)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers or []}
    return Request(scope, receive)


def _parts(*chunks: bytes) -> list[dict[str, Any]]:
    last = len(chunks) - 1
    return [
        {"type": "http.request", "body": chunk, "more_body": index < last}
        for index, chunk in enumerate(chunks)
    ]


async def test_a_body_in_several_messages_is_joined_and_sized() -> None:
    body, size = await read_json_body(_request(_parts(b'{"model": ', b"", b'"m"}')), 100)
    assert (body, size) == ({"model": "m"}, 14)


async def test_a_one_message_body_is_read() -> None:
    assert await read_json_body(_request(_parts(b'{"a": 1}')), 100) == ({"a": 1}, 8)


async def test_a_body_past_the_limit_is_a_413_even_without_a_content_length() -> None:
    with pytest.raises(ServerInputError) as caught:
        await read_json_body(_request(_parts(b'{"a": "', b"x" * 20, b'"}')), 16)
    assert (caught.value.status_code, caught.value.path) == (413, "body")


async def test_a_declared_length_past_the_limit_is_refused_before_reading() -> None:
    request = _request([], [(b"content-length", b"999")])  # no message: reading would fail
    with pytest.raises(ServerInputError) as caught:
        await read_json_body(request, 16)
    assert caught.value.status_code == 413


async def test_a_client_that_goes_away_mid_body_is_a_disconnect() -> None:
    messages = [*_parts(b'{"a":', b"1}")[:1], {"type": "http.disconnect"}]
    with pytest.raises(ClientDisconnect):
        await read_json_body(_request(messages), 100)
