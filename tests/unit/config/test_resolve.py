import json

import pytest

from strands_portkey.config.plan import LeafPlan, StrategyPlan, iter_leaves
from strands_portkey.config.resolve import build_plan
from strands_portkey.errors import ConfigurationError
from strands_portkey.wire import Secret


def test_leaf_config_becomes_a_leaf_at_path_config() -> None:
    plan = build_plan({"provider": "openai", "api_key": "sk-1", "override_params": {"model": "gpt-4o"}})
    assert plan == LeafPlan(
        path="config", provider="openai", api_key=Secret("sk-1"), override_params={"model": "gpt-4o"}
    )


def test_json_string_config_is_parsed() -> None:
    plan = build_plan(json.dumps({"provider": "groq", "custom_host": "http://127.0.0.1:9/v1"}))
    assert isinstance(plan, LeafPlan)
    assert plan.custom_host == "http://127.0.0.1:9/v1"


def test_single_strategy_inherits_override_params_shallowly_and_timeout_and_host() -> None:
    plan = build_plan(
        {
            "strategy": {"mode": "single"},
            "override_params": {"model": "a", "max_tokens": 5},
            "request_timeout": 1000,
            "custom_host": "http://127.0.0.1:1/v1",
            "targets": [
                {"provider": "openai", "override_params": {"model": "b"}},
                {"provider": "openai", "request_timeout": 50, "custom_host": "http://127.0.0.1:2/v1"},
            ],
        }
    )
    assert isinstance(plan, StrategyPlan)
    first, second = list(iter_leaves(plan))
    assert first.path == "config.targets[0]"
    assert first.override_params == {"model": "b", "max_tokens": 5}
    assert first.request_timeout_ms == 1000
    assert first.custom_host == "http://127.0.0.1:1/v1"
    assert second.path == "config.targets[1]"
    assert second.request_timeout_ms == 50
    assert second.custom_host == "http://127.0.0.1:2/v1"


@pytest.mark.parametrize(
    ("config", "path_fragment"),
    [
        ("{not json", "config: not valid JSON"),
        ([1, 2], "config: expected an object"),
        ({"strategy": {"mode": "random"}, "targets": [{}]}, "config.strategy.mode: unknown mode 'random'"),
        ({"strategy": {"mode": "single"}, "targets": []}, "config.targets: expected a non-empty list"),
        ({"strategy": {"mode": "single"}, "targets": ["x"]}, "config.targets[0]: expected an object"),
        ({"provider": 3}, "config.provider: expected a string"),
        ({"provider": "openai", "override_params": []}, "config.override_params: expected an object"),
        (
            {"provider": "openai", "request_timeout": "5"},
            "config.request_timeout: expected a positive number",
        ),
        ({"provider": "openai", "request_timeout": 0}, "config.request_timeout: expected a positive number"),
        (
            {"strategy": {"mode": "fallback"}, "targets": [{"provider": "openai"}]},
            "config.strategy.mode: mode 'fallback' is not supported",
        ),
        ({"provider": "openai", "retry": {"attempts": 2}}, "config.retry: 'retry' is not supported"),
        (
            {"strategy": {"mode": "single"}, "targets": [{"provider": "x", "cache": {"mode": "simple"}}]},
            "config.targets[0].cache:",
        ),
    ],
)
def test_bad_configs_name_the_json_path(config: object, path_fragment: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        build_plan(config)  # type: ignore[arg-type]
    assert path_fragment in str(info.value)


def test_unknown_leaf_keys_warn_naming_them() -> None:
    with pytest.warns(UserWarning, match=r"config: unknown config keys \['sticky_session'\]"):
        build_plan({"provider": "openai", "sticky_session": True})


def test_leaf_repr_never_shows_the_key() -> None:
    plan = build_plan({"provider": "openai", "api_key": "sk-canary-123456"})
    assert "sk-canary-123456" not in repr(plan)


def test_provider_fields_travel_to_the_leaf_and_credentials_stay_secret() -> None:
    leaf = build_plan(
        {
            "provider": "bedrock",
            "aws_access_key_id": "AKIDEXAMPLE",
            "aws_secret_access_key": "canary-aws-secret",
            "aws_region": "eu-west-1",
        }
    )
    assert isinstance(leaf, LeafPlan)
    assert leaf.extras["aws_region"] == "eu-west-1"
    assert leaf.extras["aws_access_key_id"] == "AKIDEXAMPLE"
    secret = leaf.extras["aws_secret_access_key"]
    assert isinstance(secret, Secret)
    assert secret.reveal() == "canary-aws-secret"
    assert "canary-aws-secret" not in repr(leaf)
