"""The semantic cache: similar questions, asked in an otherwise identical conversation, share answers.

A request is split in two (:func:`semantic_parts`):

* the **scope**: everything except the text of the last user turn (model, params, tools, system
  prompt, earlier turns, target provider and host, cache namespace, the embedder's vector space),
  hashed. Two requests are only ever compared within one scope, so a different system prompt, tool
  set, temperature or earlier answer never gets a semantic hit.
* the **question**: the text of the last user turn, embedded.

Mean-pooled sentence embeddings barely see word order or figures: "convert miles to kilometers"
and "convert kilometers to miles" score 0.99, "15 percent of 200" and "20 percent of 200" close
to it. So each question also gets a short **signature** (hashes of its numbers, of its word
multiset, of its word sequence and of each content word; never the text): a candidate whose
numbers differ, whose words are the same in another order, or which swaps exactly one content
word for another, is not a hit whatever its similarity (see :func:`compatible`).

Only conversations with at most ``max_context_messages`` earlier non-system messages are matched
semantically (longer ones are near-unique; the exact cache still serves them), and only when the
last message is a user turn made of text. A hit needs cosine similarity >= ``threshold``.

Entries are shared through the store: the answer is stored under its exact key (so an exact hit
needs no embedding), and a small record (expiry, exact key, vector) is appended to the scope's
vector log when the store keeps one (SQLite, Redis): every gateway reading the same store learns
the new entries on its next lookup in that scope. With a store that keeps no log (the in-memory
store) the vectors live in this gateway only.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import struct
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..types import ChatRequest
from .embedders import Embedder, EmbedderUnavailableError, MiniLMEmbedder, OpenAIEmbedder, Send, Vectors
from .index import ScopeIndex
from .keys import KEY_VERSION

__all__ = [
    "DEFAULT_THRESHOLD",
    "SemanticCache",
    "SemanticSettings",
    "VectorLog",
    "compatible",
    "semantic_parts",
    "signature",
]

DEFAULT_THRESHOLD = 0.90
"""Chosen with ``benchmarks/cache.py`` on MiniLM: the lowest with <= 1 % false hits on near-misses."""

_log = logging.getLogger("strands_portkey.cache")
_RECORD_HEAD = struct.Struct(">dHB")
_RECENT = 64
_WORD = re.compile(r"\w+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_STOP_TEXT = (
    "a an the of to in on at for by with from and or is are was were be been am do does did can could "
    "should would will shall may might must i my me mine you your yours we our us it its this that "
    "these those what which who whom whose how when where why there here s t please tell me give"
)
_STOP_WORDS = frozenset(_STOP_TEXT.split())


@runtime_checkable
class VectorLog(Protocol):
    """A store that also keeps an append-only log of semantic records per scope (shared by processes)."""

    async def append_vector(self, scope: str, record: bytes, ttl_s: float) -> None:
        """Append ``record`` to the scope's log, kept at least ``ttl_s`` seconds."""
        ...

    async def read_vectors(self, scope: str, cursor: int) -> tuple[int, list[bytes], bool]:
        """Records after ``cursor``: ``(new_cursor, records, reset)``; ``reset`` means start over."""
        ...


@dataclass(frozen=True)
class SemanticSettings:
    """How ``mode: "semantic"`` caches match (``Gateway(semantic_cache=SemanticSettings(...))``).

    Args:
        threshold: Cosine similarity a stored question needs to answer a new one (0 < t <= 1).
        embedder: Turns questions into vectors (default: MiniLM int8, the ``[semantic]`` extra).
        max_context_messages: Earlier non-system messages a conversation may have to be matched
            semantically (they must match exactly); longer conversations use the exact cache only.
        exact_search_limit: Entries per scope searched exactly with numpy; past it, an HNSW index.
        max_entries: Entries per scope kept in the index (the oldest tenth is dropped beyond).
        clock: Wall-clock seconds for expiry (entries may be shared across processes).
    """

    threshold: float = DEFAULT_THRESHOLD
    embedder: Embedder | None = None
    max_context_messages: int = 4
    exact_search_limit: int = 10_000
    max_entries: int = 200_000
    clock: Callable[[], float] = field(default=time.time, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"SemanticSettings.threshold must be in (0, 1], got {self.threshold!r}")
        if self.max_context_messages < 0 or self.exact_search_limit < 1 or self.max_entries < 1:
            raise ValueError("SemanticSettings limits must be positive")


