import json
import warnings

import pytest

from strands_portkey.config.plan import (
    DEFAULT_RETRY_STATUS_CODES,
    CachePlan,
    LeafPlan,
    RetryPlan,
    StrategyPlan,
    iter_leaves,
)
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


def test_portkey_observed_override_params_inheritance_through_nested_groups() -> None:
    """Semantics section 11: top {model, max_tokens}, group {temperature}, sibling's own model."""
    plan = build_plan(
        {
            "strategy": {"mode": "fallback"},
            "override_params": {"model": "top", "max_tokens": 9},
            "targets": [
                {
                    "strategy": {"mode": "loadbalance"},
                    "override_params": {"temperature": 0.2},
                    "targets": [{"provider": "openai", "custom_host": "http://h/v1"}],
                },
                {"provider": "openai", "custom_host": "http://h/v1", "override_params": {"model": "own"}},
            ],
        }
    )
    nested, sibling = iter_leaves(plan)
    assert nested.path == "config.targets[0].targets[0]"
    assert nested.override_params == {"model": "top", "max_tokens": 9, "temperature": 0.2}
    assert sibling.override_params == {"model": "own", "max_tokens": 9}


def test_retry_and_cache_are_replaced_whole_by_a_child_and_inherited_otherwise() -> None:
    plan = build_plan(
        {
            "strategy": {"mode": "fallback"},
            "retry": {"attempts": 2, "on_status_codes": [503]},
            "targets": [
                {"provider": "openai", "custom_host": "http://h/v1", "retry": {"attempts": 1}},
                {"provider": "openai", "custom_host": "http://h/v1"},
                {"provider": "openai", "custom_host": "http://h/v1", "retry": {"attempts": 0}},
            ],
        }
    )
    own, inherited, disabled = iter_leaves(plan)
    assert own.retry == RetryPlan(attempts=1, on_status_codes=DEFAULT_RETRY_STATUS_CODES)
    assert inherited.retry == RetryPlan(attempts=2, on_status_codes=frozenset({503}))
    assert disabled.retry is None


def test_both_spellings_of_the_retry_after_flag_turn_it_on() -> None:
    for flag in ("use_retry_after_header", "use_retry_after_headers"):
        leaf = build_plan({"provider": "openai", "retry": {"attempts": 1, flag: True}})
        assert isinstance(leaf, LeafPlan)
        assert leaf.retry is not None
        assert leaf.retry.use_retry_after


def test_default_retry_codes_are_portkeys_plus_529() -> None:
    assert {429, 500, 502, 503, 504, 529} == DEFAULT_RETRY_STATUS_CODES


def test_forward_headers_and_timeout_inherit_and_a_timeout_override_wins_everywhere() -> None:
    config = {
        "strategy": {"mode": "fallback"},
        "forward_headers": ["x-user"],
        "request_timeout": 1000,
        "targets": [
            {"provider": "openai", "custom_host": "http://h/v1", "request_timeout": 50},
            {"provider": "openai", "custom_host": "http://h/v1", "forward_headers": []},
        ],
    }
    first, second = iter_leaves(build_plan(config))
    assert (first.request_timeout_ms, second.request_timeout_ms) == (50, 1000)
    assert (first.forward_headers, second.forward_headers) == (("x-user",), ())
    overridden = [leaf.request_timeout_ms for leaf in iter_leaves(build_plan(config, request_timeout_ms=7))]
    assert overridden == [7, 7]


def test_conditional_plan_resolves_names_to_indexes() -> None:
    plan = build_plan(
        {
            "strategy": {
                "mode": "conditional",
                "conditions": [{"query": {"metadata.tier": "gold"}, "then": "b"}],
                "default": "a",
            },
            "targets": [
                {"name": "a", "provider": "openai", "custom_host": "http://h/v1"},
                {"name": "b", "provider": "openai", "custom_host": "http://h/v1"},
            ],
        }
    )
    assert isinstance(plan, StrategyPlan)
    assert plan.default == 0
    assert [c.target for c in plan.conditions] == [1]
    assert plan.conditions[0].matches({"metadata": {"tier": "gold"}})
    assert not plan.conditions[0].matches({"metadata": {"tier": "free"}})


def test_loadbalance_weights_default_to_one_and_names_are_kept() -> None:
    plan = build_plan(
        {
            "strategy": {"mode": "loadbalance"},
            "targets": [
                {"provider": "openai", "custom_host": "http://h/v1", "weight": 0.7, "name": "x"},
                {"provider": "openai", "custom_host": "http://h/v1"},
            ],
        }
    )
    assert isinstance(plan, StrategyPlan)
    assert [(child.weight, child.name) for child in plan.targets] == [(0.7, "x"), (1.0, None)]


def test_cache_is_inherited_and_semantic_mode_loads_without_a_warning() -> None:
    plan = build_plan(
        {
            "strategy": {"mode": "fallback"},
            "cache": {"mode": "simple", "max_age": 60},
            "targets": [{"provider": "openai"}, {"provider": "openai", "cache": {"mode": "simple"}}],
        }
    )
    inherited, own = iter_leaves(plan)
    assert inherited.cache == CachePlan(mode="simple", max_age_s=60)
    assert own.cache == CachePlan(mode="simple", max_age_s=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        semantic = build_plan({"provider": "openai", "cache": {"mode": "semantic"}})
    assert isinstance(semantic, LeafPlan)
    assert semantic.cache == CachePlan(mode="semantic", max_age_s=None)


def test_hooks_expand_shorthands_and_a_childs_list_replaces_the_parents() -> None:
    plan = build_plan(
        {
            "strategy": {"mode": "fallback"},
            "input_guardrails": [{"contains": {"operator": "none", "words": ["x"]}, "deny": True}],
            "after_request_hooks": [
                {"id": "out", "type": "guardrail", "checks": [{"id": "default.notNull"}]}
            ],
            "targets": [
                {
                    "provider": "openai",
                    "before_request_hooks": [{"id": "own", "type": "guardrail", "checks": [{"id": "a.b"}]}],
                },
                {"provider": "openai", "output_guardrails": [{"default.endsWith": {"suffix": "."}}]},
            ],
        }
    )
    own, inherited = iter_leaves(plan)
    assert [h.id for h in own.before_hooks] == ["own"]
    assert [h.id for h in own.after_hooks] == ["out"]
    [parent_hook] = inherited.before_hooks
    assert (parent_hook.type, parent_hook.deny, parent_hook.checks[0].id) == (
        "guardrail",
        True,
        "default.contains",
    )
    assert parent_hook.path == "config.input_guardrails[0]"
    assert [c.id for h in inherited.after_hooks for c in h.checks] == ["default.endsWith"]


@pytest.mark.parametrize(
    ("hooks", "path"),
    [
        ({"before_request_hooks": [{"id": "x", "type": "guardrail"}]}, "before_request_hooks[0].checks"),
        ({"before_request_hooks": [{"id": "x", "checks": [{"id": "a.b"}]}]}, "before_request_hooks[0].type"),
        ({"input_guardrails": [{"deny": True}]}, "input_guardrails[0]"),
        ({"output_guardrails": [{"default.contains": {}, "deny": "yes"}]}, "output_guardrails[0].deny"),
        ({"input_guardrails": [{"default.contains": ["a"]}]}, "input_guardrails[0].default.contains"),
    ],
)
def test_malformed_hooks_are_rejected_with_their_path(hooks: dict[str, object], path: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        build_plan({"strategy": {"mode": "single"}, "targets": [{"provider": "openai", **hooks}]})
    assert caught.value.path == f"config.targets[0].{path}"


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
