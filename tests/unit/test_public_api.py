import subprocess
import sys

import pytest

import strands_portkey

EXPECTED = {
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "ChatChunk",
    "ChatRequest",
    "ChatResponse",
    "ChatStream",
    "Client",
    "ConfigurationError",
    "ContextWindowExceededError",
    "ControlPlaneError",
    "CredentialsUnavailableError",
    "Gateway",
    "GatewayError",
    "GatewayOverloadedError",
    "GuardrailDeniedError",
    "InvalidRequestError",
    "MalformedResponseError",
    "NotFoundError",
    "OverloadedError",
    "PortkeyModel",
    "RateLimitError",
    "RequestCancelledError",
    "RequestTimeoutError",
    "RouteInfo",
    "ServerError",
    "StreamInterruptedError",
    "UpstreamConnectionError",
    "UpstreamError",
    "Usage",
}


def test_all_is_pinned() -> None:
    assert set(strands_portkey.__all__) == EXPECTED


def test_every_public_name_resolves() -> None:
    for name in strands_portkey.__all__:
        assert getattr(strands_portkey, name) is not None


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NotAThing"):
        strands_portkey.NotAThing  # noqa: B018


def test_import_is_lazy_about_strands_and_httpx() -> None:
    code = "import sys, strands_portkey; print(sorted(m for m in ('strands', 'httpx') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_error_is_a_gateway_error() -> None:
    for name in strands_portkey.__all__:
        value = getattr(strands_portkey, name)
        if isinstance(value, type) and name.endswith("Error"):
            assert issubclass(value, strands_portkey.GatewayError), name