def _question(message: Any) -> str | None:
    if not isinstance(message, dict) or message.get("role") != "user":
        return None
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list) and content:
        texts = [
            part.get("text") for part in content if isinstance(part, dict) and part.get("type") == "text"
        ]
        if len(texts) == len(content) and all(isinstance(text, str) for text in texts):
            return "\n".join(str(text) for text in texts)
    return None


def semantic_parts(
    request: ChatRequest, *, provider: str, host: str, namespace: str | None, space: str, max_context: int
) -> tuple[str, str] | None:
    """``(scope, question)`` for ``request``, or None when it is not matched semantically."""
    if not request.messages:
        return None
    question = _question(request.messages[-1])
    if question is None or not question.strip():
        return None
    earlier = request.messages[:-1]
    if sum(1 for m in earlier if isinstance(m, dict) and m.get("role") != "system") > max_context:
        return None
    body = {k: v for k, v in request.to_body().items() if k not in ("stream", "stream_options")}
    last = {k: v for k, v in dict(request.messages[-1]).items() if k != "content"}
    body["messages"] = [*earlier, last]
    material = json.dumps(
        {"v": KEY_VERSION, "space": space, "provider": provider, "host": host, "body": body},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    digest = hashlib.sha256(material.encode()).hexdigest()
    return (f"{namespace}:sem:{digest}" if namespace else f"sem:{digest}"), question


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def signature(question: str) -> str:
    """Hashes of the question's numbers, word multiset, word sequence, and each content word."""
    words = _WORD.findall(question.lower())
    numbers = sorted(_NUMBER.findall(question))
    content = sorted({_digest(word)[:6] for word in words if word not in _STOP_WORDS})
    head = _digest(" ".join(numbers)) + _digest(" ".join(sorted(words))) + _digest(" ".join(words))
    return head + ":" + ",".join(content)


def compatible(first: str, second: str) -> bool:
    """Whether two questions may share an answer, judged by their signatures.

    Not when their numbers differ ("15 %" / "20 %"), when they hold the same words in another
    order ("miles to km" / "km to miles"), or when exactly one content word was swapped for
    another ("France" / "Germany", "open" / "close", "start" / "end"): those are the near-misses
    a sentence embedding scores as highly as a paraphrase.
    """
    head_a, _, words_a = first.partition(":")
    head_b, _, words_b = second.partition(":")
    if head_a[:8] != head_b[:8]:
        return False
    if head_a[8:16] == head_b[8:16] and head_a[16:] != head_b[16:]:
        return False
    set_a, set_b = set(filter(None, words_a.split(","))), set(filter(None, words_b.split(",")))
    return not (len(set_a - set_b) == 1 and len(set_b - set_a) == 1)


def encode_record(expires_at: float, key: str, sig: str, vector: Vectors) -> bytes:
    """One vector-log record: expiry (wall clock), the answer's exact key, signature, float32 vector."""
    raw_key, raw_sig = key.encode(), sig.encode()
    head = _RECORD_HEAD.pack(expires_at, len(raw_key), len(raw_sig))
    return head + raw_key + raw_sig + vector.astype("<f4").tobytes()


def decode_record(record: bytes) -> tuple[float, str, str, bytes]:
    """``(expires_at, key, signature, vector bytes)``; ValueError when the record is malformed."""
    try:
        expires_at, key_length, sig_length = _RECORD_HEAD.unpack_from(record)
        start = _RECORD_HEAD.size
        key = record[start : start + key_length].decode()
        sig = record[start + key_length : start + key_length + sig_length].decode()
    except (struct.error, UnicodeDecodeError) as error:
        raise ValueError(f"corrupt semantic record: {error}") from error
    vector = record[start + key_length + sig_length :]
    if not vector or len(vector) % 4:
        raise ValueError("corrupt semantic record: bad vector length")
    return expires_at, key, sig, vector


class SemanticCache:
    """The semantic side of one gateway's cache: its embedder (loaded once) and scope indexes."""

    def __init__(self, settings: SemanticSettings, store: object, send: Send | None = None) -> None:
        self.settings = settings
        embedder = settings.embedder or MiniLMEmbedder()
        if isinstance(embedder, OpenAIEmbedder) and send is not None:
            embedder = embedder.through(send)
        self._embedder: Embedder = embedder
        self._log = store if isinstance(store, VectorLog) else None
        self._scopes: dict[str, ScopeIndex] = {}
        self._cursors: dict[str, int] = {}
        self._recent: OrderedDict[str, Vectors] = OrderedDict()
        self._warned: set[str] = set()

    def __repr__(self) -> str:
        return f"SemanticCache(threshold={self.settings.threshold}, embedder={self._embedder!r})"

    @property
    def space(self) -> str:
        """The embedder's vector space (part of every scope)."""
        return self._embedder.name

    def parts(
        self, request: ChatRequest, *, provider: str, host: str, namespace: str | None
    ) -> tuple[str, str] | None:
        """``(scope, question)`` of a request, or None when it is not matched semantically."""
        return semantic_parts(
            request,
            provider=provider,
            host=host,
            namespace=namespace,
            space=self.space,
            max_context=self.settings.max_context_messages,
        )

    async def embed(self, question: str) -> Vectors | None:
        """The question's vector, or None when the embedder is unavailable (logged once).

        The last few vectors are remembered, so the leaves of one fallback embed a question once.
        """
        known = self._recent.get(question)
        if known is not None:
            return known
        try:
            vectors = await self._embedder.embed([question])
        except EmbedderUnavailableError as error:
            self.warn_once(
                "embedder", f"semantic cache embedder unavailable ({error}); matching exactly only"
            )
            return None
        vector: Vectors = vectors[0]
        self._recent[question] = vector
        if len(self._recent) > _RECENT:
            self._recent.popitem(last=False)
        return vector

    async def search(self, scope: str, question: str, vector: Vectors) -> list[tuple[float, str]]:
        """Exact keys of stored answers similar enough to ``vector``, most similar first."""
        if self._log is not None:
            await self._sync(scope)
        index = self._scopes.get(scope)
        if index is None:
            return []
        sig = signature(question)
        return await asyncio.to_thread(
            index.search,
            vector,
            self.settings.threshold,
            self.settings.clock(),
            accept=lambda other: compatible(sig, other),
        )

    async def add(self, scope: str, question: str, vector: Vectors, key: str, ttl_s: float) -> None:
        """Record that the answer under ``key`` answers ``question`` (shared when the store logs)."""
        expires_at = self.settings.clock() + ttl_s
        sig = signature(question)
        if self._log is not None:
            await self._log.append_vector(scope, encode_record(expires_at, key, sig, vector), ttl_s)
            return
        index = self._index(scope, len(vector))
        now = self.settings.clock()
        await asyncio.to_thread(index.add, vector.reshape(1, -1), [key], [sig], [expires_at], now)

    def _index(self, scope: str, dim: int) -> ScopeIndex:
        index = self._scopes.get(scope)
        if index is None or index.dim != dim:
            index = ScopeIndex(
                dim, exact_limit=self.settings.exact_search_limit, max_entries=self.settings.max_entries
            )
            self._scopes[scope] = index
        return index

    async def _sync(self, scope: str) -> None:
        assert self._log is not None
        import numpy as np

        start = self._cursors.get(scope, 0)
        cursor, records, reset = await self._log.read_vectors(scope, start)
        if self._cursors.get(scope, 0) != start:
            return  # a concurrent lookup in this scope synced meanwhile
        if reset:
            self._scopes.pop(scope, None)
        self._cursors[scope] = cursor
        rows, keys, sigs, expires = [], [], [], []
        for record in records:
            try:
                expires_at, key, sig, raw = decode_record(record)
            except ValueError as error:
                self.warn_once("record", f"skipping a corrupt semantic cache record ({error})")
                continue
            rows.append(np.frombuffer(raw, dtype="<f4"))
            keys.append(key)
            sigs.append(sig)
            expires.append(expires_at)
        if rows:
            dim = len(rows[0])
            keep = [i for i, row in enumerate(rows) if len(row) == dim]
            matrix = np.stack([rows[i] for i in keep]).astype(np.float32)
            await asyncio.to_thread(
                self._index(scope, dim).add,
                matrix,
                [keys[i] for i in keep],
                [sigs[i] for i in keep],
                [expires[i] for i in keep],
                self.settings.clock(),
            )

    def warn_once(self, what: str, message: str) -> None:
        """Log ``message`` the first time a problem of kind ``what`` happens in this gateway."""
        if what not in self._warned:
            self._warned.add(what)
            _log.warning("%s. Further problems of this kind are not logged.", message)
