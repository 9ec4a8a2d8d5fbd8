from __future__ import annotations

import json

import pytest

from strands_portkey.errors import (
    AuthenticationError,
    BadRequestError,
    ContextWindowExceededError,
    NotFoundError,
    OverloadedError,
    RateLimitError,
    ServerError,
    UpstreamError,
)
from strands_portkey.providers._errors import (
    ErrorFields,
    classify_error,
    classify_error_event,
    classify_error_response,
    classify_in_band_error,
    error_fields_from_body,
    error_fields_from_payload,
    infer_stream_error_status,
    retry_after_seconds,
)


def openai_body(
    message: str, *, code: str | None = None, type_: str | None = "invalid_request_error"
) -> bytes:
    return json.dumps({"error": {"message": message, "type": type_, "param": None, "code": code}}).encode()


@pytest.mark.parametrize(
    ("status", "headers", "body", "expected_class", "expected_code"),
    [
        (
            429,
            {"retry-after": "7"},
            openai_body("Rate limit reached", code="rate_limit_exceeded"),
            RateLimitError,
            "rate_limit_exceeded",
        ),
        (429, {}, b"", RateLimitError, None),
        (
            400,
            {},
            openai_body("slow down", code="rate_limit_exceeded"),
            RateLimitError,
            "rate_limit_exceeded",
        ),
        (400, {}, openai_body("Too Many Requests, please wait"), RateLimitError, None),
        (500, {}, openai_body("upstream Rate Limit hit"), RateLimitError, None),
        (
            529,
            {},
            json.dumps(
                {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
            ).encode(),
            OverloadedError,
            None,
        ),
        (503, {}, openai_body("The engine is currently overloaded"), OverloadedError, None),
        (503, {}, openai_body("busy", type_="overloaded_error"), OverloadedError, None),
        (503, {}, openai_body("Service Unavailable"), ServerError, None),
        (
            400,
            {},
            openai_body("too long", code="context_length_exceeded"),
            ContextWindowExceededError,
            "context_length_exceeded",
        ),
        (
            400,
            {},
            openai_body("This model's maximum context length is 8192 tokens"),
            ContextWindowExceededError,
            None,
        ),
        (
            400,
            {},
            json.dumps(
                {
                    "type": "error",
                    "error": {
                        "type": "invalid_request_error",
                        "message": "prompt is too long: 210000 tokens > 200000 maximum",
                    },
                }
            ).encode(),
            ContextWindowExceededError,
            None,
        ),
        (
            400,
            {},
            openai_body("input length and `max_tokens` exceed context limit"),
            ContextWindowExceededError,
            None,
        ),
        (413, {}, openai_body("Input is too long for requested model."), ContextWindowExceededError, None),
        (
            400,
            {},
            openai_body("The request exceeded customer model maximum of 4096"),
            ContextWindowExceededError,
            None,
        ),
        (
            400,
            {},
            json.dumps({"detail": "This model's maximum context length is 4096 tokens"}).encode(),
            ContextWindowExceededError,
            None,
        ),
        (500, {}, openai_body("maximum context length"), ServerError, None),  # context overflow is a 4xx only
        (
            401,
            {},
            openai_body("Incorrect API key provided", code="invalid_api_key"),
            AuthenticationError,
            "invalid_api_key",
        ),
        (403, {}, openai_body("Project does not have access"), AuthenticationError, None),
        (
            404,
            {},
            openai_body("The model `gpt-9` does not exist", code="model_not_found"),
            NotFoundError,
            "model_not_found",
        ),
        (
            422,
            {},
            json.dumps({"detail": [{"loc": ["body", "messages"], "msg": "field required"}]}).encode(),
            BadRequestError,
            None,
        ),
        (400, {}, openai_body("Invalid value: the sampling rate must be 16000"), BadRequestError, None),
        (400, {}, openai_body("invalid tool schema"), BadRequestError, None),
        (500, {}, openai_body("The server had an error"), ServerError, None),
        (502, {}, b"<html><body>Bad gateway</body></html>", ServerError, None),
        (302, {}, b"", UpstreamError, None),
    ],
)
def test_classification_table(
    status: int,
    headers: dict[str, str],
    body: bytes,
    expected_class: type[UpstreamError],
    expected_code: str | None,
) -> None:
    error = classify_error_response("openai", status, headers, body)
    assert type(error) is expected_class
    assert error.status_code == status
    assert error.provider == "openai"
    assert error.code == expected_code
    assert error.message.startswith("openai error: ")


def test_word_rate_alone_is_not_throttling() -> None:
    error = classify_error_response("openai", 400, {}, openai_body("learning rate must be positive"))
    assert not isinstance(error, RateLimitError)
    assert isinstance(error, BadRequestError)


def test_message_reads_like_provider_error() -> None:
    error = classify_error_response("openai", 401, {}, openai_body("Incorrect API key provided"))
    assert error.message == "openai error: Incorrect API key provided"
    assert str(error) == "openai error: Incorrect API key provided (provider=openai, status=401)"


def test_empty_body_uses_http_phrase() -> None:
    assert (
        classify_error_response("groq", 500, {}, b"").message == "groq error: HTTP 500 Internal Server Error"
    )
    assert classify_error_response("groq", 599, {}, b"").message == "groq error: HTTP 599"


def test_non_json_body_is_the_message() -> None:
    error = classify_error_response("vllm", 502, {}, b"  upstream connect error  ")
    assert error.message == "vllm error: upstream connect error"


def test_long_text_is_truncated() -> None:
    error = classify_error_response("openai", 500, {}, b"x" * 5000)
    assert error.message == "openai error: " + "x" * 500 + "..."


def test_secrets_are_scrubbed_from_message() -> None:
    body = openai_body("Incorrect API key provided: sk-live-abcdef123456")
    error = classify_error_response("openai", 401, {}, body, secrets=["sk-live-abcdef123456"])
    assert "sk-live" not in error.message
    assert "[REDACTED]" in error.message


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"Retry-After": "2.5"}, 2.5),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"x-ms-retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after-ms": "100", "retry-after": "9"}, 0.1),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, None),
        ({"retry-after-ms": "soon", "retry-after": "3"}, 3.0),
        ({"retry-after": "-1"}, None),
        ({"retry-after": "nan"}, None),
        ({}, None),
    ],
)
def test_retry_after_seconds(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(headers) == expected


def test_rate_limit_carries_retry_after() -> None:
    error = classify_error_response(
        "openai", 429, {"retry-after-ms": "1200"}, openai_body("Rate limit reached")
    )
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 1.2


def test_rate_limit_with_http_date_retry_after_has_none() -> None:
    error = classify_error_response("openai", 429, {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, b"")
    assert isinstance(error, RateLimitError)
    assert error.retry_after is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (openai_body("boom", code="c1", type_="t1"), ErrorFields("boom", "c1", "t1")),
        (b'{"error": "plain text error"}', ErrorFields("plain text error")),
        (b'{"message": "portkey says no", "status": "failure"}', ErrorFields("portkey says no")),
        (b'{"detail": "Not Found"}', ErrorFields("Not Found")),
        (
            b'{"error": {"code": 429, "message": "Provider returned error"}}',
            ErrorFields("Provider returned error", "429"),
        ),
        (
            b'[{"error": {"code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED"}}]',
            ErrorFields("Resource exhausted", "429"),
        ),
        (
            b'{"error": {"type": "server_error"}}',
            ErrorFields('{"type": "server_error"}', None, "server_error"),
        ),
        (b'{"html-message": "Message: fetch failed"}', ErrorFields("Message: fetch failed")),
        (b'{"unexpected": 1}', ErrorFields('{"unexpected": 1}')),
        (b"not json", ErrorFields("not json")),
        (b"", ErrorFields("")),
    ],
)
def test_error_fields_from_body(body: bytes, expected: ErrorFields) -> None:
    assert error_fields_from_body(body) == expected


