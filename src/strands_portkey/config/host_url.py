"""The one check of a host URL a request will be sent to (``custom_host``, ``base_url``, ``baseUrl``).

A host is given once (in a config, ``client_args``, a registered model's route or a provider)
and used for every request; an invalid one must fail when it is given, with the field's path, not
later on each request as an HTTP-client error. Adapters append a path (``/chat/completions``) to
it, so a valid host is ``http(s)://host[:port][/path]``:

* scheme ``http`` or ``https``;
* a host name of ASCII letters, digits, ``-``, ``_`` and ``.`` (write an internationalised
  name in its ``xn--`` form), an IPv4 address, or an IPv6 address in brackets (``[::1]``);
* a port, if any, from 1 to 65535;
* no user name or password (credentials go in ``api_key`` / headers, never in a URL that is
  shown in reprs and logs), no query, no fragment, no spaces or control characters.

The check is pure (no DNS, no connection).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from ..errors import ConfigurationError

__all__ = ["check_host_url", "host_url_problem"]

_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)(?P<rest>.*)", re.DOTALL)
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
_NUMERIC = re.compile(r"[0-9.]+")
_EXAMPLE = "e.g. 'http://localhost:8080/v1'"


def host_url_problem(url: object) -> str | None:
    """Why ``url`` cannot be a host to send requests to, or None when it can."""
    if not isinstance(url, str):
        return f"expected a URL string, got {type(url).__name__}"
    if not url:
        return "must not be empty"
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        return f"must not contain spaces or control characters, got {url!r}"
    match = _URL.fullmatch(url)
    if match is None:
        return f"expected an http:// or https:// URL ({_EXAMPLE}), got {url!r}"
    scheme = match["scheme"].lower()
    if scheme not in ("http", "https"):
        return f"expected an http:// or https:// URL, got scheme {scheme!r}"
    problem = _authority_problem(match["authority"])
    if problem is not None:
        return f"{problem} in {url!r}"
    if "?" in match["rest"] or "#" in match["rest"]:
        return f"a host URL cannot carry a query or fragment (a path is appended to it), got {url!r}"
    return None


def check_host_url(url: object, path: str, *, error: Callable[..., Exception] = ConfigurationError) -> None:
    """Raise ``error(message, path=path)`` if ``url`` is given (not None) and is not a valid host URL."""
    if url is None:
        return
    problem = host_url_problem(url)
    if problem is not None:
        raise error(problem, path=path)


def _authority_problem(authority: str) -> str | None:
    if "@" in authority:
        return "credentials do not belong in a host URL (use api_key or a header)"
    if authority.startswith("["):
        host, bracket, port = authority[1:].partition("]")
        if not bracket:
            return "an IPv6 address needs its closing ']'"
        if "%" in host or not _is_ip(host, ipaddress.IPv6Address):
            return f"{host!r} is not an IPv6 address"
        if port and not port.startswith(":"):
            return "expected ':<port>' after the IPv6 address"
        return _port_problem(port[1:]) if port else None
    if authority.count(":") > 1:
        return "an IPv6 address goes in brackets, e.g. http://[::1]:8080"
    host, colon, port = authority.partition(":")
    if not host:
        return "the host name is missing"
    if _NUMERIC.fullmatch(host):
        if not _is_ip(host, ipaddress.IPv4Address):
            return f"{host!r} is not an IPv4 address"
    elif len(host) > 253 or not _HOST_NAME.fullmatch(host):
        return f"{host!r} is not a valid host name (letters, digits, '-', '_' and '.'; xn-- for others)"
    elif "xn--" in host.lower() and not _is_idna(host):
        return f"{host!r} has a label starting 'xn--' that is not a valid internationalised name"
    return _port_problem(port) if colon else None


def _port_problem(port: str) -> str | None:
    if not (port.isascii() and port.isdigit() and len(port) <= 5 and 1 <= int(port) <= 65535):
        return f"the port must be a number from 1 to 65535, got {port!r}"
    return None


def _is_idna(host: str) -> bool:
    """Whether the ``xn--`` labels of ``host`` decode as the HTTP client will decode them."""
    import idna  # the HTTP client's IDNA codec; loaded only for the rare punycode host

    try:
        idna.decode(host)
    except (idna.IDNAError, UnicodeError, ValueError):
        return False
    return True


def _is_ip(text: str, kind: type[ipaddress.IPv4Address] | type[ipaddress.IPv6Address]) -> bool:
    try:
        kind(text)
    except ValueError:
        return False
    return True
