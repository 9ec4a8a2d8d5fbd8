"""Fuzz of request bodies: whatever a caller sends, only ``InvalidRequestError`` (naming a field under
``request``) comes out of reading it, and a body that passes reaches every provider's adapter in a
shape it can translate (or refuse, as ``InvalidRequestError``, for what that provider cannot take).

Deterministic (``derandomize``) and bounded, so the unit suite stays fast and reproducible. The
config half of the fuzz is in ``tests/unit/config/test_schema.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strands_portkey.errors import InvalidRequestError
from strands_portkey.nesting import MAX_JSON_DEPTH
from strands_portkey.providers import get_adapter
from strands_portkey.providers.base import Target
from strands_portkey.types import ChatRequest
from strands_portkey.wire import Secret

_T = TypeVar("_T")
FUZZ = settings(
    max_examples=250, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=12,
)


def _nest(value: object, levels: int) -> object:
    for _ in range(levels):
        value = {"a": value}
    return value


deep_values = st.builds(_nest, scalars, st.integers(MAX_JSON_DEPTH - 3, MAX_JSON_DEPTH + 40))
not_json = st.sampled_from([{1, 2}, Decimal("0.1"), object(), {("k",): 1}, b"bytes"])
maybe = st.one_of(json_values, deep_values, st.lists(not_json, min_size=1, max_size=1), not_json)


def _mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``valid`` seven times in eight, otherwise anything (a wrong type, a deep tree)."""
    return st.integers(0, 7).flatmap(lambda draw: maybe if draw == 0 else valid)


text_part = st.fixed_dictionaries({"type": st.just("text"), "text": _mostly(st.text(max_size=5))})
parts = _mostly(
    st.one_of(
        text_part,
        st.fixed_dictionaries(
            {"type": st.just("text"), "text": st.just("x"), "cache_control": st.just({"type": "ephemeral"})}
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("image_url"),
                "image_url": _mostly(
                    st.fixed_dictionaries(
                        {
                            "url": st.sampled_from(
                                ["http://x/a.png", "data:image/png;base64,AAAA", "data:,x", ""]
                            )
                        }
                    )
                ),
            }
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("file"),
                "file": _mostly(
                    st.fixed_dictionaries(
                        {
                            "file_data": st.sampled_from(
                                ["data:application/pdf;base64,AAAA", "data:text/plain;base64,aGk=", "x"]
                            )
                        }
                    )
                ),
            }
        ),
        st.fixed_dictionaries(
            {"type": st.sampled_from(["input_audio", "refusal", ""])}, optional={"extra": maybe}
        ),
    )
)
contents = _mostly(st.text(max_size=8) | st.lists(parts, max_size=3))
function = st.fixed_dictionaries(
    {"name": _mostly(st.sampled_from(["f", "g", ""]))},
    optional={"arguments": _mostly(st.sampled_from(['{"x": 1}', "", "[1]", "not json"]))},
)
tool_calls = st.lists(
    _mostly(
        st.fixed_dictionaries(
            {"function": _mostly(function)},
            optional={"id": _mostly(st.sampled_from(["c1", "c2"])), "type": st.just("function")},
        )
    ),
    max_size=2,
)
roles = _mostly(st.sampled_from(["system", "developer", "user", "assistant", "tool", "robot"]))
messages = st.lists(
    _mostly(
        st.one_of(
            st.fixed_dictionaries(
                {"role": st.sampled_from(["user", "system", "developer"]), "content": contents}
            ),
            st.fixed_dictionaries(
                {"role": st.just("assistant")},
                optional={
                    "content": contents | st.none(),
                    "tool_calls": _mostly(tool_calls),
                    "reasoning_content": maybe,
                },
            ),
            st.fixed_dictionaries(
                {
                    "role": st.just("tool"),
                    "tool_call_id": _mostly(st.sampled_from(["c1", "c2"])),
                    "content": contents,
                }
            ),
            st.fixed_dictionaries(
                {"role": roles},
                optional={
                    "content": contents,
                    "tool_calls": tool_calls,
                    "tool_call_id": maybe,
                    "name": maybe,
                },
            ),
        )
    ),
    min_size=1,
    max_size=4,
)
tools = st.lists(
    _mostly(
        st.fixed_dictionaries(
            {
                "function": _mostly(
                    st.fixed_dictionaries(
                        {"name": _mostly(st.sampled_from(["f", "g"]))},
                        optional={"parameters": _mostly(st.just({"type": "object"}))},
                    )
                )
            },
            optional={"type": _mostly(st.just("function"))},
        )
    ),
    max_size=2,
)
tool_choices = _mostly(
    st.sampled_from(["auto", "none", "required"])
    | st.fixed_dictionaries(
        {
            "type": st.just("function"),
            "function": st.fixed_dictionaries({"name": st.sampled_from(["f", "h"])}),
        }
    )
)
bodies = _mostly(
    st.fixed_dictionaries(
        {"model": _mostly(st.just("m")), "messages": _mostly(messages)},
        optional={
            "tools": tools,
            "tool_choice": tool_choices,
            "stream": _mostly(st.booleans()),
            "response_format": _mostly(
                st.sampled_from(
                    [
                        {"type": "json_object"},
                        {"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": "object"}}},
                        {"type": "json_schema"},
                    ]
                )
            ),
            "temperature": scalars,
            "max_tokens": scalars,
            "stop": maybe,
        },
    )
)

TARGETS = {
    "openai": Target("openai", "https://api.openai.com/v1", Secret("sk-x")),
    "anthropic": Target("anthropic", "https://api.anthropic.com/v1", Secret("sk-ant-x")),
    "bedrock": Target(
        "bedrock",
        "",
        None,
        {},
        {"aws_region": "us-east-1", "aws_access_key_id": "AKIAX", "aws_secret_access_key": Secret("s")},
    ),
    "google": Target("google", "https://generativelanguage.googleapis.com/v1beta", Secret("g-x")),
    "azure-openai": Target(
        "azure-openai", "", Secret("az-x"), {}, {"azure_resource_name": "r", "azure_deployment_id": "d"}
    ),
}


@pytest.fixture(scope="module")
def prepared() -> dict[str, Target]:
    return {name: get_adapter(name).prepare_target(target, {}) for name, target in TARGETS.items()}


@FUZZ
@given(body=bodies)
def test_a_body_is_a_request_or_an_invalid_request_error_and_adapters_take_what_passes(
    body: Any, prepared: dict[str, Target]
) -> None:
    request, error = _outcome(lambda: ChatRequest.from_body(body))
    if request is None:
        assert isinstance(error, InvalidRequestError)
        assert (error.path or "").startswith("request")
        return
    json.dumps(request.to_body())  # never too deep to encode
    for name, target in prepared.items():
        # what a provider cannot take is refused the same way: InvalidRequestError, a request path
        _, refused = _outcome(lambda: get_adapter(name).build_request(request, target))  # noqa: B023
        assert refused is None or (refused.path or "").startswith("request")


def _outcome(build: Callable[[], _T]) -> tuple[_T | None, InvalidRequestError | None]:
    """What ``build`` returned, or the InvalidRequestError it raised (anything else propagates)."""
    try:
        return build(), None
    except InvalidRequestError as error:
        return None, error
