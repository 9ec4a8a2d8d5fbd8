import json

import pytest

from strands_portkey import _json


def test_dumps_is_compact_utf8_like_the_requests_were_always_sent() -> None:
    value = {
        "model": "m",
        "messages": [{"role": "user", "content": "héllo ✓"}],
        "n": 1.5,
        "t": True,
        "x": None,
    }
    assert _json.dumps(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def test_values_orjson_refuses_fall_back_to_the_stdlib_form() -> None:
    assert _json.dumps({"big": 2**70}) == b'{"big":1180591620717411303424}'
    assert _json.dumps({1: "a"}) == b'{"1":"a"}'


def test_loads_reads_bytes_and_str() -> None:
    assert _json.loads(b'{"a": [1, 2]}') == {"a": [1, 2]}
    assert _json.loads('"x"') == "x"


@pytest.mark.parametrize("bad", [b"{", b"\xff\xfe{}", b"", b"[1,]", b"[" * 100_000])
def test_anything_that_is_not_one_document_is_a_value_error(bad: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the contract is exactly ValueError
        _json.loads(bad)


def test_the_stdlib_fallback_turns_deep_nesting_into_a_value_error() -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        _json._checked_stdlib_loads(b"[" * 100_000 + b"]" * 100_000)
