"""Strands conversation -> canonical ChatRequest (contract section 10.1): exact bodies, warnings, errors."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from strands_portkey._strands_codec import to_chat_request
from strands_portkey.errors import InvalidRequestError

B64 = "YWJj"  # base64 of b"abc"
RAW = b"abc"

WEATHER_SPEC: dict[str, Any] = {
    "name": "get_weather",
    "description": "Get the weather for a city.",
    "inputSchema": {
        "json": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}}
    },
}
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather for a city.",
        "parameters": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}},
    },
}


def convert(messages: Any, **kwargs: Any) -> tuple[dict[str, Any], list[str]]:
    """Return the request body and the messages of every warning raised while converting."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        request = to_chat_request(messages, model_id="gpt-4o", **kwargs)
    return request.to_body(), [str(w.message) for w in caught]


def user(*blocks: Any) -> dict[str, Any]:
    return {"role": "user", "content": list(blocks)}


def assistant(*blocks: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": list(blocks)}


def text_part(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "text", "text": text, **extra}


def tool_result(content: list[Any], status: str = "success", tool_id: str = "t1") -> dict[str, Any]:
    return {"toolResult": {"toolUseId": tool_id, "status": status, "content": content}}


def image(fmt: str = "png") -> dict[str, Any]:
    return {"image": {"format": fmt, "source": {"bytes": RAW}}}


IMAGE_PART = {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{B64}", "detail": "auto"}}
S3 = {"location": {"type": "s3", "uri": "s3://bucket/key"}}
EPHEMERAL = {"type": "ephemeral"}

# (id, strands messages, expected chat messages, expected warnings)
HISTORY_CASES: list[tuple[str, list[Any], list[Any], list[str]]] = [
    ("text", [user({"text": "hi"})], [{"role": "user", "content": "hi"}], []),
    (
        "image-location-dropped",
        [user({"text": "look"}, {"image": {"format": "png", "source": S3}})],
        [{"role": "user", "content": "look"}],
        [
            "messages[0].content[1].image: image block dropped "
            "(only inline bytes can be sent, not a location source)"
        ],
    ),
    (
        "document-location-dropped",
        [user({"document": {"format": "pdf", "name": "r", "source": S3}}, {"text": "sum"})],
        [{"role": "user", "content": "sum"}],
        [
            "messages[0].content[0].document: document block dropped "
            "(only inline bytes can be sent, not a location source)"
        ],
    ),
    (
        "video-and-audio-dropped",
        [
            user(
                {"video": {"format": "mp4", "source": {"bytes": RAW}}},
                {"audio": {"format": "mp3", "source": {"bytes": RAW}}},
                {"text": "what?"},
            )
        ],
        [{"role": "user", "content": "what?"}],
        [
            "messages[0].content[0]: video block dropped (chat completions has no equivalent)",
            "messages[0].content[1]: audio block dropped (chat completions has no equivalent)",
        ],
    ),
    (
        "unknown-kind-dropped",
        [user({"hologram": {}}, {"text": "x"})],
        [{"role": "user", "content": "x"}],
        ["messages[0].content[0]: hologram block dropped (chat completions has no equivalent)"],
    ),
    (
        "message-left-empty-is-dropped",
        [user({"text": "a"}), user({"video": {"format": "mp4", "source": S3}})],
        [{"role": "user", "content": "a"}],
        ["messages[1].content[0]: video block dropped (chat completions has no equivalent)"],
    ),
    (
        "tool-use-with-text",
        [
            user({"text": "weather?"}),
            assistant(
                {"text": "Let me check."},
                {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Zürich"}}},
            ),
        ],
        [
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": "Let me check.",
                "tool_calls": [
                    {
                        "id": "t1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Zürich"}'},
                    }
                ],
            },
        ],
        [],
    ),
    (
        "tool-use-only-has-none-content",
        [
            assistant(
                {"toolUse": {"toolUseId": "a", "name": "f", "input": {}}},
                {"toolUse": {"toolUseId": "b", "name": "g", "input": {"x": [1, 2]}}},
            )
        ],
        [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                    {"id": "b", "type": "function", "function": {"name": "g", "arguments": '{"x": [1, 2]}'}},
                ],
            }
        ],
        [],
    ),
    (
        "assistant-multi-text-joined",
        [assistant({"text": "one"}, {"text": "two"})],
        [{"role": "assistant", "content": "one\ntwo"}],
        [],
    ),
    (
        "tool-result-text",
        [user(tool_result([{"text": "Sunny, 22C"}]))],
        [{"role": "tool", "tool_call_id": "t1", "content": "Sunny, 22C"}],
        [],
    ),
    (
        "tool-result-multi-text",
        [user(tool_result([{"text": "a"}, {"text": "b"}]))],
        [{"role": "tool", "tool_call_id": "t1", "content": "a\nb"}],
        [],
    ),
    (
        "tool-result-json",
        [user(tool_result([{"json": {"t": 22, "city": "Zürich"}}]))],
        [{"role": "tool", "tool_call_id": "t1", "content": '{"t": 22, "city": "Zürich"}'}],
        [],
    ),
    (
        "tool-result-image-moves-to-user",
        [user(tool_result([{"text": "chart:"}, image()]))],
        [
            {"role": "tool", "tool_call_id": "t1", "content": "chart:"},
            {"role": "user", "content": [IMAGE_PART]},
        ],
        [],
    ),
    (
        "tool-result-mixed",
        [user(tool_result([{"text": "a"}, {"json": [1]}, image(), {"text": "b"}]), {"text": "next?"})],
        [
            {"role": "tool", "tool_call_id": "t1", "content": "a\n[1]\nb"},
            {"role": "user", "content": [IMAGE_PART, text_part("next?")]},
        ],
        [],
    ),
    (
        "tool-result-error-prefixed",
        [user(tool_result([{"text": "city not found"}], status="error"))],
        [{"role": "tool", "tool_call_id": "t1", "content": "Error: city not found"}],
        [],
    ),
    (
        "tool-result-error-already-marked",
        [user(tool_result([{"text": "Error: boom"}], status="error"))],
        [{"role": "tool", "tool_call_id": "t1", "content": "Error: boom"}],
        [],
    ),
    (
        "tool-result-error-empty",
        [user(tool_result([], status="error"))],
        [{"role": "tool", "tool_call_id": "t1", "content": "Error"}],
        [],
    ),
    (
        "tool-result-empty",
        [user(tool_result([]))],
        [{"role": "tool", "tool_call_id": "t1", "content": ""}],
        [],
    ),
    (
        "tool-results-first-then-user-content",
        [
            user(
                {"text": "and Paris?"},
                tool_result([{"text": "sunny"}], tool_id="a"),
                tool_result([image()], tool_id="b"),
            )
        ],
        [
            {"role": "tool", "tool_call_id": "a", "content": "sunny"},
            {"role": "tool", "tool_call_id": "b", "content": ""},
            {"role": "user", "content": [IMAGE_PART, text_part("and Paris?")]},
        ],
        [],
    ),
    (
        "reasoning-kept-as-reasoning-content",
        [
            assistant(
                {"reasoningContent": {"reasoningText": {"text": "think", "signature": "sig"}}},
                {"reasoningContent": {"reasoningText": {"text": "more"}}},
                {"text": "42"},
            )
        ],
        [
            {
                "role": "assistant",
                "content": "42",
                "reasoning_content": "think\nmore",
                "thinking_blocks": [{"type": "thinking", "thinking": "think", "signature": "sig"}],
            }
        ],
        [],
    ),
    (
        "reasoning-only-message-dropped",
        [user({"text": "q"}), assistant({"reasoningContent": {"reasoningText": {"text": "hmm"}}})],
        [{"role": "user", "content": "q"}],
        [],
    ),
    (
        "redacted-content-kept-for-native-providers",
        [assistant({"reasoningContent": {"redactedContent": b"\x00secret"}}, {"text": "ok"})],
        [
            {
                "role": "assistant",
                "content": "ok",
                "thinking_blocks": [{"type": "redacted_thinking", "data": "AHNlY3JldA=="}],
            }
        ],
        [],
    ),
    (
        "cache-point-marks-user-text",
        [user({"text": "big context"}, {"cachePoint": {"type": "default"}}, {"text": "question"})],
        [
            {
                "role": "user",
                "content": [text_part("big context", cache_control=EPHEMERAL), text_part("question")],
            }
        ],
        [],
    ),
    (
        "cache-point-ttl-on-image",
        [user(image(), {"cachePoint": {"type": "default", "ttl": "1h"}})],
        [{"role": "user", "content": [{**IMAGE_PART, "cache_control": {"type": "ephemeral", "ttl": "1h"}}]}],
        [],
    ),
    (
        "cache-point-without-part-dropped",
        [
            user(
                {"cachePoint": {"type": "default"}},
                tool_result([{"text": "r"}]),
                {"cachePoint": {"type": "default"}},
            )
        ],
        [{"role": "tool", "tool_call_id": "t1", "content": "r"}],
        [],
    ),
    (
        "cache-point-after-tool-result-does-not-mark-earlier-text",
        [user({"text": "q"}, tool_result([{"text": "r"}]), {"cachePoint": {"type": "default"}})],
        [
            {"role": "tool", "tool_call_id": "t1", "content": "r"},
            {"role": "user", "content": "q"},
        ],
        [],
    ),
    (
        "cache-point-after-tool-use-does-not-mark-earlier-text",
        [
            assistant(
                {"text": "calling"},
                {"toolUse": {"toolUseId": "t1", "name": "f", "input": {}}},
                {"cachePoint": {"type": "default"}},
            )
        ],
        [
            {
                "role": "assistant",
                "content": "calling",
                "tool_calls": [
                    {"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            }
        ],
        [],
    ),
    (
        "cache-point-after-dropped-block-does-not-mark-earlier-part",
        [
            user(
                {"text": "a"}, {"video": {"format": "mp4", "source": S3}}, {"cachePoint": {"type": "default"}}
            )
        ],
        [{"role": "user", "content": "a"}],
        ["messages[0].content[1]: video block dropped (chat completions has no equivalent)"],
    ),
    (
        "cache-point-in-assistant-keeps-parts",
        [assistant({"text": "long answer"}, {"cachePoint": {"type": "default"}})],
        [{"role": "assistant", "content": [text_part("long answer", cache_control=EPHEMERAL)]}],
        [],
    ),
    (
        "citations-content-becomes-text",
        [
            assistant(
                {
                    "citationsContent": {
                        "citations": [{"title": "doc", "location": {"documentChar": {"start": 0, "end": 3}}}],
                        "content": [{"text": "Paris is"}, {"text": " the capital."}],
                    }
                }
            )
        ],
        [{"role": "assistant", "content": "Paris is\n the capital."}],
        [],
    ),
    (
        "guard-content-text",
        [user({"guardContent": {"text": {"text": "check me", "qualifiers": ["query"]}}})],
        [{"role": "user", "content": "check me"}],
        [],
    ),
    (
        "guard-content-without-text",
        [user({"guardContent": {"image": {"format": "png", "source": {"bytes": RAW}}}}, {"text": "x"})],
        [{"role": "user", "content": "x"}],
        ["messages[0].content[0]: guardContent block dropped (only guarded text is supported)"],
    ),
]


@pytest.mark.parametrize(
    ("messages", "expected", "expected_warnings"),
    [pytest.param(m, e, w, id=i) for i, m, e, w in HISTORY_CASES],
)
def test_history_block(messages: list[Any], expected: list[Any], expected_warnings: list[str]) -> None:
    body, caught = convert(messages)
    assert body == {"model": "gpt-4o", "messages": expected, "stream": True}
    assert caught == expected_warnings


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [("png", "image/png"), ("jpeg", "image/jpeg"), ("gif", "image/gif"), ("webp", "image/webp")],
)
def test_image_bytes_become_data_url(fmt: str, mime: str) -> None:
    body, caught = convert([user(image(fmt))])
    part = {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{B64}", "detail": "auto"}}
    assert body["messages"] == [{"role": "user", "content": [part]}]
    assert caught == []


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [
        ("pdf", "application/pdf"),
        ("csv", "text/csv"),
        ("doc", "application/msword"),
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("xls", "application/vnd.ms-excel"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("html", "text/html"),
        ("txt", "text/plain"),
        ("md", "text/markdown"),
    ],
)
def test_document_bytes_become_file_part(fmt: str, mime: str) -> None:
    document = {"document": {"format": fmt, "name": "report", "source": {"bytes": RAW}}}
    body, caught = convert([user(document)])
    part = {"type": "file", "file": {"file_data": f"data:{mime};base64,{B64}", "filename": f"report.{fmt}"}}
    assert body["messages"] == [{"role": "user", "content": [part]}]
    assert caught == []


def test_document_name_with_extension_is_kept() -> None:
    document = {"document": {"format": "md", "name": "Notes.MD", "source": {"bytes": RAW}}}
    body, _ = convert([user(document)])
    assert body["messages"][0]["content"][0]["file"]["filename"] == "Notes.MD"


def test_document_in_tool_result_moves_to_user_message() -> None:
    document = {"document": {"format": "pdf", "name": "r", "source": {"bytes": RAW}}}
    body, _ = convert([user(tool_result([{"text": "here"}, document]))])
    file_part = {
        "type": "file",
        "file": {"file_data": f"data:application/pdf;base64,{B64}", "filename": "r.pdf"},
    }
    assert body["messages"] == [
        {"role": "tool", "tool_call_id": "t1", "content": "here"},
        {"role": "user", "content": [file_part]},
    ]


# --------------------------------------------------------------------------- system prompt


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param({}, [], id="none"),
        pytest.param(
            {"system_prompt": "Be terse."}, [{"role": "system", "content": "Be terse."}], id="string"
        ),
        pytest.param(
            {"system_prompt": "ignored", "system_prompt_content": [{"text": "A"}, {"text": "B"}]},
            [{"role": "system", "content": "A"}, {"role": "system", "content": "B"}],
            id="content-preferred",
        ),
        pytest.param(
            {"system_prompt": "fallback", "system_prompt_content": []},
            [{"role": "system", "content": "fallback"}],
            id="empty-content-falls-back",
        ),
        pytest.param(
            {
                "system_prompt_content": [
                    {"text": "static rules"},
                    {"cachePoint": {"type": "default"}},
                    {"text": "dynamic"},
                    {"cachePoint": {"type": "default", "ttl": "5m"}},
                ]
            },
            [
                {"role": "system", "content": [text_part("static rules", cache_control=EPHEMERAL)]},
                {
                    "role": "system",
                    "content": [text_part("dynamic", cache_control={"type": "ephemeral", "ttl": "5m"})],
                },
            ],
            id="cache-points",
        ),
        pytest.param(
            {"system_prompt_content": [{"cachePoint": {"type": "default"}}, {"text": ""}, {"text": "x"}]},
            [{"role": "system", "content": "x"}],
            id="leading-cache-point-and-empty-text-dropped",
        ),
    ],
)
def test_system_prompt(kwargs: dict[str, Any], expected: list[Any]) -> None:
    body, caught = convert([user({"text": "hi"})], **kwargs)
    assert body["messages"] == [*expected, {"role": "user", "content": "hi"}]
    assert caught == []


