import pytest

from strands_portkey.config.client_args import PORTKEY_HOSTED_URL, resolve_client_args
from strands_portkey.errors import ConfigurationError


def test_provider_with_authorization_calls_the_provider_directly() -> None:
    route = resolve_client_args({"provider": "openai", "Authorization": "Bearer sk-1"}, env={})
    assert dict(route.config) == {"provider": "openai", "api_key": "sk-1"}


def test_provider_with_custom_host_and_no_key() -> None:
    route = resolve_client_args({"provider": "ollama", "custom_host": "http://127.0.0.1:11434/v1"}, env={})
    assert dict(route.config) == {"provider": "ollama", "custom_host": "http://127.0.0.1:11434/v1"}


def test_virtual_key_becomes_a_virtual_key_target() -> None:
    route = resolve_client_args({"api_key": "pk-1", "virtual_key": "openai-vk"}, env={})
    assert dict(route.config) == {"virtual_key": "openai-vk"}
    assert route.portkey is not None
    assert route.portkey.base_url == PORTKEY_HOSTED_URL
    assert route.portkey.api_key is not None
    assert route.portkey.api_key.reveal() == "pk-1"


def test_base_url_sends_everything_to_that_portkey_gateway() -> None:
    route = resolve_client_args(
        {"base_url": "http://127.0.0.1:8787/v1/", "provider": "openai", "Authorization": "sk-x"}, env={}
    )
    assert dict(route.config) == {"provider": "portkey"}
    assert route.portkey is not None
    assert route.portkey.base_url == "http://127.0.0.1:8787/v1"
    assert dict(route.portkey.forwarded) == {"provider": "openai", "Authorization": "sk-x"}


def test_saved_config_id_needs_a_portkey_key() -> None:
    with pytest.raises(ConfigurationError, match=r"client_args.config: a saved config id"):
        resolve_client_args({"config": "pc-abc"}, env={})
    route = resolve_client_args({"config": "pc-abc", "api_key": "pk"}, env={})
    assert dict(route.config) == {"provider": "portkey"}
    assert route.portkey is not None
    assert route.portkey.forwarded["config"] == "pc-abc"


def test_config_dict_is_executed_locally() -> None:
    config = {"provider": "openai", "api_key": "sk"}
    assert resolve_client_args({"config": config}, env={}).config == config


def test_portkey_api_key_from_environment() -> None:
    route = resolve_client_args({}, env={"PORTKEY_API_KEY": "pk-env"})
    assert dict(route.config) == {"provider": "portkey"}


def test_trace_id_and_metadata_become_defaults() -> None:
    route = resolve_client_args(
        {"provider": "ollama", "trace_id": "t-1", "metadata": '{"user": "u1", "n": 2}'}, env={}
    )
    assert route.trace_id == "t-1"
    assert route.metadata == {"user": "u1", "n": "2"}


@pytest.mark.parametrize(
    ("client_args", "message"),
    [
        ({}, "client_args: client_args do not say where to send requests"),
        ("pk-123", "client_args: expected a dict of AsyncPortkey arguments, got str"),
        ({"provider": 5}, "client_args.provider: expected a string"),
        ({"provider": "openai", "metadata": "[1]"}, "client_args.metadata: expected a dict"),
        ({"provider": "openai", "metadata": {"a": {"b": 1}}}, "client_args.metadata.a: values must be"),
        ({"provider": "openai", "forward_headers": "x-a"}, "client_args.forward_headers: expected a list"),
        ({"provider": "openai", "request_timeout": -1}, "client_args.request_timeout: expected a positive"),
        ({"config": "{bad"}, "client_args.config: not valid JSON"),
    ],
)
def test_malformed_client_args_name_the_field(client_args: object, message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve_client_args(client_args, env={})  # type: ignore[arg-type]
    assert message in str(info.value)


def test_unknown_client_args_warn() -> None:
    with pytest.warns(UserWarning, match=r"\['not_a_portkey_arg'\] are not AsyncPortkey arguments"):
        resolve_client_args({"provider": "ollama", "not_a_portkey_arg": 1}, env={})


def test_reprs_hide_secrets() -> None:
    route = resolve_client_args(
        {"api_key": "pk-canary-9876", "Authorization": "Bearer sk-canary-5432"}, env={}
    )
    text = repr(route)
    assert "pk-canary-9876" not in text
    assert "sk-canary-5432" not in text


def test_metadata_nested_past_the_json_parser_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve_client_args({"provider": "ollama", "metadata": "[" * 100_000}, env={})
    assert info.value.path == "client_args.metadata"
