"""Bedrock key pairs in the vault: validated by a signed (unbilled) model listing, usable as virtual keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from strands_portkey import Gateway
from strands_portkey.controlplane import ControlPlane
from strands_portkey.controlplane.providers_api import Providers
from strands_portkey.errors import CredentialRejectedError, InvalidRequestError

from .conftest import MASTER, Clock

KEY_ID = "AKIAEXAMPLEKEY123456"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYcanary0001"
BODY = {"model": "anthropic.claude-3-haiku", "messages": [{"role": "user", "content": "hi"}]}


class Aws:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.refuse = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.refuse:
            return httpx.Response(
                403, json={"message": "The security token included in the request is invalid."}
            )
        if request.url.path == "/foundation-models":
            return httpx.Response(200, json={"modelSummaries": [{"modelId": "anthropic.claude-3-haiku"}]})
        return httpx.Response(
            200,
            json={
                "output": {"message": {"role": "assistant", "content": [{"text": "hello"}]}},
                "stopReason": "end_turn",
                "usage": {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4},
            },
        )


@pytest.fixture
def aws() -> Aws:
    return Aws()


@pytest.fixture
def plane(tmp_path: Path, aws: Aws) -> Iterator[ControlPlane]:
    cp = ControlPlane(
        f"sqlite:///{tmp_path / 'cp.db'}",
        env={"STRANDS_PORTKEY_HOME": str(tmp_path)},
        master_key=MASTER,
        transport=httpx.MockTransport(aws.handler),
        clock=Clock(),
    )
    yield cp
    cp.close()


def add_pair(providers: Providers, **kw: object) -> object:
    value = {"access_key_id": KEY_ID, "secret_access_key": SECRET}
    body = {"name": "aws-prod", "credentialType": "access_key_pair", "value": value}
    return providers.create_credential("bedrock", body, **kw)  # type: ignore[arg-type]


def test_a_key_pair_is_validated_by_a_signed_model_listing_in_the_providers_region(
    plane: ControlPlane, aws: Aws
) -> None:
    providers = Providers(plane)
    providers.create({"name": "bedrock", "region": "eu-west-1"})
    add_pair(providers)
    listing = aws.requests[-1]
    assert str(listing.url) == "https://bedrock.eu-west-1.amazonaws.com/foundation-models"
    assert listing.headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={KEY_ID}/")
    assert "/eu-west-1/bedrock/aws4_request" in listing.headers["authorization"]
    assert SECRET not in str(listing.headers)


def test_a_refused_pair_is_not_saved_and_the_secret_is_not_echoed(plane: ControlPlane, aws: Aws) -> None:
    providers = Providers(plane)
    providers.create({"name": "bedrock", "region": "eu-west-1"})
    aws.refuse = True
    with pytest.raises(CredentialRejectedError) as info:
        add_pair(providers)
    assert "HTTP 403" in str(info.value)
    assert SECRET not in str(info.value)
    assert providers.retrieve("bedrock").credentials == ()


def test_without_a_region_validation_says_what_to_set(plane: ControlPlane) -> None:
    providers = Providers(plane)
    providers.create({"name": "bedrock"})
    with pytest.raises(InvalidRequestError, match=r"provider\.region"):
        add_pair(providers)


async def test_a_stored_pair_works_as_a_virtual_key_with_sigv4(plane: ControlPlane, aws: Aws) -> None:
    providers = Providers(plane)
    providers.create({"name": "bedrock", "region": "eu-west-1"})
    add_pair(providers, validate=False)
    gateway = Gateway(
        {"virtual_key": "aws-prod"}, control_plane=plane, transport=httpx.MockTransport(aws.handler), env={}
    )
    response = await gateway.chat(BODY)
    assert response.text == "hello"
    call = aws.requests[-1]
    assert call.url.host == "bedrock-runtime.eu-west-1.amazonaws.com"
    assert call.url.path.endswith("/converse")
    assert call.headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={KEY_ID}/")
    assert SECRET not in repr(gateway)