# --------------------------------------------------------------------------- tools, tool choice, params


def test_tool_specs_send_only_name_description_and_json_schema() -> None:
    spec = {
        **WEATHER_SPEC,
        "outputSchema": {"json": {"type": "object"}},
        "annotations": {"readOnlyHint": True},
    }
    body, _ = convert([user({"text": "hi"})], tool_specs=[spec])
    assert body == {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [WEATHER_TOOL],
        "stream": True,
    }


@pytest.mark.parametrize(
    ("tool_choice", "expected"),
    [
        ({"auto": {}}, "auto"),
        ({"any": {}}, "required"),
        ({"tool": {"name": "get_weather"}}, {"type": "function", "function": {"name": "get_weather"}}),
    ],
)
def test_tool_choice(tool_choice: Any, expected: Any) -> None:
    request = to_chat_request(
        [user({"text": "hi"})], model_id="m", tool_specs=[WEATHER_SPEC], tool_choice=tool_choice
    )
    assert request.tool_choice == expected
    assert request.to_body()["tool_choice"] == expected


@pytest.mark.parametrize("tool_specs", [None, []])
def test_no_tool_specs_omit_tools_and_tool_choice(tool_specs: Any) -> None:
    request = to_chat_request(
        [user({"text": "hi"})], model_id="m", tool_specs=tool_specs, tool_choice={"any": {}}, stream=False
    )
    assert request.tools is None
    assert request.tool_choice is None
    assert request.to_body() == {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def test_params_are_spread_last_and_win() -> None:
    params = {
        "temperature": 0,
        "max_tokens": 100,
        "response_format": {"type": "json_object"},
        "tool_choice": "none",
        "stream": False,
    }
    request = to_chat_request(
        [user({"text": "hi"})],
        model_id="gpt-4o",
        tool_specs=[WEATHER_SPEC],
        tool_choice={"auto": {}},
        params=params,
    )
    assert request.to_body() == {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [WEATHER_TOOL],
        "tool_choice": "none",
        "temperature": 0,
        "max_tokens": 100,
        "response_format": {"type": "json_object"},
        "stream": True,
    }
    assert request.stream is True
    assert dict(request.params) == {
        "temperature": 0,
        "max_tokens": 100,
        "response_format": {"type": "json_object"},
    }
    assert params["stream"] is False  # the caller's mapping is not modified


def test_contract_example_conversation() -> None:
    """The tool-using conversation of contract section 10 (observed OpenAIModel request)."""
    messages = [
        user({"text": "weather?"}),
        assistant(
            {"text": "calling"},
            {"toolUse": {"toolUseId": "call_0", "name": "get_weather", "input": {"city": "Rome"}}},
        ),
        user(tool_result([{"text": "sunny"}, {"json": {"t": 22}}], tool_id="call_0")),
        user({"text": "and Paris?"}),
    ]
    request = to_chat_request(
        messages,
        model_id="gpt-4o",
        tool_specs=[WEATHER_SPEC],
        system_prompt="Be terse.",
        tool_choice={"any": {}},
        params={"temperature": 0},
    )
    assert request.to_body() == {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": "calling",
                "tool_calls": [
                    {
                        "id": "call_0",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_0", "content": 'sunny\n{"t": 22}'},
            {"role": "user", "content": "and Paris?"},
        ],
        "tools": [WEATHER_TOOL],
        "tool_choice": "required",
        "temperature": 0,
        "stream": True,
    }


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("messages", "kwargs", "path"),
    [
        pytest.param([user({"text": "a"}), "hello"], {}, "messages[1]", id="message-not-a-dict"),
        pytest.param([{"role": "system", "content": []}], {}, "messages[0].role", id="unknown-role"),
        pytest.param([{"role": "user", "content": "hi"}], {}, "messages[0].content", id="content-not-a-list"),
        pytest.param([user({"text": "a"}, "b")], {}, "messages[0].content[1]", id="block-not-a-dict"),
        pytest.param([user({"text": 3})], {}, "messages[0].content[0].text", id="text-not-a-string"),
        pytest.param(
            [user({"toolUse": {"toolUseId": "t", "name": "f", "input": {}}})],
            {},
            "messages[0].content[0]",
            id="tool-use-in-user-message",
        ),
        pytest.param(
            [user({"text": "q"}), assistant(tool_result([]))],
            {},
            "messages[1].content[0]",
            id="tool-result-in-assistant",
        ),
        pytest.param(
            [user({"toolResult": {"status": "success", "content": []}})],
            {},
            "messages[0].content[0].toolResult",
            id="tool-result-without-id",
        ),
        pytest.param(
            [user(tool_result([{"json": {1, 2}}]))],
            {},
            "messages[0].content[0].toolResult.content[0]",
            id="json-not-serializable",
        ),
        pytest.param(
            [user({"image": {"format": "png", "source": {"bytes": "YWJj"}}})],
            {},
            "messages[0].content[0].image.source.bytes",
            id="image-bytes-not-bytes",
        ),
        pytest.param(
            [user({"text": "a"})], {"tool_choice": {"none": {}}}, "tool_choice", id="bad-tool-choice"
        ),
        pytest.param(
            [user({"text": "a"})],
            {"tool_specs": [{"name": "f", "description": "d", "inputSchema": {"type": "object"}}]},
            "tool_specs[0].inputSchema",
            id="schema-not-under-json",
        ),
        pytest.param(
            [user({"text": "a"})], {"system_prompt_content": ["x"]}, "system_prompt_content[0]", id="system"
        ),
        pytest.param("hello", {}, "messages", id="messages-not-a-list"),
        pytest.param(
            [user({"citationsContent": "Paris"})], {}, "messages[0].content", id="malformed-payload"
        ),
    ],
)
def test_bad_input_names_the_path(messages: Any, kwargs: dict[str, Any], path: str) -> None:
    if "tool_choice" in kwargs:
        kwargs["tool_specs"] = [WEATHER_SPEC]
    with pytest.raises(InvalidRequestError) as caught:
        to_chat_request(messages, model_id="m", **kwargs)
    assert caught.value.path == path
    assert str(caught.value).startswith(f"{path}: ")
