from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest

from strands_portkey import Gateway
from strands_portkey.errors import (
    BadRequestError,
    ConfigurationError,
    MalformedResponseError,
    RateLimitError,
    StreamInterruptedError,
)
from strands_portkey.providers._eventstream import EventStreamDecoder, EventStreamError, encode_message
from strands_portkey.providers.base import Target
from strands_portkey.providers.bedrock import BedrockAdapter
from strands_portkey.types import ChatRequest
from strands_portkey.wire import Secret

from .wire_fixtures import BEDROCK, TEXT, WEATHER, br_event, br_exception

ADAPTER = BedrockAdapter()
KEY_ID, SECRET_KEY, TOKEN = "AKIDEXAMPLE", "canary-secret-key-9876", "canary-session-token-5432"
OPTIONS = {
    "aws_access_key_id": KEY_ID,
    "aws_secret_access_key": Secret(SECRET_KEY),
    "aws_region": "eu-west-1",
}


def target(**options: Any) -> Target:
    return ADAPTER.prepare_target(Target("bedrock", "", None, {}, {**OPTIONS, **options}), {})


def request(**body: Any) -> ChatRequest:
    return ChatRequest.from_body(
        {
            "model": "anthropic.claude-3-haiku-20240307-v1:0",
            "messages": [{"role": "user", "content": "hi"}],
            **body,
        }
    )


# --------------------------------------------------------------------------- event-stream framing


def test_decoder_handles_any_split() -> None:
    frames = b"".join(
        encode_message({":event-type": f"e{i}", "n": "v"}, f'{{"i":{i}}}'.encode()) for i in range(5)
    )
    for size in (1, 5, 13, len(frames)):
        decoder = EventStreamDecoder()
        messages = []
        for start in range(0, len(frames), size):
            messages += decoder.feed(frames[start : start + size])
        decoder.close()
        assert [m.headers[":event-type"] for m in messages] == [f"e{i}" for i in range(5)]
        assert [json.loads(m.payload)["i"] for m in messages] == list(range(5))


def test_truncated_frame_is_reported_with_its_size() -> None:
    frame = encode_message({":event-type": "x"}, b"{}")
    decoder = EventStreamDecoder()
    assert decoder.feed(frame[:-5]) == []
    with pytest.raises(
        EventStreamError, match=rf"truncated event-stream frame \({len(frame) - 5} of {len(frame)} bytes"
    ):
        decoder.close()


@pytest.mark.parametrize("position", [2, 20, -2])
def test_corrupted_bytes_fail_the_checksum(position: int) -> None:
    frame = bytearray(encode_message({":event-type": "x"}, b'{"a":1}'))
    frame[position] ^= 0xFF
    with pytest.raises(EventStreamError, match=r"checksum|impossible length"):
        EventStreamDecoder().feed(bytes(frame))


# --------------------------------------------------------------------------- targets and signing


