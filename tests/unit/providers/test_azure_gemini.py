from __future__ import annotations

import json
from typing import Any

import pytest

from strands_portkey import Gateway
from strands_portkey._strands_codec import to_chat_request
from strands_portkey.errors import ConfigurationError, InvalidRequestError
from strands_portkey.providers import get_adapter, known_providers
from strands_portkey.providers.azure import AzureOpenAIAdapter
from strands_portkey.providers.base import Target
from strands_portkey.providers.gemini import GeminiAdapter
from strands_portkey.types import ChatRequest
from strands_portkey.wire import Secret

AZURE = AzureOpenAIAdapter()
GEMINI = GeminiAdapter()


def request(**body: Any) -> ChatRequest:
    return ChatRequest.from_body({"model": "m", "messages": [{"role": "user", "content": "hi"}], **body})


# --------------------------------------------------------------------------- Azure OpenAI


def azure(
    options: dict[str, Any], key: str | None = "az-canary-key-1", base_url: str = "", env: Any = None
) -> Target:
    return AZURE.prepare_target(
        Target("azure-openai", base_url, Secret(key) if key else None, {}, options), env or {}
    )


def test_azure_deployment_url_api_version_and_key_header() -> None:
    target = azure({"azure_resource_name": "res", "azure_deployment_id": "gpt 4o"})
    http = AZURE.build_request(request(stream=True), target)
    assert (
        http.url
        == "https://res.openai.azure.com/openai/deployments/gpt%204o/chat/completions?api-version=2024-10-21"
    )
    assert http.headers["api-key"] == "az-canary-key-1"
    assert "authorization" not in http.headers
    assert http.json["stream_options"] == {"include_usage": True}
    assert "az-canary-key-1" in http.secrets
    assert "canary" not in repr(http) + repr(target)


def test_azure_v1_api_and_custom_host() -> None:
    v1 = AZURE.build_request(request(), azure({"azure_resource_name": "res"}))
    assert v1.url == "https://res.openai.azure.com/openai/v1/chat/completions"
    custom = azure(
        {"azure_api_version": "2025-01-01-preview"}, base_url="http://127.0.0.1:9/openai/deployments/d"
    )
    assert AZURE.build_request(request(), custom).url.endswith(
        "/d/chat/completions?api-version=2025-01-01-preview"
    )


def test_azure_entra_token_is_a_bearer_and_wins() -> None:
    target = azure({"azure_resource_name": "r", "azure_ad_token": Secret("entra-token-7")})
    http = AZURE.build_request(request(), target)
    assert http.headers["authorization"] == "Bearer entra-token-7"
    assert "api-key" not in http.headers
    from_env = azure({"azure_resource_name": "r"}, key=None, env={"AZURE_OPENAI_AD_TOKEN": "env-token-8"})
    assert AZURE.build_request(request(), from_env).headers["authorization"] == "Bearer env-token-8"


@pytest.mark.parametrize(
    ("config", "path", "match"),
    [
        ({"api_key": "k"}, "config.azure_resource_name", "azure_resource_name"),
        ({"azure_resource_name": "r"}, "config.api_key", "AZURE_OPENAI_API_KEY"),
        ({"azure_resource_name": "r", "azure_auth_mode": "entra"}, "config.azure_ad_token", "Entra ID token"),
    ],
)
def test_azure_configuration_errors_name_the_field(config: dict[str, Any], path: str, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match) as caught:
        Gateway({"provider": "azure-openai", **config}, env={})
    assert caught.value.path == path


# --------------------------------------------------------------------------- Gemini


