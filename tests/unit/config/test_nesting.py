"""The documented limits: nesting (``strands_portkey.nesting``) and JSON-only values in a config, each
refused at construction with its path, never a RecursionError or a TypeError at request time."""

import json
from decimal import Decimal
from typing import Any

import pytest

from strands_portkey.config.plan import iter_leaves
from strands_portkey.config.resolve import build_plan
from strands_portkey.errors import ConfigurationError
from strands_portkey.nesting import MAX_JSON_DEPTH, MAX_TARGET_DEPTH

H = "http://127.0.0.1:9/v1"


def leaf(**extra: Any) -> dict[str, Any]:
    return {"provider": "openai", "custom_host": H, **extra}


def _nested(levels: int, inner: object = 1) -> object:
    for _ in range(levels):
        inner = {"a": inner}
    return inner


def _or_query(levels: int) -> dict[str, Any]:
    query: dict[str, Any] = {"metadata.tier": "gold"}
    for _ in range(levels):
        query = {"$or": [query]}
    return query


def _schema(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"a": schema}}
    return schema


def _conditional(query: dict[str, Any]) -> dict[str, Any]:
    return {
        "strategy": {"mode": "conditional", "conditions": [{"query": query, "then": "a"}]},
        "targets": [leaf(name="a")],
    }


@pytest.mark.parametrize(
    ("config", "path"),
    [
        (_conditional(_or_query(200)), "config.strategy.conditions[0].query"),
        (leaf(override_params={"x": _nested(3000)}), "config.override_params.x.a.a"),
        (
            leaf(output_guardrails=[{"default.jsonSchema": {"schema": _schema(100)}}]),
            "config.output_guardrails[0].default.jsonSchema.schema",
        ),
        (
            {"strategy": {"mode": "single"}, "targets": [leaf(input_guardrails=[_nested(70)])]},
            "config.targets[0].input_guardrails[0].a.a",
        ),
        (leaf(metadata=[_nested(100)]), "config.metadata[0].a.a"),
    ],
)
def test_deep_json_anywhere_in_a_config_is_refused_at_construction_with_its_path(
    config: dict[str, Any], path: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        build_plan(config)
    assert info.value.path == path
    assert f"nested deeper than {MAX_JSON_DEPTH} levels" in str(info.value)


@pytest.mark.parametrize(
    ("config", "path", "message"),
    [
        (leaf(override_params={"x": {1, 2}}), "config.override_params.x", "got set"),
        (leaf(override_params={"stop": [Decimal(1)]}), "config.override_params.stop[0]", "got Decimal"),
        (
            leaf(input_guardrails=[{"default.contains": {("k",): 1}}]),
            "config.input_guardrails[0].default.contains",
            "keys",
        ),
        ({"strategy": {"mode": "single"}, "targets": [object()]}, "config.targets[0]", "got object"),
    ],
)
def test_values_json_cannot_encode_are_refused_at_construction_with_their_path(
    config: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        build_plan(config)
    assert info.value.path == path
    assert message in str(info.value)


def test_a_json_string_too_deep_for_the_parser_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="nested deeper than"):
        build_plan("[" * 100_000)


def test_configs_at_the_depth_limits_build_and_run_without_recursion_errors() -> None:
    query = _or_query((MAX_JSON_DEPTH - 4) // 2)  # strategy.conditions[0].query holds 3 levels
    node: dict[str, Any] = leaf(
        override_params={"x": _nested(MAX_JSON_DEPTH - 1)},
        output_guardrails=[{"default.jsonSchema": {"schema": _schema((MAX_JSON_DEPTH - 6) // 2)}}],
    )
    for _ in range(MAX_TARGET_DEPTH):
        node = {**_conditional(query), "targets": [{**node, "name": "a"}]}
    for form in (node, json.dumps(node)):
        plan = build_plan(form)
        leaves = list(iter_leaves(plan))
        assert len(leaves) == 1
        assert leaves[0].path == "config" + ".targets[0]" * MAX_TARGET_DEPTH
        assert leaves[0].override_params["x"] == _nested(MAX_JSON_DEPTH - 1)


def test_a_self_referencing_config_is_refused_not_looped_over() -> None:
    params: dict[str, Any] = {}
    params["self"] = params
    with pytest.raises(ConfigurationError, match="nested deeper than"):
        build_plan(leaf(override_params=params))
