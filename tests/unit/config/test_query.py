"""The conditional-routing query language: operators, missing keys, wrong types, bad input."""

from typing import Any

import pytest

from strands_portkey.config.query import compile_query
from strands_portkey.errors import ConfigurationError

CONTEXT: dict[str, Any] = {
    "metadata": {"tier": "gold", "level": "2", "beta": "true", "email": "a@corp.example"},
    "params": {
        "model": "gpt-4o",
        "temperature": 0.7,
        "max_tokens": 100,
        "stream": False,
        "response_format": {"type": "json_object"},
        "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
    },
    "url": {"pathname": "/v1/chat/completions"},
}


def matches(query: dict[str, Any]) -> bool:
    return compile_query(query, "q")(CONTEXT)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"metadata.tier": "gold"}, True),
        ({"metadata.tier": "free"}, False),
        ({"metadata.tier": {"$eq": "gold"}}, True),
        ({"metadata.tier": {"$ne": "gold"}}, False),
        ({"metadata.tier": {"$in": ["silver", "gold"]}}, True),
        ({"metadata.tier": {"$nin": ["silver", "gold"]}}, False),
        ({"metadata.level": {"$gt": 1}}, True),
        ({"metadata.level": {"$gte": 2, "$lt": 3}}, True),
        ({"metadata.level": {"$lte": 1.5}}, False),
        ({"metadata.level": 2}, True),
        ({"metadata.beta": True}, True),
        ({"metadata.email": {"$regex": "@corp\\.example$"}}, True),
        ({"params.temperature": {"$gte": 0.5}}, True),
        ({"params.temperature": {"$lt": 0.5}}, False),
        ({"params.max_tokens": {"$regex": "^10"}}, True),
        ({"params.model": {"$regex": "^gpt-4"}}, True),
        ({"params.stream": False}, True),
        ({"params.stream": 0}, False),
        ({"params.max_tokens": "100"}, False),
        ({"params.response_format.type": "json_object"}, True),
        ({"params.messages.0.role": "system"}, True),
        ({"params.messages.1.content": "hi"}, True),
        ({"params.messages.5.role": "user"}, False),
        ({"url.pathname": "/v1/chat/completions"}, True),
        ({"$or": [{"metadata.tier": "free"}, {"params.model": {"$regex": "4o"}}]}, True),
        ({"$and": [{"metadata.tier": "gold"}, {"params.temperature": {"$gt": 0.9}}]}, False),
        ({"metadata.tier": "gold", "params.model": "other"}, False),
        ({"metadata.tier": "gold", "$or": [{"params.model": "x"}]}, False),
        ({"metadata.tier": {"$regex": "gol", "$eq": "silver"}}, False),
        ({}, True),
    ],
)
def test_operators(query: dict[str, Any], expected: bool) -> None:
    assert matches(query) is expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"metadata.missing": "x"}, False),
        ({"metadata.missing": {"$eq": None}}, False),
        ({"metadata.missing": {"$ne": "x"}}, True),
        ({"metadata.missing": {"$nin": ["x"]}}, True),
        ({"metadata.missing": {"$in": ["x"]}}, False),
        ({"metadata.missing": {"$gt": 0}}, False),
        ({"metadata.missing": {"$regex": ".*"}}, False),
        ({"params.response_format.type.deeper": "x"}, False),
    ],
)
def test_missing_keys_match_only_ne_and_nin_as_portkeys_gateway_does(
    query: dict[str, Any], expected: bool
) -> None:
    assert matches(query) is expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"metadata.tier": {"$gt": 1}}, False),
        ({"params.response_format": {"$gt": 1}}, False),
        ({"params.stream": {"$lt": 1}}, False),
        ({"params.response_format": {"$regex": "json"}}, False),
        ({"params.stream": {"$regex": "False"}}, False),
    ],
)
def test_wrong_types_do_not_match(query: dict[str, Any], expected: bool) -> None:
    assert matches(query) is expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"metadata.tier": {"$exists": True}}, "q.metadata.tier.$exists: unknown operator '$exists'"),
        ({"$nor": []}, "q.$nor: unknown operator '$nor'"),
        ({"meta.tier": "gold"}, "q.meta.tier: unknown field 'meta.tier'"),
        ({"metadata": "gold"}, "q.metadata: unknown field 'metadata'"),
        ({"metadata..tier": "gold"}, "unknown field"),
        ({"metadata.tier": {"$regex": "(unclosed"}}, "q.metadata.tier.$regex: invalid regular expression"),
        ({"metadata.tier": {"$regex": 5}}, "$regex needs a string pattern"),
        ({"metadata.tier": {"$in": "gold"}}, "q.metadata.tier.$in: $in needs a list"),
        ({"metadata.tier": {"$in": [{"a": 1}]}}, "q.metadata.tier.$in[0]: expected a string, number"),
        ({"metadata.level": {"$gt": "high"}}, "$gt needs a number"),
        ({"metadata.tier": {}}, "expected at least one operator"),
        ({"metadata.tier": {"nested": "x"}}, "unknown operator 'nested'"),
        ({"metadata.tier": ["gold"]}, "expected a string, number, boolean or null"),
        ({"$and": []}, "q.$and: expected a non-empty list"),
        ({"$or": [1]}, "q.$or[0]: expected a query object"),
    ],
)
def test_bad_queries_are_configuration_errors_with_the_path(query: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        compile_query(query, "q")
    assert message in str(info.value)
