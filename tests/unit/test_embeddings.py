"""EmbeddingRequest validation and overrides; EmbeddingResponse in OpenAI's shape (floats, base64)."""

import base64
import struct

import pytest

from strands_portkey.embeddings import (
    EMBEDDINGS_UNSUPPORTED,
    EmbeddingRequest,
    EmbeddingResponse,
    embeddings_unsupported,
)
from strands_portkey.errors import InvalidRequestError
from strands_portkey.types import Usage


@pytest.mark.parametrize(
    ("value", "inputs"),
    [
        ("one", ["one"]),
        (["a", "b"], ["a", "b"]),
        ([1, 2, 3], [[1, 2, 3]]),
        ([[1, 2], [3]], [[1, 2], [3]]),
    ],
)
def test_every_input_shape(value, inputs) -> None:
    request = EmbeddingRequest.from_body({"model": "text-embedding-3-small", "input": value})
    assert request.inputs == inputs
    assert request.texts == (inputs if isinstance(inputs[0], str) else None)


def test_fields_and_params() -> None:
    request = EmbeddingRequest.from_body(
        {"model": "m", "input": "x", "encoding_format": "base64", "dimensions": 8, "user": "u", "extra": 1}
    )
    assert (request.encoding_format, request.dimensions, request.stream) == ("base64", 8, False)
    assert request.to_body() == {
        "model": "m",
        "input": "x",
        "encoding_format": "base64",
        "dimensions": 8,
        "user": "u",
        "extra": 1,
    }
    assert EmbeddingRequest.from_body({"model": "m", "input": "x"}).encoding_format == "float"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"input": "x"}, "request.model"),
        ({"model": "m"}, "request.input"),
        ({"model": "", "input": "x"}, "request.model"),
        ({"model": "m", "input": ""}, "request.input"),
        ({"model": "m", "input": []}, "request.input"),
        ({"model": "m", "input": {"text": "x"}}, "request.input"),
        ({"model": "m", "input": ["a", 1]}, "request.input[1]"),
        ({"model": "m", "input": ["a", ""]}, "request.input[1]"),
        ({"model": "m", "input": [1, -2]}, "request.input[1]"),
        ({"model": "m", "input": [1, True]}, "request.input[1]"),
        ({"model": "m", "input": [[1], []]}, "request.input[1]"),
        ({"model": "m", "input": "x", "encoding_format": "int8"}, "request.encoding_format"),
        ({"model": "m", "input": "x", "dimensions": 0}, "request.dimensions"),
        ({"model": "m", "input": "x", "dimensions": "8"}, "request.dimensions"),
        ({"model": "m", "input": "x", "user": 3}, "request.user"),
    ],
)
def test_bad_requests_name_the_field(body, path) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        EmbeddingRequest.from_body(body)
    assert raised.value.path == path


def test_a_body_that_is_not_a_mapping() -> None:
    with pytest.raises(InvalidRequestError, match="must be a mapping"):
        EmbeddingRequest.from_body(["x"])


def test_overrides_apply_embedding_fields_only() -> None:
    request = EmbeddingRequest.from_body({"model": "m", "input": "x"})
    assert request.with_overrides({"temperature": 0.2, "max_tokens": 5}) is request
    changed = request.with_overrides({"model": "other", "dimensions": 4, "temperature": 0.2})
    assert changed.to_body() == {"model": "other", "input": "x", "dimensions": 4}
    with pytest.raises(InvalidRequestError, match=r"override_params\.dimensions"):
        request.with_overrides({"dimensions": -1})


def test_response_as_openai_floats_and_base64() -> None:
    response = EmbeddingResponse("m", [[0.5, -1.0], [0.25, 2.0]], Usage(prompt_tokens=4, total_tokens=4))
    assert response.to_dict() == {
        "object": "list",
        "data": [
            {"object": "embedding", "index": 0, "embedding": [0.5, -1.0]},
            {"object": "embedding", "index": 1, "embedding": [0.25, 2.0]},
        ],
        "model": "m",
        "usage": {"prompt_tokens": 4, "total_tokens": 4},
    }
    response.encoding_format = "base64"
    encoded = response.to_dict()["data"][1]["embedding"]
    assert struct.unpack("<2f", base64.b64decode(encoded)) == (0.25, 2.0)


def test_unsupported_error_carries_its_code() -> None:
    error = embeddings_unsupported("anthropic")
    assert isinstance(error, InvalidRequestError)
    assert error.code == EMBEDDINGS_UNSUPPORTED
    assert "'anthropic' does not offer embeddings" in str(error)
