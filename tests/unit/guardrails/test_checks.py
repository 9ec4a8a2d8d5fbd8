"""Built-in checks called directly: verdicts, the ``not`` flag, errors, PII checksums, redaction."""

import asyncio

import httpx
import pytest

from strands_portkey.guardrails import CheckContext, ParameterError, default_registry
from strands_portkey.guardrails.pii import StreamRedactor, find_pii
from strands_portkey.types import ChatRequest
from strands_portkey.wire import HttpRequest, HttpResponse

REGISTRY = default_registry()


def run(
    check_id: str, text: str, params: dict, *, event="beforeRequestHook", metadata=None, send=None, model="m"
):
    definition = REGISTRY.get(check_id)
    assert definition is not None
    request = ChatRequest.from_body({"model": model, "messages": [{"role": "user", "content": text}]})
    context = CheckContext(event, request, [text], metadata=metadata, send=send)
    outcome = definition.run(context, definition.prepare(params))
    if asyncio.iscoroutine(outcome):
        outcome = asyncio.run(outcome)
    return outcome


@pytest.mark.parametrize(
    ("check", "text", "params", "verdict"),
    [
        ("default.containsCode", "```python\nprint(1)\n```", {"format": "Python"}, True),
        ("default.containsCode", "```sql\nselect 1\n```", {"format": "Python"}, False),
        ("default.containsCode", "no code", {"format": "SQL", "not": True}, True),
        ("default.alluppercase", "HELLO, WORLD 42", {}, True),
        ("default.alluppercase", "Hello", {}, False),
        ("default.alllowercase", "hello 42", {}, True),
        ("default.alllowercase", "hello", {"not": True}, False),
        ("default.notNull", "   ", {}, False),
        ("default.notNull", "x", {}, True),
        ("default.allowedRequestTypes", "x", {"allowedTypes": ["chatComplete"]}, True),
        ("default.allowedRequestTypes", "x", {"blockedTypes": "embed, chatComplete"}, False),
        ("default.regexMatch", "order 123", {"rule": r"\d+", "not": True}, False),
        ("default.sentenceCount", "", {"minSentences": 0, "maxSentences": 0}, True),
        ("default.endsWith", "the end.", {"suffix": "end"}, True),
        ("default.jsonKeys", '{"a": {"b": 1}}', {"keys": ["b"], "operator": "any"}, False),
    ],
)
def test_builtin_verdicts(check, text, params, verdict) -> None:
    assert run(check, text, params).verdict is verdict


def test_metadata_keys_only_for_before_hooks() -> None:
    params = {"metadataKeys": ["user"], "operator": "all"}
    assert run("default.requiredMetadataKeys", "x", params, metadata={"user": "u"}).verdict is True
    with pytest.raises(ValueError, match="before_request_hooks"):
        run("default.requiredMetadataKeys", "x", params, event="afterRequestHook")


def test_model_allow_list_reads_the_request_model() -> None:
    assert run("default.modelWhitelist", "x", {"models": ["gpt-4o"]}, model="gpt-4o").verdict is True
    assert run("default.modelWhitelist", "x", {"models": ["gpt-4o"]}, model="o3").verdict is False


@pytest.mark.parametrize(
    ("check", "params", "message"),
    [
        ("default.regexMatch", {}, "'rule' is required"),
        ("default.contains", {"words": "abc", "operator": "any"}, "list of strings"),
        ("default.wordCount", {"minWords": 5, "maxWords": 1}, "greater than"),
        ("default.characterCount", {"minCharacters": 1.5, "maxCharacters": 3}, "integer"),
        ("default.endsWith", {"suffix": ""}, "must not be empty"),
        ("default.webhook", {"webhookURL": "ftp://x"}, r"http\(s\) URL"),
        ("default.detectPII", {"categories": ["ssn"]}, "categories"),
        ("default.allowedRequestTypes", {"allowedTypes": ["a"], "blockedTypes": ["a"]}, "both"),
        ("default.regexMatch", {"rule": "x", "not": "yes"}, "true or false"),
    ],
)
def test_parameters_are_validated(check, params, message) -> None:
    definition = REGISTRY.get(check)
    assert definition is not None
    with pytest.raises(ParameterError, match=message):
        definition.prepare(params)


