"""The HTTP transport: the only package that imports an HTTP client library (httpx, aiohttp).

* :mod:`.base` -- the seam: :class:`TransportSettings`, the ``Backend``, ``StreamHandle`` and
  ``EgressGuard`` protocols, the error rules every backend shares;
* :mod:`.client` -- :class:`Transport`, what the gateway sends through (one backend per event
  loop, the catch-all error boundary, redirects);
* :mod:`.aiohttp` -- the fast backend, the default when the ``[fast]`` extra is installed;
* :mod:`.httpx` -- the httpx backend: ``httpx.MockTransport`` in tests, a user's own httpx
  transport, or no extra installed;
* :mod:`.gate` -- the first-come, first-served gate behind admission and aiohttp's pool.
"""

from .base import EgressGuard, StreamHandle, TransportSettings
from .client import Transport, fast_client_installed
from .gate import Gate
from .httpx import AsyncHTTPTransport, GuardedHTTPTransport

__all__ = [
    "AsyncHTTPTransport",
    "EgressGuard",
    "Gate",
    "GuardedHTTPTransport",
    "StreamHandle",
    "Transport",
    "TransportSettings",
    "fast_client_installed",
]
