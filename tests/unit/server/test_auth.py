"""Where the gateway key is read, and when Authorization carries a provider key instead."""

from strands_portkey.server.auth import CallerKey, NoAuth, caller_key, provider_key


class PrefixKeys:
    """A key scheme whose keys start with ``spk-`` (what claims() is for)."""

    def claims(self, token: str) -> bool:
        return token.startswith("spk-")

    async def authenticate(self, headers):  # pragma: no cover - not called here
        raise NotImplementedError


def test_portkey_api_key_header_wins_and_authorization_is_the_provider_key() -> None:
    headers = {"x-portkey-api-key": "spk-gw", "authorization": "Bearer spk-looks-like-ours"}
    assert caller_key(headers, PrefixKeys()) == CallerKey("spk-gw", "x-portkey-api-key")
    assert provider_key(headers, PrefixKeys()) == "spk-looks-like-ours"


def test_a_claimed_bearer_token_is_the_gateway_key_and_no_provider_key() -> None:
    headers = {"authorization": "Bearer spk-gw", "x-api-key": "other"}
    assert caller_key(headers, PrefixKeys()) == CallerKey("spk-gw", "authorization")
    assert provider_key(headers, PrefixKeys()) is None


def test_an_unclaimed_bearer_token_is_a_provider_key_and_x_api_key_the_gateway_key() -> None:
    headers = {"authorization": "bearer sk-openai", "x-api-key": "spk-gw"}
    assert caller_key(headers, PrefixKeys()) == CallerKey("spk-gw", "x-api-key")
    assert provider_key(headers, PrefixKeys()) == "sk-openai"


def test_without_auth_authorization_is_always_a_provider_key() -> None:
    headers = {"authorization": "Bearer spk-gw"}
    assert caller_key(headers, NoAuth()) is None
    assert provider_key(headers, NoAuth()) == "spk-gw"
    assert provider_key({"authorization": "Basic abc"}, NoAuth()) is None


def test_caller_key_repr_hides_the_key() -> None:
    assert "spk-secret" not in repr(CallerKey("spk-secret", "authorization"))