def test_classify_error_keyword_form() -> None:
    error = classify_error(
        provider="openai", status_code=429, message="slow", code=None, headers={"retry-after": "1"}
    )
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 1.0


@pytest.mark.parametrize(
    ("payload", "expected_status", "expected_class"),
    [
        ({"error": {"message": "Overloaded", "type": "overloaded_error"}}, 529, OverloadedError),
        ({"error": {"message": "Rate limit exceeded"}}, 429, RateLimitError),
        ({"error": {"message": "something broke"}}, 500, ServerError),
        ({"error": {"message": "Provider returned error", "code": 502}}, 502, ServerError),
        ({"error": {"message": "bad input"}, "status_code": 400}, 400, BadRequestError),
        ({"error": {"message": "hmm", "code": "server_error"}}, 500, ServerError),
        # provider error types name the status (Anthropic, Google, AWS event-stream exceptions)
        ({"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}}, 429, RateLimitError),
        (
            {"type": "error", "error": {"type": "invalid_request_error", "message": "no"}},
            400,
            BadRequestError,
        ),
        ({"error": {"message": "quota", "type": "RESOURCE_EXHAUSTED"}}, 429, RateLimitError),
        ({"error": {"message": "x", "type": "throttlingException"}}, 429, RateLimitError),
        ({"error": {"message": "x", "type": "validationException"}}, 400, BadRequestError),
        ({"error": {"message": "x", "type": "modelStreamErrorException"}}, 500, ServerError),
    ],
)
def test_in_band_errors_infer_status(
    payload: dict[str, object], expected_status: int, expected_class: type[UpstreamError]
) -> None:
    fields = error_fields_from_payload(payload)
    assert infer_stream_error_status(payload, fields) == expected_status
    error = classify_in_band_error("openai", payload)
    assert type(error) is expected_class
    assert error.status_code == expected_status


@pytest.mark.parametrize(
    "message",
    [
        "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
        "request (6031 tokens) exceeds the available context size (4096 tokens), try increasing it",
        "Input is too long for requested model.",
        "prompt is too long: 210000 tokens > 200000 maximum",
    ],
)
def test_context_overflow_phrases_of_native_providers(message: str) -> None:
    error = classify_error_response("p", 400, {}, openai_body(message))
    assert type(error) is ContextWindowExceededError


def test_error_event_with_plain_text_data() -> None:
    error = classify_error_event("anthropic", "Overloaded")
    assert isinstance(error, OverloadedError)
    assert error.message == "anthropic error: Overloaded"
    assert error.status_code == 529


DEEP = b"[" * 100_000


@pytest.mark.parametrize(
    ("status", "expected"), [(500, ServerError), (429, RateLimitError), (400, BadRequestError)]
)
def test_a_deeply_nested_error_body_is_classified_by_its_status(
    status: int, expected: type[UpstreamError]
) -> None:
    error = classify_error_response("openai", status, {}, DEEP)
    assert type(error) is expected
    assert error.message == "openai error: " + "[" * 500 + "..."  # the text, truncated


def test_a_deeply_nested_error_inside_a_json_error_body_is_the_message() -> None:
    body = b'{"error": {"message": ' + DEEP + b"}}"
    error = classify_error_response("openai", 503, {}, body)
    assert type(error) is ServerError
    assert error.message.startswith('openai error: {"error": {"message": [[[')


def test_a_deeply_nested_error_event_is_classified_as_text() -> None:
    error = classify_error_event("anthropic", "[" * 100_000)
    assert type(error) is ServerError
    assert error.status_code == 500
    assert error.message.endswith("[[[...")
