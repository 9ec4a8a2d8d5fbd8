"""The exact-cache key: a stable hash of what determines an answer, and nothing secret.

Two requests share an entry when, after ``override_params``, they ask the same thing (model,
messages, tools, tool choice, every other body field) of the same target (provider and host), in
the same cache namespace. The body's ``user`` and ``metadata`` fields are part of it, so answers
are never shared across the end users a caller tells apart. Streaming is not part of the key: a
streamed request can be answered from an entry a non-streamed one stored, and the reverse.
Credentials are never part of it, so a key (which may be logged, or stored in a shared Redis)
reveals nothing.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..types import ChatRequest

__all__ = ["KEY_VERSION", "exact_key"]

KEY_VERSION = "v1"
"""Bumped when the key's recipe changes, so old entries simply stop matching."""

_NOT_PART_OF_THE_ANSWER = frozenset({"stream", "stream_options"})


def exact_key(request: ChatRequest, *, provider: str, host: str, namespace: str | None) -> str:
    """``<namespace>:<sha256>`` (or just the hash) for ``request`` at ``provider`` / ``host``."""
    body: dict[str, Any] = {
        key: value for key, value in request.to_body().items() if key not in _NOT_PART_OF_THE_ANSWER
    }
    material = json.dumps(
        {"v": KEY_VERSION, "provider": provider, "host": host, "body": body},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    digest = hashlib.sha256(material.encode()).hexdigest()
    return f"{namespace}:{digest}" if namespace else digest
