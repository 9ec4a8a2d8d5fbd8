"""Anthropic Messages bodies -> canonical requests (every block type, parameters, bad input)."""

import base64

import pytest

from strands_portkey.errors import InvalidRequestError
from strands_portkey.providers.anthropic import request_body
from strands_portkey.server.dataplane.messages_codec import (
    chat_body_from_messages,
    chat_request_from_messages,
)

BASE = {"model": "claude-x", "max_tokens": 100}
IMAGE = {"type": "base64", "media_type": "image/png", "data": "aGk="}


def convert(messages, **extra):
    return chat_body_from_messages({**BASE, "messages": messages, **extra})


def test_minimal_body_keeps_model_max_tokens_and_a_string_turn() -> None:
    body = convert([{"role": "user", "content": "hi"}])
    assert body == {
        "model": "claude-x",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 100,
        "stream": False,
    }
    request = chat_request_from_messages(
        {**BASE, "messages": [{"role": "user", "content": "hi"}], "stream": True}
    )
    assert request.stream is True
    assert request.params["max_tokens"] == 100


def test_system_string_and_text_blocks_with_cache_control() -> None:
    assert convert([{"role": "user", "content": "x"}], system="be brief")["messages"][0] == {
        "role": "system",
        "content": "be brief",
    }
    blocks = [
        {"type": "text", "text": "a", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "b"},
    ]
    system = convert([{"role": "user", "content": "x"}], system=blocks)["messages"][0]
    assert system["content"] == [
        {"type": "text", "text": "a", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "b"},
    ]


def test_images_and_documents_become_content_parts() -> None:
    blocks = [
        {"type": "image", "source": IMAGE},
        {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}},
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBE"},
            "title": "a.pdf",
        },
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "plain"}},
    ]
    parts = convert([{"role": "user", "content": blocks}])["messages"][0]["content"]
    assert parts[0] == {"type": "image_url", "image_url": {"url": "data:image/png;base64,aGk="}}
    assert parts[1] == {"type": "image_url", "image_url": {"url": "https://x/y.png"}}
    assert parts[2] == {
        "type": "file",
        "file": {"file_data": "data:application/pdf;base64,JVBE", "filename": "a.pdf"},
    }
    assert base64.b64decode(parts[3]["file"]["file_data"].split(",", 1)[1]) == b"plain"


def test_tool_use_and_tool_result_history() -> None:
    messages = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_2", "name": "time", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_2",
                    "content": [{"type": "text", "text": "no clock"}, {"type": "image", "source": IMAGE}],
                    "is_error": True,
                },
                {"type": "text", "text": "and then?"},
            ],
        },
    ]
    out = convert(messages)["messages"]
    assert out[1] == {
        "role": "assistant",
        "content": "Let me look.",
        "tool_calls": [
            {
                "id": "toolu_1",
                "type": "function",
                "function": {"name": "weather", "arguments": '{"city": "Paris"}'},
            },
            {"id": "toolu_2", "type": "function", "function": {"name": "time", "arguments": "{}"}},
        ],
    }
    assert out[2] == {"role": "tool", "tool_call_id": "toolu_1", "content": "sunny"}
    assert out[3] == {"role": "tool", "tool_call_id": "toolu_2", "content": "Error: no clock"}
    assert out[4] == {
        "role": "user",
        "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,aGk="}}],
    }
    assert out[5] == {"role": "user", "content": [{"type": "text", "text": "and then?"}]}
    assert len(out) == 6


def test_tool_only_turn_has_null_content_and_error_result_round_trips_to_anthropic() -> None:
    messages = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}}]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "boom", "is_error": True}],
        },
    ]
    request = chat_request_from_messages({**BASE, "messages": messages})
    assert request.messages[1]["content"] is None
    # through the Anthropic upstream adapter, the same history comes back out
    back = request_body(request)["messages"]
    assert back[1]["content"] == [{"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}}]
    assert back[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "t1", "content": "Error: boom", "is_error": True}
    ]


def test_signed_thinking_is_kept_for_native_upstreams_and_unsigned_is_dropped() -> None:
    assistant = {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "sig"},
            {"type": "thinking", "thinking": "unsigned", "signature": ""},
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "text", "text": "ok"},
        ],
    }
    request = chat_request_from_messages({**BASE, "messages": [{"role": "user", "content": "q"}, assistant]})
    message = request.messages[1]
    assert message["thinking_blocks"] == [
        {"type": "thinking", "thinking": "hmm", "signature": "sig"},
        {"type": "redacted_thinking", "data": base64.b64encode(b"opaque").decode()},
    ]
    blocks = request_body(request)["messages"][1]["content"]
    assert blocks[:2] == [
        {"type": "thinking", "thinking": "hmm", "signature": "sig"},
        {"type": "redacted_thinking", "data": "opaque"},
    ]


