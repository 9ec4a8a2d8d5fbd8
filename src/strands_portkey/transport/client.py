"""``Transport``: the one object the data path sends through, whichever library is underneath.

One ``Transport`` belongs to one ``Gateway``. It keeps **one backend per running event loop**
(pooled connections are bound to the loop that opened them, and Strands runs each synchronous
``agent(...)`` call on a fresh loop; httpx discussion #2959), and beside each backend the loop's
admission gate (see :mod:`strands_portkey.admission`). Backends of loops that have closed are
dropped the next time one is created.

This is the boundary where network failures become gateway errors: each backend maps what it
knows, and anything else it raises (an invalid URL, an ``ExceptionGroup`` from a connector, a
library bug) is mapped here by :func:`.base.unexpected`, with the original as ``__cause__``. A
redirect answering a POST is reported, never followed. Status codes and bodies are left to the
provider adapters.

A ``guard`` (:class:`.base.EgressGuard`, the server's SSRF policy) is applied here to every
request, whichever backend sends it: httpx gets plain-``http`` URLs pinned to the checked
address; aiohttp resolves names through the guard, pinning ``http`` and ``https`` alike.
"""

from __future__ import annotations

import asyncio
import importlib.util
import ssl

from ..errors import GatewayError
from ..wire import HttpRequest, HttpResponse
from .base import (
    Backend,
    EgressGuard,
    StreamHandle,
    TransportSettings,
    guarded,
    redirect_error,
    unexpected,
)
from .gate import Gate
from .httpx import AsyncHTTPTransport, HttpxBackend

__all__ = ["Transport", "fast_client_installed"]

_SAFE_METHODS = frozenset({"GET", "HEAD"})


def fast_client_installed() -> bool:
    """True when aiohttp (the ``[fast]`` extra) can be imported."""
    return importlib.util.find_spec("aiohttp") is not None


class _LoopState:
    __slots__ = ("admission", "backend")

    def __init__(self, backend: Backend, admission: Gate | None) -> None:
        self.backend = backend
        self.admission = admission


class Transport:
    """Sends requests over pooled connections, one backend per running event loop.

    ``transport`` (an httpx transport, ``httpx.MockTransport`` in tests) forces the httpx
    backend; otherwise ``settings.client`` chooses (``"auto"``: aiohttp when installed).
    ``guard`` decides where requests may go (refusals raise before anything is sent).
    """

    def __init__(
        self,
        transport: AsyncHTTPTransport | None = None,
        settings: TransportSettings | None = None,
        guard: EgressGuard | None = None,
    ) -> None:
        self._custom_transport = transport
        self._guard = guard
        self.settings = settings or TransportSettings()
        choice = self.settings.client
        if transport is not None or choice == "httpx":
            self.client = "httpx"
        elif choice == "aiohttp" or fast_client_installed():
            self.client = "aiohttp"
        else:
            self.client = "httpx"
        self._loops: dict[asyncio.AbstractEventLoop, _LoopState] = {}
        self._tls: ssl.SSLContext | None = None  # built once: loading the CA bundle takes ~20 ms

    def __repr__(self) -> str:
        return f"Transport(client={self.client!r})"

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None or state.backend.is_closed:
            limit = self.settings.admission_limit
            state = _LoopState(self._new_backend(), Gate(limit) if limit else None)
            for stale in [other for other in self._loops if other.is_closed()]:
                self._loops.pop(stale).backend.abandon()
            self._loops[loop] = state
        return state

    def _new_backend(self) -> Backend:
        if self.client == "aiohttp":
            from .aiohttp import AiohttpBackend, tls_context

            if self._tls is None:
                self._tls = tls_context()
            return AiohttpBackend(self.settings, self._tls, self._guard)
        return HttpxBackend(self.settings, self._custom_transport)

    def admission(self) -> Gate | None:
        """The running loop's admission gate (None when admission is off)."""
        return self._state().admission

    async def send(self, request: HttpRequest, *, timeout: float | None = None) -> HttpResponse:
        """Send and read the whole response. ``timeout`` bounds the entire attempt (seconds)."""
        try:
            if self._guard is not None:
                request = await guarded(request, self._guard, pin=self.client == "httpx")
            response = await self._state().backend.send(request, timeout)
        except GatewayError:
            raise
        except Exception as error:  # the boundary: nothing raw leaves the transport
            raise unexpected(request, error) from error
        status = response.status_code
        if 300 <= status < 400 and request.method not in _SAFE_METHODS:
            raise redirect_error(request, status, response.headers.get("location"))
        return response

    async def open_stream(self, request: HttpRequest) -> StreamHandle:
        """Send and return once the status and headers are in (the caller bounds the wait)."""
        try:
            if self._guard is not None:
                request = await guarded(request, self._guard, pin=self.client == "httpx")
            handle = await self._state().backend.open_stream(request)
        except GatewayError:
            raise
        except Exception as error:  # the boundary: nothing raw leaves the transport
            raise unexpected(request, error) from error
        status = handle.status_code
        if 300 <= status < 400 and request.method not in _SAFE_METHODS:
            await handle.aclose()
            raise redirect_error(request, status, handle.headers.get("location"))
        return handle

    async def aclose(self) -> None:
        """Close the current loop's backend; forget the others (their loops are gone or elsewhere)."""
        states, self._loops = self._loops, {}
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        for other, state in states.items():
            if other is not loop:
                state.backend.abandon()
        current = states.get(loop) if loop is not None else None
        if current is not None:
            await current.backend.aclose()
