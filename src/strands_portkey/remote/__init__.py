"""The remote client: a server's control plane with the surface of ``Gateway()`` (see :mod:`.client`).

One module per resource (``ai_models``, ``provider_keys``, ``analytics``, ``providers``,
``api_keys``, ``configs``), each with an async class (the implementation, over
:class:`~.http.RemoteHTTP`) and a blocking one (the same calls run on the client's
:class:`~.portal.Portal`). Error answers become the library's exceptions in one place
(:mod:`.errors`); JSON becomes the control plane's own dataclasses in one place (:mod:`.decode`).
"""

from __future__ import annotations

from .client import API_KEY_ENV, BASE_URL_ENV, AsyncClient, Client

__all__ = ["API_KEY_ENV", "BASE_URL_ENV", "AsyncClient", "Client"]