def test_tools_tool_choice_and_parameters() -> None:
    body = convert(
        [{"role": "user", "content": "x"}],
        tools=[{"name": "f", "description": "does f", "input_schema": {"type": "object", "properties": {}}}],
        tool_choice={"type": "any", "disable_parallel_tool_use": True},
        stop_sequences=["END"],
        temperature=0.2,
        top_p=0.9,
        top_k=5,
        metadata={"user_id": "u-1"},
        thinking={"type": "enabled", "budget_tokens": 1024},
        service_tier="auto",
    )
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "f",
                "description": "does f",
                "parameters": {"type": "object", "properties": {}},
            },
        }
    ]
    assert body["tool_choice"] == "required"
    assert body["parallel_tool_calls"] is False
    assert (body["stop"], body["temperature"], body["top_p"], body["top_k"]) == (["END"], 0.2, 0.9, 5)
    assert body["user"] == "u-1"
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert "service_tier" not in body
    named = convert(
        [{"role": "user", "content": "x"}], tools=body["tools"][:0], tool_choice={"type": "tool", "name": "f"}
    )
    assert named["tool_choice"] == {"type": "function", "function": {"name": "f"}}
    for kind, expected in (("auto", "auto"), ("none", "none")):
        assert (
            convert([{"role": "user", "content": "x"}], tool_choice={"type": kind})["tool_choice"] == expected
        )


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"model": "m", "messages": [{"role": "user", "content": "x"}]}, "max_tokens"),
        ({**BASE, "max_tokens": 0, "messages": [{"role": "user", "content": "x"}]}, "max_tokens"),
        ({"max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}, "model"),
        ({**BASE, "messages": []}, "messages"),
        ({**BASE, "messages": [{"role": "system", "content": "x"}]}, "messages[0].role"),
        ({**BASE, "messages": [{"role": "user"}]}, "messages[0].content"),
        (
            {
                **BASE,
                "messages": [
                    {"role": "user", "content": "a"},
                    {"role": "user", "content": [{"type": "text", "text": "b"}, {"type": "audio"}]},
                ],
            },
            "messages[1].content[1].type",
        ),
        (
            {
                **BASE,
                "messages": [{"role": "assistant", "content": [{"type": "tool_result", "tool_use_id": "x"}]}],
            },
            "messages[0].content[0].type",
        ),
        (
            {
                **BASE,
                "messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "file"}}]}],
            },
            "messages[0].content[0].source.type",
        ),
        (
            {**BASE, "messages": [{"role": "user", "content": [{"type": "tool_result"}]}]},
            "messages[0].content[0].tool_use_id",
        ),
        (
            {
                **BASE,
                "messages": [
                    {
                        "role": "assistant",
                        "content": [{"type": "tool_use", "id": "t", "name": "f", "input": [1]}],
                    }
                ],
            },
            "messages[0].content[0].input",
        ),
        (
            {
                **BASE,
                "messages": [{"role": "user", "content": "x"}],
                "tools": [{"type": "web_search_20250305", "name": "web_search"}],
            },
            "tools[0].type",
        ),
        (
            {**BASE, "messages": [{"role": "user", "content": "x"}], "tools": [{"name": "f"}]},
            "tools[0].input_schema",
        ),
        (
            {**BASE, "messages": [{"role": "user", "content": "x"}], "tool_choice": {"type": "maybe"}},
            "tool_choice.type",
        ),
        (
            {**BASE, "messages": [{"role": "user", "content": "x"}], "system": [{"type": "image"}]},
            "system[0].type",
        ),
        ({**BASE, "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}, "temperature"),
        ({**BASE, "messages": [{"role": "user", "content": "x"}], "top_k": 1.5}, "top_k"),
        (
            {**BASE, "messages": [{"role": "user", "content": "x"}], "stop_sequences": [1]},
            "stop_sequences[0]",
        ),
        (
            {**BASE, "messages": [{"role": "user", "content": "x"}], "metadata": {"user_id": 3}},
            "metadata.user_id",
        ),
        ({**BASE, "messages": [{"role": "user", "content": "x"}], "stream": "yes"}, "stream"),
    ],
)
def test_bad_input_names_the_field_in_anthropic_terms(body, path) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        chat_request_from_messages(body)
    assert raised.value.path == path
    assert str(raised.value).startswith(f"{path}: ")


def test_a_body_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match="body: expected a JSON object"):
        chat_body_from_messages([1, 2])


def test_disable_parallel_tool_use_needs_tools_to_mean_anything() -> None:
    body = convert(
        [{"role": "user", "content": "x"}], tool_choice={"type": "auto", "disable_parallel_tool_use": True}
    )
    assert "parallel_tool_calls" not in body
    assert body["tool_choice"] == "auto"
