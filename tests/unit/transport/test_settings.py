import pytest

from strands_portkey.errors import ConfigurationError
from strands_portkey.transport import Transport, TransportSettings, fast_client_installed


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("connect_timeout", 0),
        ("read_timeout", -1),
        ("total_timeout", 0),
        ("first_byte_timeout", "1"),
        ("admission_timeout", -0.5),
        ("max_connections", 0),
        ("max_keepalive_connections", -1),
        ("max_in_flight", -1),
        ("client", "requests"),
    ],
)
def test_an_invalid_setting_names_its_field(field: str, value: object) -> None:
    with pytest.raises(ConfigurationError, match=f"TransportSettings.{field}"):
        TransportSettings(**{field: value})  # type: ignore[arg-type]


def test_admission_defaults_to_the_pool_size_and_zero_turns_it_off() -> None:
    assert TransportSettings(max_connections=7).admission_limit == 7
    assert TransportSettings(max_connections=7, max_in_flight=3).admission_limit == 3
    assert TransportSettings(max_in_flight=0).admission_limit == 0


def test_the_client_choice() -> None:
    import httpx

    assert Transport(settings=TransportSettings(client="httpx")).client == "httpx"
    assert Transport(settings=TransportSettings(client="aiohttp")).client == "aiohttp"
    mock = httpx.MockTransport(lambda request: httpx.Response(200))
    assert (
        Transport(mock, TransportSettings(client="aiohttp")).client == "httpx"
    )  # a test transport is httpx's
    assert Transport().client == ("aiohttp" if fast_client_installed() else "httpx")