@pytest.mark.parametrize(
    ("text", "categories"),
    [
        ("mail jane.doe+x@mail.example.co.uk now", ["email"]),
        ("call +1 415 555 0100 today", ["phone"]),
        ("card 4111-1111-1111-1111", ["credit_card"]),
        ("pay DE89 3704 0044 0532 0130 00 please", ["iban"]),
        ("iban GB82WEST12345698765432", ["iban"]),
    ],
)
def test_pii_found(text, categories) -> None:
    assert [category for _, _, category in find_pii(text)] == categories


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112",  # fails Luhn
        "pay DE89 3704 0044 0532 0130 01",  # fails mod-97
        "order 12345",  # too short for a phone number
        "version 1.2.3",
    ],
)
def test_pii_checksums_reject_lookalikes(text) -> None:
    assert [c for _, _, c in find_pii(text) if c in ("credit_card", "iban")] == []
    assert find_pii(text, ["credit_card", "iban"]) == []


def test_detect_pii_redacts_only_when_asked() -> None:
    plain = run("default.detectPII", "write to a@b.io", {})
    assert (plain.verdict, plain.texts) == (False, None)
    redacted = run("default.detectPII", "write to a@b.io", {"redact": True})
    assert redacted.texts == ["write to [REDACTED_EMAIL]"]


@pytest.mark.parametrize("size", [1, 3, 7, 50])
def test_stream_redactor_matches_whole_text_redaction(size: int) -> None:
    text = ("x" * 90) + " card 4111 1111 1111 1111, mail a.b@example.com, iban DE89370400440532013000 end"
    redactor = StreamRedactor()
    out = "".join(redactor.feed(text[i : i + size]) for i in range(0, len(text), size)) + redactor.flush()
    assert out == run("default.detectPII", text, {"redact": True}).texts[0]
    assert redactor.redacted == 3


def test_valid_urls_probe_through_the_transport() -> None:
    probed: list[str] = []

    async def send(request: HttpRequest, timeout: float) -> HttpResponse:
        probed.append(f"{request.method} {request.url}")
        status = 200 if "good" in request.url else 404
        return HttpResponse(status, {}, b"")

    both = "see https://good.example/a and https://bad.example/b"
    assert run("default.validUrls", "see https://good.example/a", {}, send=send).verdict is True
    assert run("default.validUrls", both, {}, send=send).verdict is False
    assert probed[0] == "HEAD https://good.example/a"


def test_valid_urls_treats_transport_failures_as_invalid() -> None:
    async def send(request: HttpRequest, timeout: float) -> HttpResponse:
        raise httpx.ConnectError("refused")

    assert run("default.validUrls", "https://down.example", {}, send=send).verdict is False


def test_registry_rejects_bad_registrations_and_copies_independently() -> None:
    registry = default_registry()
    with pytest.raises(ValueError, match="plugin"):
        registry.register("nodot", lambda c, p: True)
    copy = registry.copy()
    copy.register("acme.x", lambda c, p: True)
    assert copy.get("acme.x") is not None
    assert registry.get("acme.x") is None


DEEP = "[" * 100_000


@pytest.mark.parametrize(
    "body", [DEEP.encode(), b'{"verdict": true, "data": ' + DEEP.encode() + b"}", b"\xff"]
)
def test_a_hostile_webhook_answer_is_the_check_s_error(body: bytes) -> None:
    async def send(request: HttpRequest, timeout: float) -> HttpResponse:
        return HttpResponse(200, {}, body)

    with pytest.raises(ValueError, match="webhook answer is not JSON"):
        run("default.webhook", "x", {"webhookURL": "https://hooks.example/v"}, send=send)


def test_json_checks_skip_a_deeply_nested_candidate() -> None:
    text = f'```json\n{DEEP}\n``` and ```json\n{{"a": 1}}\n```'
    assert run("default.jsonKeys", text, {"keys": ["a"], "operator": "any"}).verdict is True