def test_prepare_target_derives_the_regional_url_and_needs_credentials() -> None:
    assert target().base_url == "https://bedrock-runtime.eu-west-1.amazonaws.com"
    env_target = ADAPTER.prepare_target(
        Target("bedrock", ""),
        {"AWS_REGION": "us-west-2", "AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "S"},
    )
    assert env_target.base_url == "https://bedrock-runtime.us-west-2.amazonaws.com"
    with pytest.raises(ConfigurationError, match="needs a region") as caught:
        ADAPTER.prepare_target(Target("bedrock", "", None, {}, {"aws_access_key_id": "A"}), {})
    assert caught.value.path == "aws_region"


def test_gateway_names_the_json_path_of_missing_credentials() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Gateway(
            {"strategy": {"mode": "single"}, "targets": [{"provider": "bedrock", "aws_region": "us-east-1"}]},
            env={},
        )
    assert caught.value.path == "config.targets[0].aws_access_key_id"
    assert "AWS_BEARER_TOKEN_BEDROCK" in str(caught.value)


def _sigv4(  # noqa: PLR0917 - mirrors the algorithm's inputs
    method: str, url: str, headers: dict[str, str], body: bytes, signed: list[str], date: str
) -> str:
    """An independent SigV4 computation (AWS's published algorithm, stdlib only)."""
    parts = urlsplit(url)
    path = "/".join(
        quote(segment, safe="") for segment in parts.path.split("/")
    )  # encoded twice, as AWS says
    canonical_headers = "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in signed)
    canonical = "\n".join(
        [method, path, parts.query, canonical_headers, ";".join(signed), hashlib.sha256(body).hexdigest()]
    )
    scope = f"{date[:8]}/eu-west-1/bedrock/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = f"AWS4{SECRET_KEY}".encode()
    for part in (date[:8], "eu-west-1", "bedrock", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def test_sigv4_signature_verifies_independently() -> None:
    http = ADAPTER.build_request(request(), target(aws_session_token=Secret(TOKEN)))
    assert (
        http.url
        == "https://bedrock-runtime.eu-west-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
    )
    auth = http.headers["authorization"]
    credential, signed_headers, signature = (
        part.split("=", 1)[1] for part in auth.split(" ", 1)[1].split(", ")
    )
    assert credential.startswith(f"{KEY_ID}/")
    assert credential.endswith("/eu-west-1/bedrock/aws4_request")
    headers = {
        **{k.lower(): v for k, v in http.headers.items()},
        "host": "bedrock-runtime.eu-west-1.amazonaws.com",
    }
    assert {"host", "x-amz-date", "x-amz-security-token", "content-type"} <= set(signed_headers.split(";"))
    expected = _sigv4(
        "POST", http.url, headers, http.body_bytes(), signed_headers.split(";"), headers["x-amz-date"]
    )
    assert signature == expected
    assert SECRET_KEY in http.secrets
    assert TOKEN in http.secrets
    assert SECRET_KEY not in json.dumps(dict(http.headers))
    assert "canary" not in repr(http) + repr(target())


def test_bedrock_api_key_is_a_bearer_token_without_signing() -> None:
    bearer = ADAPTER.prepare_target(
        Target("bedrock", "", Secret("bedrock-api-key-1"), {}, {"aws_region": "us-east-1"}), {}
    )
    http = ADAPTER.build_request(request(stream=True), bearer)
    assert http.headers["authorization"] == "Bearer bedrock-api-key-1"
    assert http.headers["accept"] == "application/vnd.amazon.eventstream"
    assert http.url.endswith("/converse-stream")
    assert "x-amz-date" not in http.headers


# --------------------------------------------------------------------------- body


def test_converse_body() -> None:
    png = base64.b64encode(b"img").decode()
    pdf = base64.b64encode(b"%PDF").decode()
    body = ADAPTER.build_request(
        request(
            messages=[
                {
                    "role": "system",
                    "content": [{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "see"},
                        {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{png}"}},
                        {
                            "type": "file",
                            "file": {
                                "file_data": f"data:application/pdf;base64,{pdf}",
                                "filename": "q3 report.v2.pdf",
                            },
                        },
                    ],
                },
                {
                    "role": "assistant",
                    "content": None,
                    "thinking_blocks": [{"type": "thinking", "thinking": "t", "signature": "s"}],
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "Sunny"},
            ],
            tools=[
                {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
            ],
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
            max_tokens=50,
            temperature=0.2,
            top_p=0.9,
            stop=["X"],
            top_k=4,
            seed=3,
        ),
        target(),
    ).json
    assert body["system"] == [{"text": "sys"}, {"cachePoint": {"type": "default"}}]
    user = body["messages"][0]["content"]
    assert user[1] == {"image": {"format": "jpeg", "source": {"bytes": png}}}
    assert user[2]["document"] == {"format": "pdf", "name": "q3 report-v2", "source": {"bytes": pdf}}
    assert body["messages"][1]["content"] == [
        {"reasoningContent": {"reasoningText": {"text": "t", "signature": "s"}}},
        {"toolUse": {"toolUseId": "c1", "name": "get_weather", "input": {"city": "Paris"}}},
    ]
    assert body["messages"][2] == {
        "role": "user",
        "content": [{"toolResult": {"toolUseId": "c1", "content": [{"text": "Sunny"}]}}],
    }
    assert body["inferenceConfig"] == {
        "maxTokens": 50,
        "temperature": 0.2,
        "topP": 0.9,
        "stopSequences": ["X"],
    }
    assert body["toolConfig"]["toolChoice"] == {"tool": {"name": "get_weather"}}
    assert body["additionalModelRequestFields"] == {"top_k": 4}


# --------------------------------------------------------------------------- stream


def parse(data: bytes, **body: Any) -> list[Any]:
    parser = ADAPTER.stream_parser(request(**body))
    return parser.feed(data) + parser.close()


def test_stream_in_one_byte_pieces() -> None:
    whole = BEDROCK.calls_stream([WEATHER])
    parser = ADAPTER.stream_parser(request())
    chunks = [chunk for i in range(len(whole)) for chunk in parser.feed(whole[i : i + 1])] + parser.close()
    assert chunks == parse(whole)
    assert chunks[-1].usage is not None


def test_in_stream_exception_is_classified() -> None:
    with pytest.raises(RateLimitError, match="throttlingException"):
        parse(BEDROCK.stream_error)
    with pytest.raises(BadRequestError, match="validationException"):
        parse(br_event("messageStart", {"role": "assistant"}) + br_exception("validationException", "bad"))


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (br_event("surpriseEvent", {}), "bedrock sent an unknown event type 'surpriseEvent'"),
        (
            br_event("contentBlockDelta", {"contentBlockIndex": 3, "delta": {"toolUse": {"input": "{"}}}),
            "which never started",
        ),
        (br_event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"hologram": {}}}), "unknown delta"),
        (br_event("contentBlockDelta", {"contentBlockIndex": 0}), "unexpected shape"),
        (encode_message({":message-type": "event", ":event-type": "messageStop"}, b"{oops"), "not JSON"),
    ],
)
def test_unexpected_frames_are_clear_errors(frame: bytes, match: str) -> None:
    with pytest.raises(MalformedResponseError, match=match):
        parse(br_event("messageStart", {"role": "assistant"}) + frame)


def test_truncated_frame_interrupts_the_stream() -> None:
    whole = BEDROCK.text_stream(False)
    stop = whole.index(b"messageStop") - 30
    with pytest.raises(
        StreamInterruptedError, match=r"bedrock stream broke off: truncated event-stream frame"
    ):
        parse(whole[:stop])


async def test_gateway_streams_bedrock_text() -> None:
    def answer(req: httpx.Request) -> httpx.Response:
        assert req.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
        return httpx.Response(200, content=BEDROCK.text_stream(False))

    gateway = Gateway(
        {
            "provider": "bedrock",
            **{k: (v.reveal() if isinstance(v, Secret) else v) for k, v in OPTIONS.items()},
        },
        transport=httpx.MockTransport(answer),
        env={},
    )

    async with gateway.stream(request().to_body()) as stream:
        chunks = [chunk async for chunk in stream]
    await gateway.aclose()
    assert "".join(c.delta.content or "" for chunk in chunks for c in chunk.choices) == TEXT
