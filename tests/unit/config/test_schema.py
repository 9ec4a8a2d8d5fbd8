"""Config validation: every bad input is a ConfigurationError naming its JSON path."""

import json
import warnings
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strands_portkey import Gateway
from strands_portkey.config.resolve import build_plan
from strands_portkey.config.schema import MAX_DEPTH, validate_config
from strands_portkey.errors import ConfigurationError
from strands_portkey.nesting import MAX_JSON_DEPTH, MAX_TARGET_DEPTH

H = "http://127.0.0.1:9/v1"


def leaf(**extra: Any) -> dict[str, Any]:
    return {"provider": "openai", "custom_host": H, **extra}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("{not json", "config: not valid JSON"),
        ([1, 2], "config: expected an object, got array"),
        ({"strategy": {"mode": "random"}, "targets": [leaf()]}, "config.strategy.mode: expected one of"),
        ({"strategy": {}, "targets": [leaf()]}, "config.strategy.mode: required, but missing"),
        ({"strategy": {"mode": "fallback"}, "targets": []}, "config.targets: expected a non-empty list"),
        ({"strategy": {"mode": "fallback"}}, "config.targets: expected a non-empty list"),
        ({"targets": [leaf()]}, "config.strategy: 'targets' need a strategy"),
        (
            {"strategy": {"mode": "single"}, "targets": ["x"]},
            "config.targets[0]: expected an object, got string",
        ),
        (
            {"strategy": {"mode": "loadbalance"}, "targets": [leaf(weight="2")]},
            "config.targets[0].weight: expected a number, got string",
        ),
        (
            {"strategy": {"mode": "loadbalance"}, "targets": [leaf(weight=-1)]},
            "config.targets[0].weight: expected a number >= 0",
        ),
        (
            {"strategy": {"mode": "loadbalance"}, "targets": [leaf(weight=0), leaf(weight=0)]},
            "config.targets: every target has weight 0",
        ),
        ({"provider": 3}, "config.provider: expected a string, got number"),
        ({"provider": ""}, "config.provider: must not be empty"),
        ({"api_key": "sk"}, "config: a target needs a 'provider'"),
        (leaf(override_params=[]), "config.override_params: expected an object, got array"),
        (leaf(request_timeout="5"), "config.request_timeout: expected a number, got string"),
        (leaf(request_timeout=0), "config.request_timeout: expected a number > 0"),
        (leaf(retry={"attempts": "2"}), "config.retry.attempts: expected an integer, got string"),
        (leaf(retry={"on_status_codes": [429]}), "config.retry.attempts: required, but missing"),
        (
            leaf(retry={"attempts": 1, "on_status_codes": [42]}),
            "config.retry.on_status_codes[0]: expected a number >= 100",
        ),
        (leaf(retry={"attempts": True}), "config.retry.attempts: expected an integer, got boolean"),
        (leaf(cache={"mode": "fuzzy"}), "config.cache.mode: expected one of"),
        (
            {"strategy": {"mode": "fallback", "on_status_codes": ["429"]}, "targets": [leaf()]},
            "config.strategy.on_status_codes[0]: expected an integer, got string",
        ),
        (
            {"strategy": {"mode": "fallback", "default": "a"}, "targets": [leaf()]},
            "config.strategy: 'conditions' and 'default' apply to mode 'conditional'",
        ),
        (
            {"strategy": {"mode": "conditional"}, "targets": [leaf(name="a")]},
            "config.strategy.conditions: mode 'conditional' needs a non-empty list",
        ),
        (
            {
                "strategy": {
                    "mode": "conditional",
                    "conditions": [{"query": {"metadata.x": 1}, "then": "b"}],
                },
                "targets": [leaf(name="a")],
            },
            "config.strategy.conditions[0].then: no target is named 'b'; target names: 'a'",
        ),
        (
            {
                "strategy": {
                    "mode": "conditional",
                    "conditions": [{"query": {"metadata.x": 1}, "then": "a"}],
                    "default": "zzz",
                },
                "targets": [leaf(name="a")],
            },
            "config.strategy.default: no target is named 'zzz'",
        ),
        (
            {
                "strategy": {
                    "mode": "conditional",
                    "conditions": [{"query": {"metadata.x": {"$exists": 1}}, "then": "a"}],
                },
                "targets": [leaf(name="a")],
            },
            "config.strategy.conditions[0].query.metadata.x.$exists: unknown operator '$exists'",
        ),
        (
            {
                "strategy": {"mode": "fallback"},
                "targets": [leaf(), {"strategy": {"mode": "single"}, "targets": [leaf(weight=[])]}],
            },
            "config.targets[1].targets[0].weight: expected a number, got array",
        ),
    ],
)
def test_bad_configs_name_the_json_path(config: object, message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        build_plan(config)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_unknown_keys_warn_once_listing_each_path_and_hosted_only_keys_say_why() -> None:
    config = {
        "strategy": {"mode": "fallback", "sticky": 1},
        "cb_config": {"failure_threshold": 3},
        "targets": [leaf(temprature=0.1), leaf(retry={"attempts": 1, "jitter": True})],
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build_plan(config)
    assert len(caught) == 1
    text = str(caught[0].message)
    assert "config.cb_config: ignored: circuit breaking is a hosted Portkey feature" in text
    assert "config.strategy.sticky: unknown key, ignored" in text
    assert "config.targets[0].temprature: unknown key, ignored" in text
    assert "config.targets[1].retry.jitter: unknown key, ignored" in text


def test_a_valid_config_raises_no_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_config({"strategy": {"mode": "fallback"}, "targets": [leaf(), leaf(weight=2)]})


def test_nesting_beyond_the_depth_limit_is_a_clear_error() -> None:
    node: dict[str, Any] = leaf()
    for _ in range(MAX_DEPTH + 1):
        node = {"strategy": {"mode": "single"}, "targets": [node]}
    with pytest.raises(ConfigurationError, match=f"nested deeper than {MAX_DEPTH} levels"):
        validate_config(node)


def test_errors_never_echo_an_api_key_value() -> None:
    with pytest.raises(ConfigurationError) as info:
        build_plan({"provider": "openai", "api_key": ["sk-canary-9f8e7d"]})
    assert "sk-canary" not in str(info.value)
    assert "config.api_key: expected a string, got array" in str(info.value)


def _nested(levels: int, inner: object = 1) -> object:
    for _ in range(levels):
        inner = {"a": inner}
    return inner


json_leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
json_trees = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)
config_keys = st.sampled_from(
    [
        "strategy",
        "targets",
        "mode",
        "weight",
        "provider",
        "retry",
        "attempts",
        "on_status_codes",
        "conditions",
        "query",
        "then",
        "default",
        "name",
        "cache",
        "override_params",
        "request_timeout",
        "metadata.x",
        "$gt",
        "$regex",
        "$and",
        "custom_host",
        "virtual_key",
    ]
)
config_like = st.recursive(
    json_leaves | st.sampled_from(["fallback", "loadbalance", "conditional", "single", "openai", "a"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(config_keys, children, max_size=5),
    max_leaves=40,
)


def _deep_at(tree: object, key: str, levels: int) -> dict[str, Any]:
    """A leaf whose ``key`` holds ``tree`` under ``levels`` objects, or ``levels`` nested targets."""
    if key == "targets":
        node: dict[str, Any] = leaf()
        for _ in range(levels):
            node = {"strategy": {"mode": "fallback"}, "targets": [node]}
        return node
    return leaf(**{key: _nested(levels, tree)})


deep_configs = st.builds(
    _deep_at,
    json_leaves | st.just({"$or": [{"metadata.x": "y"}]}),
    st.sampled_from(["targets", "override_params", "strategy", "retry", "input_guardrails", "metadata"]),
    st.integers(MAX_TARGET_DEPTH - 2, 3 * MAX_JSON_DEPTH),
)
configs = st.one_of(json_trees, config_like, deep_configs, st.builds(leaf, **{"extra": config_like}))
FUZZ_ENV = {"STRANDS_PORTKEY_HOME": "/nonexistent/strands-portkey-fuzz", "OPENAI_API_KEY": "sk-fuzz"}


def _no_network(request: httpx.Request) -> httpx.Response:
    raise AssertionError("building a gateway must not send anything")


@settings(max_examples=300, derandomize=True, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(configs)
def test_random_json_trees_give_a_gateway_or_a_configuration_error_with_a_path(tree: object) -> None:
    """Any config -- random JSON, config-like trees, trees nested past every limit -- builds a plan
    and a gateway, or fails with a ConfigurationError naming a path under ``config``; nothing else."""
    for form in (tree, json.dumps(tree)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            error = _config_error(form)
        if error is not None:
            assert error.path is not None
            assert error.path.startswith("config")


not_json = st.sampled_from([{1, 2}, Decimal("0.1"), object(), {("k",): 1}, b"bytes", json])


@settings(max_examples=60, derandomize=True, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.builds(
        _deep_at,
        not_json,
        st.sampled_from(["override_params", "strategy", "retry", "metadata"]),
        st.integers(0, 3),
    )
)
def test_a_value_json_cannot_encode_anywhere_in_a_config_is_a_configuration_error(
    config: dict[str, Any],
) -> None:
    error = _config_error(config)
    assert error is not None
    assert (error.path or "").startswith("config")


def _mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``valid`` three times in four, otherwise any JSON (or a tree nested past the limits)."""
    anything = json_leaves | config_like | st.builds(_nested, st.integers(60, 300))
    return st.integers(0, 3).flatmap(lambda draw: anything if draw == 0 else valid)


client_args_like = st.fixed_dictionaries(
    {},
    optional={
        "provider": _mostly(st.sampled_from(["openai", "anthropic", "portkey", "ollama", "nope"])),
        "api_key": _mostly(st.sampled_from(["pk-x", ""])),
        "Authorization": _mostly(st.sampled_from(["Bearer sk-x", "sk-x"])),
        "virtual_key": _mostly(st.sampled_from(["vk-1", ""])),
        "config": _mostly(
            config_like | st.builds(json.dumps, config_like) | st.sampled_from(["pc-1", "{", "[" * 5000])
        ),
        "base_url": _mostly(st.sampled_from(["http://127.0.0.1:8787/v1", "http://[::1", "ftp://x", ""])),
        "custom_host": _mostly(st.sampled_from(["http://127.0.0.1:11434/v1", "http://h:0", "h"])),
        "metadata": _mostly(
            st.dictionaries(st.text(max_size=3), json_leaves, max_size=2)
            | st.sampled_from(['{"a": 1}', "[" * 5000, "{"])
        ),
        "trace_id": _mostly(st.text(max_size=4)),
        "request_timeout": _mostly(st.integers(-5, 5000)),
        "forward_headers": _mostly(st.lists(st.text(max_size=4), max_size=2)),
        "cache_namespace": _mostly(st.text(max_size=4)),
        "x": json_leaves,
    },
)


@settings(max_examples=200, derandomize=True, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(client_args_like)
def test_random_client_args_give_a_gateway_or_a_configuration_error_with_a_path(args: dict[str, Any]) -> None:
    error = _client_args_error(args)
    assert error is None or (error.path or "").startswith(("client_args", "config"))


def _client_args_error(args: dict[str, Any]) -> ConfigurationError | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Gateway(client_args=args, env=FUZZ_ENV, transport=httpx.MockTransport(_no_network))
    except ConfigurationError as error:
        return error
    return None


def _config_error(config: object) -> ConfigurationError | None:
    try:
        build_plan(config)  # type: ignore[arg-type]
        Gateway(config, env=FUZZ_ENV, transport=httpx.MockTransport(_no_network))  # type: ignore[arg-type]
    except ConfigurationError as error:
        return error
    return None
