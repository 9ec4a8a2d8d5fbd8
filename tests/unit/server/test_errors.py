"""The one error table: status, body shape (OpenAI / Anthropic), Retry-After, route headers."""

import pytest

from strands_portkey.errors import (
    AuthenticationError,
    BadRequestError,
    BudgetExceededError,
    ConfigurationError,
    ContextWindowExceededError,
    CredentialsUnavailableError,
    GuardrailDeniedError,
    InvalidApiKeyError,
    InvalidRequestError,
    LimitExceededError,
    LimitsUnavailableError,
    OverloadedError,
    RateLimitError,
    RateLimitExceededError,
    RequestTimeoutError,
    ResourceNotFoundError,
    StreamInterruptedError,
    UpstreamConnectionError,
)
from strands_portkey.hook_results import HookResults
from strands_portkey.server.errors import (
    AddressRefusedError,
    ServerInputError,
    UnauthorizedError,
    error_reply,
    status_of,
)
from strands_portkey.types import RouteInfo


@pytest.mark.parametrize(
    ("error", "status", "kind"),
    [
        (BadRequestError("bad", status_code=422, provider="openai"), 422, "invalid_request_error"),
        (ContextWindowExceededError("long", code="context_length_exceeded"), 400, "invalid_request_error"),
        (AuthenticationError("no", status_code=403), 403, "authentication_error"),
        (RateLimitError("slow down", retry_after=2.5), 429, "rate_limit_error"),
        (LimitExceededError("budget", retry_after=10), 429, "rate_limit_error"),
        (RateLimitExceededError("over", retry_after=0.2, limit="rate_limits[0]"), 429, "rate_limit_error"),
        (BudgetExceededError("spent", limit="usage_limits[0]"), 412, "budget_exceeded"),
        (LimitsUnavailableError("redis is gone"), 503, "api_error"),
        (InvalidApiKeyError("unknown gateway API key"), 401, "authentication_error"),
        (OverloadedError("busy"), 529, "overloaded_error"),
        (RequestTimeoutError("late"), 408, "timeout_error"),
        (UpstreamConnectionError("refused"), 502, "api_error"),
        (StreamInterruptedError("cut"), 502, "api_error"),
        (ConfigurationError("bad weight", path="config.targets[0].weight"), 400, "invalid_request_error"),
        (InvalidRequestError("missing", path="request.model"), 400, "invalid_request_error"),
        (ServerInputError("too big", path="body", status=413), 413, "invalid_request_error"),
        (ServerInputError("not json", path="content-type", status=415), 415, "invalid_request_error"),
        (ResourceNotFoundError("no saved config"), 404, "not_found_error"),
        (CredentialsUnavailableError("none left"), 503, "api_error"),
        (UnauthorizedError("no key"), 401, "authentication_error"),
        (AddressRefusedError("private", path="x-portkey-custom-host"), 403, "permission_error"),
        (RuntimeError("boom"), 500, "api_error"),
    ],
)
def test_status_and_openai_type(error: BaseException, status: int, kind: str) -> None:
    reply = error_reply(error)
    assert reply.status == status == status_of(error)
    assert reply.body["error"]["type"] == kind


def test_openai_body_names_the_field_and_code() -> None:
    reply = error_reply(ConfigurationError("expected a number", path="x-portkey-config.targets[0].weight"))
    assert reply.body == {
        "error": {
            "message": "x-portkey-config.targets[0].weight: expected a number",
            "type": "invalid_request_error",
            "param": "x-portkey-config.targets[0].weight",
            "code": None,
        }
    }
    upstream = error_reply(
        ContextWindowExceededError("too long", provider="openai", code="context_length_exceeded")
    )
    assert upstream.body["error"]["code"] == "context_length_exceeded"
    assert upstream.body["provider"] == "openai"


def test_unexpected_errors_say_nothing_of_their_arguments() -> None:
    reply = error_reply(RuntimeError("sk-canary-0000 leaked?"))
    assert "canary" not in str(reply.body)


def test_rate_limits_carry_retry_after_in_whole_seconds() -> None:
    assert error_reply(RateLimitError("x", retry_after=2.1)).headers["retry-after"] == "3"
    assert error_reply(LimitExceededError("x", retry_after=0.2)).headers["retry-after"] == "1"
    assert "retry-after" not in error_reply(RateLimitError("x")).headers


def test_guardrail_denial_is_446_with_portkeys_hook_results() -> None:
    results = HookResults()
    error = GuardrailDeniedError("blocked", hook_results=results, stage="input", code="hooks_failed")
    reply = error_reply(error)
    assert reply.status == 446
    assert reply.body["error"]["type"] == "hooks_failed"
    assert reply.body["hook_results"] == results.to_dict()


def test_route_headers_ride_on_errors() -> None:
    error = RequestTimeoutError("late")
    error.route = RouteInfo(trace_id="t-err", provider="openai", last_used_option_index="config.targets[0]")
    headers = error_reply(error).headers
    assert headers["x-portkey-trace-id"] == "t-err"
    assert headers["x-portkey-last-used-option-index"] == "config.targets[0]"


def test_anthropic_shape() -> None:
    reply = error_reply(RateLimitError("slow", retry_after=1), "anthropic")
    assert reply.body == {"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}}
    assert reply.status == 429