def test_gemini_url_key_and_body() -> None:
    target = Target("google", "https://generativelanguage.googleapis.com/v1beta", Secret("g-canary-key-2"))
    http = GEMINI.build_request(
        request(
            model="models/gemini-2.5-flash",
            stream=True,
            messages=[
                {"role": "system", "content": "Be brief."},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "look"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,QUJD"}},
                    ],
                },
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                        },
                        {"id": "c2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": '{"sky": "clear"}'},
                {"role": "tool", "tool_call_id": "c2", "content": "noon"},
            ],
            tools=[
                {
                    "type": "function",
                    "function": {"name": "get_weather", "description": "w", "parameters": {"type": "object"}},
                }
            ],
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
            max_tokens=20,
            temperature=0,
            top_k=3,
            stop="END",
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "x", "schema": {"type": "object", "required": ["a"]}},
            },
            safetySettings=[{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
            stream_options={"include_usage": True},
        ),
        target,
    )
    assert (
        http.url
        == "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    )
    assert http.headers["x-goog-api-key"] == "g-canary-key-2"
    body = http.json
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert body["contents"][0]["parts"][1] == {"inlineData": {"mimeType": "image/png", "data": "QUJD"}}
    assert body["contents"][1]["parts"][0] == {
        "functionCall": {"name": "get_weather", "args": {"city": "Paris"}}
    }
    assert body["contents"][2]["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"sky": "clear"}}},
        {"functionResponse": {"name": "get_time", "response": {"result": "noon"}}},
    ]
    assert body["tools"] == [
        {
            "functionDeclarations": [
                {"name": "get_weather", "description": "w", "parametersJsonSchema": {"type": "object"}}
            ]
        }
    ]
    assert body["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}
    }
    assert body["generationConfig"] == {
        "temperature": 0,
        "topK": 3,
        "maxOutputTokens": 20,
        "stopSequences": ["END"],
        "responseMimeType": "application/json",
        "responseJsonSchema": {"type": "object", "required": ["a"]},
    }
    assert body["safetySettings"][0]["threshold"] == "BLOCK_NONE"
    assert "stream_options" not in body


def test_gemini_tool_result_without_a_call_names_the_field() -> None:
    with pytest.raises(InvalidRequestError, match="answers no tool call") as caught:
        GEMINI.build_request(
            request(messages=[{"role": "tool", "tool_call_id": "zz", "content": "x"}]), Target("google", "")
        )
    assert caught.value.path == "request.messages[0].tool_call_id"


def test_gemini_safety_block_without_candidates_is_content_filter() -> None:
    from strands_portkey.wire import HttpResponse

    body = json.dumps(
        {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 4}}
    ).encode()
    response = GEMINI.parse_response(HttpResponse(200, {}, body), request())
    assert response.finish_reason == "content_filter"
    assert response.text == ""


# --------------------------------------------------------------------------- history portability

HISTORY = [
    {"role": "user", "content": [{"text": "Weather in Paris?"}]},
    {
        "role": "assistant",
        "content": [
            {
                "reasoningContent": {
                    "reasoningText": {"text": "I should call the tool.", "signature": "sig-anthropic"}
                }
            },
            {"text": "Let me check."},
            {"toolUse": {"toolUseId": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}},
        ],
    },
    {
        "role": "user",
        "content": [
            {"toolResult": {"toolUseId": "toolu_1", "status": "success", "content": [{"text": "Sunny"}]}}
        ],
    },
    {"role": "assistant", "content": [{"text": "It is sunny."}]},
    {"role": "user", "content": [{"text": "And tomorrow?"}]},
]
SPEC = [{"name": "get_weather", "description": "w", "inputSchema": {"json": {"type": "object"}}}]


@pytest.mark.parametrize("provider", known_providers())
def test_a_history_from_one_provider_is_accepted_by_every_adapter(provider: str) -> None:
    """Tool calls, tool results and signed reasoning produced by one provider translate for every other."""
    chat = to_chat_request(HISTORY, model_id="m", tool_specs=SPEC, system_prompt="Be brief.")  # type: ignore[arg-type]
    adapter = get_adapter(provider)
    target = Target(provider, "http://127.0.0.1:9/v1", Secret("k"), {}, {"aws_region": "us-east-1"})
    if provider == "bedrock":
        target = Target(provider, "http://127.0.0.1:9", Secret("k"), {}, {"aws_region": "us-east-1"})
    sent = json.dumps(adapter.build_request(chat, target).json)
    assert "Paris" in sent
    assert "Sunny" in sent
    assert "And tomorrow?" in sent
    assert "get_weather" in sent
    signature_sent = "sig-anthropic" in sent
    assert signature_sent == (provider in ("anthropic", "bedrock"))  # only where signatures mean something
