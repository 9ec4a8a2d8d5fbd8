"""Canonical embeddings: :class:`EmbeddingRequest` in, :class:`EmbeddingResponse` out (OpenAI's shape).

``Gateway.embed`` routes these through the same config machinery as chat (fallback, load
balancing, conditional routing, retries, timeouts, vault keys, ``RouteInfo``); adapters that
offer embeddings translate them (:class:`~strands_portkey.providers.base.EmbeddingAdapter`).

A request is OpenAI's ``POST /embeddings`` body: ``model``, ``input`` (a string, a list of
strings, a list of token ids or a list of token-id lists), ``encoding_format`` (``float`` or
``base64``), ``dimensions``, ``user``; other fields are kept in ``params`` and sent to
OpenAI-format hosts unchanged. Upstreams are always asked for floats; ``base64`` is produced
here, in :meth:`EmbeddingResponse.to_dict` (little-endian float32, as OpenAI encodes it), so
every provider can answer either way.
"""

from __future__ import annotations

import base64
import sys
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from .errors import InvalidRequestError
from .route_info import RouteInfo
from .types import Usage

__all__ = [
    "EMBEDDINGS_UNSUPPORTED",
    "EmbeddingInput",
    "EmbeddingRequest",
    "EmbeddingResponse",
    "embeddings_unsupported",
]

EmbeddingInput = str | list[str] | list[int] | list[list[int]]
EncodingFormat = Literal["float", "base64"]

EMBEDDINGS_UNSUPPORTED = "embeddings_unsupported"
"""The ``code`` of the error a target without embeddings raises; fallback moves past it."""

_FIRST_CLASS = frozenset({"model", "input"})
_OVERRIDABLE = frozenset({"model", "dimensions", "encoding_format", "user"})


def embeddings_unsupported(provider: str) -> InvalidRequestError:
    """The error of a target whose provider offers no embeddings (a fallback tries the next one)."""
    error = InvalidRequestError(
        f"provider {provider!r} does not offer embeddings through this gateway; route embeddings "
        "to an OpenAI-compatible, Azure OpenAI, Gemini or Bedrock target",
        path="model",
    )
    error.code = EMBEDDINGS_UNSUPPORTED
    return error


def _fail(message: str, path: str) -> InvalidRequestError:
    return InvalidRequestError(message, path=path)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_input(value: object, path: str) -> EmbeddingInput:
    if isinstance(value, str):
        if not value:
            raise _fail("expected a non-empty string", path)
        return value
    if not isinstance(value, list) or not value:
        raise _fail(
            f"expected a string, or a non-empty list of strings or token ids, got {type(value).__name__}",
            path,
        )
    first = value[0]
    for index, item in enumerate(value):
        where = f"{path}[{index}]"
        if isinstance(first, str):
            if not isinstance(item, str) or not item:
                raise _fail("expected a non-empty string (every item of a list of strings)", where)
        elif _is_int(first):
            if not _is_int(item) or item < 0:
                raise _fail("expected a token id, an integer >= 0", where)
        elif isinstance(item, list) and item and all(_is_int(token) and token >= 0 for token in item):
            continue
        else:
            raise _fail("expected a string, a token id or a non-empty list of token ids", where)
    return value


def _check_fields(body: Mapping[str, Any], path: str) -> None:
    fmt = body.get("encoding_format")
    if fmt is not None and fmt not in ("float", "base64"):
        raise _fail(f"expected 'float' or 'base64', got {fmt!r}", f"{path}.encoding_format")
    dims = body.get("dimensions")
    if dims is not None and (not _is_int(dims) or dims < 1):
        raise _fail(f"expected a positive integer, got {dims!r}", f"{path}.dimensions")
    user = body.get("user")
    if user is not None and not isinstance(user, str):
        raise _fail(f"expected a string, got {type(user).__name__}", f"{path}.user")
    model = body.get("model", "")
    if not isinstance(model, str) or not model:
        raise _fail(f"expected a non-empty string, got {model!r}", f"{path}.model")


