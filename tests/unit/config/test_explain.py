"""``config.explain``: the plan tree with where each setting comes from, and a sample request's walk."""

from __future__ import annotations

from typing import Any

from strands_portkey.config.explain import plan_tree, setting_text, walk_sample
from strands_portkey.config.resolve import build_plan

CONFIG: dict[str, Any] = {
    "strategy": {"mode": "fallback"},
    "retry": {"attempts": 3, "on_status_codes": [429]},
    "override_params": {"temperature": 0},
    "custom_host": "https://proxy.example.com/v1",
    "targets": [
        {
            "strategy": {
                "mode": "conditional",
                "conditions": [{"query": {"params.model": {"$eq": "big"}}, "then": "a"}],
            },
            "targets": [
                {"name": "a", "provider": "openai", "api_key": "sk-never-shown-1234"},
                {"name": "b", "provider": "groq"},
            ],
        },
        {
            "strategy": {"mode": "loadbalance"},
            "cache": {"mode": "simple", "max_age": 60},
            "targets": [
                {"provider": "anthropic", "weight": 1, "override_params": {"max_tokens": 5}},
                {"provider": "mistral", "weight": 3, "retry": {"attempts": 0}},
            ],
        },
    ],
}


def test_each_leaf_says_where_its_settings_come_from() -> None:
    tree = plan_tree(CONFIG, build_plan(CONFIG))
    a = tree["targets"][0]["targets"][0]
    assert a["settings"]["retry"] == {"value": {"attempts": 3, "on_status_codes": [429]}, "from": ["config"]}
    assert a["settings"]["custom_host"]["from"] == ["config"]
    assert (a["provider"], a["api_key_in_config"]) == ("openai", True)
    anthropic, mistral = tree["targets"][1]["targets"]
    assert anthropic["settings"]["override_params"] == {
        "value": {"temperature": 0, "max_tokens": 5},
        "from": ["config", "own"],
    }
    assert anthropic["settings"]["cache"] == {
        "value": {"mode": "simple", "max_age": 60},
        "from": ["config.targets[1]"],
    }
    assert mistral["settings"]["retry"] == {"value": "off", "from": ["own"]}
    assert tree["targets"][0]["conditions"] == [{"then": 0}]
    assert "sk-never-shown-1234" not in repr(tree)


def test_a_sample_request_walks_the_tree() -> None:
    plan = build_plan(CONFIG)
    big = walk_sample(plan, {"model": "big"}, {})
    assert big[0] == "config: fallback: targets[0] first then the next on failure"
    assert "first, config.targets[0]: conditions[0] matches -> targets[0]" in big[1]
    assert "config.targets[0].targets[0]: sent to openai as model 'big', up to 3 retries" in big[2]
    assert "targets[0] 25%, targets[1] 75%" in big[3]
    assert big[4].endswith(
        "if drawn, config.targets[1].targets[0]: sent to anthropic as model 'big', up to 3 retries"
    )
    assert big[5].endswith("sent to mistral as model 'big'")
    small = walk_sample(plan, {"model": "small"}, {})
    assert "no condition matches and there is no default: refused (400)" in small[1]


def test_setting_text() -> None:
    assert setting_text("retry", {"attempts": 2, "on_status_codes": [429, 503]}) == "2 retries on 429, 503"
    assert setting_text("cache", {"mode": "semantic", "max_age": 60}) == "semantic, max age 60 s"
    assert setting_text("request_timeout", 5000.0) == "5000 ms"
    assert setting_text("override_params", {"model": "x"}) == '{"model": "x"}'
    assert setting_text("retry", "off") == "off"