@dataclass(frozen=True, slots=True)
class EmbeddingRequest:
    """An embeddings request, validated once at the gateway's edge (errors name the field)."""

    model: str
    input: EmbeddingInput
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_body(cls, body: object, path: str = "request") -> EmbeddingRequest:
        """A request from an OpenAI ``/embeddings`` body."""
        if not isinstance(body, Mapping):
            raise _fail(
                f"an embeddings request must be a mapping like {{'model': ..., 'input': ...}}, "
                f"got {type(body).__name__}",
                path,
            )
        if "model" not in body:
            raise _fail("required", f"{path}.model")
        if "input" not in body:
            raise _fail("required", f"{path}.input")
        _check_fields(body, path)
        params = {key: value for key, value in body.items() if key not in _FIRST_CLASS}
        return cls(body["model"], _check_input(body["input"], f"{path}.input"), params)

    @property
    def inputs(self) -> list[str] | list[list[int]]:
        """The input as a list: one string or one token list per embedding wanted."""
        value = self.input
        if isinstance(value, str):
            return [value]
        if value and _is_int(value[0]):
            return [cast("list[int]", value)]  # one list of token ids: one input
        return cast("list[str] | list[list[int]]", value)

    @property
    def texts(self) -> list[str] | None:
        """The inputs when they are all text (native providers take nothing else), else None."""
        inputs = self.inputs
        return inputs if all(isinstance(item, str) for item in inputs) else None  # type: ignore[return-value]

    @property
    def stream(self) -> bool:
        """Never streamed (adapters building headers ask)."""
        return False

    @property
    def dimensions(self) -> int | None:
        """The output size asked for, if any."""
        value = self.params.get("dimensions")
        return value if isinstance(value, int) else None

    @property
    def encoding_format(self) -> EncodingFormat:
        """``float`` (default) or ``base64``: how :meth:`EmbeddingResponse.to_dict` encodes vectors."""
        return "base64" if self.params.get("encoding_format") == "base64" else "float"

    def to_body(self) -> dict[str, Any]:
        """The OpenAI-shaped JSON body (conditional routing reads it as ``params``)."""
        return {"model": self.model, "input": self.input, **self.params}

    def with_overrides(self, overrides: Mapping[str, Any]) -> EmbeddingRequest:
        """Apply a target's ``override_params`` that mean something here (``model``, ``dimensions``...).

        Chat parameters a config sets for its targets (``temperature``, ``max_tokens``) are not
        applied: an embeddings endpoint would refuse them.
        """
        relevant = {key: value for key, value in overrides.items() if key in _OVERRIDABLE}
        if not relevant:
            return self
        _check_fields({"model": self.model, **relevant}, "override_params")
        params = {**self.params, **{k: v for k, v in relevant.items() if k != "model"}}
        return EmbeddingRequest(relevant.get("model", self.model), self.input, params)


def _base64(vector: Sequence[float]) -> str:
    packed = array("f", vector)
    if sys.byteorder == "big":  # pragma: no cover - OpenAI's encoding is little-endian
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


@dataclass(slots=True)
class EmbeddingResponse:
    """Embeddings, one per input in order, with usage and (set by the gateway) the route."""

    model: str
    embeddings: list[list[float]]
    usage: Usage = field(default_factory=Usage)
    route: RouteInfo | None = None
    encoding_format: EncodingFormat = "float"

    def to_dict(self) -> dict[str, Any]:
        """OpenAI's ``list`` of ``embedding`` objects (vectors as floats, or base64 when asked)."""
        encode = _base64 if self.encoding_format == "base64" else list
        return {
            "object": "list",
            "data": [
                {"object": "embedding", "index": index, "embedding": encode(vector)}
                for index, vector in enumerate(self.embeddings)
            ],
            "model": self.model,
            "usage": {"prompt_tokens": self.usage.prompt_tokens, "total_tokens": self.usage.total_tokens},
        }
