"""The vectors of one semantic scope, searched by cosine similarity.

Small scopes are searched exactly: one float32 matrix-vector product with numpy (about 0.4 ms at
10,000 entries of 384 dimensions, on one thread). Past ``exact_limit`` entries a scope switches to an
approximate HNSW index from ``faiss`` (the ``[semantic-ann]`` extra; Meta's library, MIT, wheels
for every platform, maintained since 2017): a search then costs tens of microseconds whatever the
size. Without faiss the exact search simply continues, and a warning names the extra once.

Entries are never removed one by one (HNSW cannot): an expired or evicted entry stays until the
scope is compacted, and is filtered out of results by its expiry or by the store no longer
holding its response. A scope holding ``max_entries`` drops its oldest tenth (and every expired
entry) and is rebuilt.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from .embedders import Vectors

__all__ = ["ScopeIndex", "ann_available"]

_log = logging.getLogger("strands_portkey.cache")
_HNSW_LINKS = 32
_HNSW_EF_CONSTRUCTION = 64
_HNSW_EF_SEARCH = 64


def ann_available() -> bool:
    """True when faiss (the ``[semantic-ann]`` extra) can be imported."""
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


class ScopeIndex:
    """Vectors, entry keys and expiries of one scope (thread-safe)."""

    def __init__(self, dim: int, *, exact_limit: int, max_entries: int) -> None:
        import numpy as np

        self._np = np
        self.dim = dim
        self._exact_limit = exact_limit
        self._max = max_entries
        self._vectors = np.empty((64, dim), dtype=np.float32)
        self._expires = np.empty(64, dtype=np.float64)
        self._keys: list[str] = []
        self._signatures: list[str] = []
        self._ann: Any = None
        self._ann_missing = False
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def approximate(self) -> bool:
        """True once this scope is searched through the HNSW index."""
        return self._ann is not None

    def add(
        self, vectors: Vectors, keys: list[str], signatures: list[str], expires: list[float], now: float
    ) -> None:
        """Append entries (one vector row, signature and expiry per key).

        Crossing ``exact_limit`` builds the HNSW index (seconds at 10,000 entries): call this
        from a worker thread, as :class:`.semantic.SemanticCache` does.
        """
        np = self._np
        with self._lock:
            if len(self._keys) + len(keys) > self._max:
                self._compact(now, keep=max(self._max * 9 // 10 - len(keys), 0))
            start, end = len(self._keys), len(self._keys) + len(keys)
            if end > len(self._expires):
                self._expires = np.resize(self._expires, max(end, len(self._expires) * 2))
            self._expires[start:end] = expires
            self._keys.extend(keys)
            self._signatures.extend(signatures)
            if self._ann is not None:
                self._ann.add(np.ascontiguousarray(vectors, dtype=np.float32))
                return
            if end > len(self._vectors):
                self._vectors = np.resize(self._vectors, (max(end, len(self._vectors) * 2), self.dim))
            self._vectors[start:end] = vectors
            if end > self._exact_limit:
                self._build_ann(self._vectors[:end])

    def search(
        self,
        vector: Vectors,
        threshold: float,
        now: float,
        limit: int = 3,
        accept: Callable[[str], bool] | None = None,
    ) -> list[tuple[float, str]]:
        """Live entries at least ``threshold`` similar to ``vector``, most similar first.

        ``accept`` vets each candidate's signature (see :func:`.semantic.compatible`).
        """
        np = self._np
        with self._lock:
            count = len(self._keys)
            if count == 0:
                return []
            if self._ann is not None:
                scores, rows = self._ann.search(vector.reshape(1, -1), limit + 8)
                pairs = [(float(s), int(r)) for s, r in zip(scores[0], rows[0], strict=True) if r >= 0]
            else:
                # einsum, not @: a BLAS matrix-vector product spreads over threads that then spin,
                # and fights the embedder's onnxruntime threads (10x slower under load).
                all_scores = np.einsum("ij,j->i", self._vectors[:count], vector.reshape(-1))
                above = np.flatnonzero(all_scores >= threshold)
                best = above[np.argsort(-all_scores[above])[: limit + 8]]
                pairs = [(float(all_scores[r]), int(r)) for r in best]
            return [
                (score, self._keys[row])
                for score, row in pairs
                if score >= threshold
                and self._expires[row] > now
                and (accept is None or accept(self._signatures[row]))
            ][:limit]

    def _build_ann(self, matrix: Vectors) -> None:
        """Index ``matrix`` with HNSW; the numpy copy is then dropped (faiss keeps the vectors)."""
        try:
            import faiss
        except ImportError:
            if not self._ann_missing:
                self._ann_missing = True
                _log.warning(
                    "a semantic cache scope passed %d entries: install the [semantic-ann] extra "
                    "(faiss-cpu) for an approximate index; searching exactly meanwhile",
                    self._exact_limit,
                )
            return
        index = faiss.IndexHNSWFlat(self.dim, _HNSW_LINKS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = _HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = _HNSW_EF_SEARCH
        index.add(self._np.ascontiguousarray(matrix))
        self._ann = index
        self._vectors = self._np.empty((0, self.dim), dtype=self._np.float32)

    def _compact(self, now: float, keep: int) -> None:
        np = self._np
        count = len(self._keys)
        matrix = self._ann.reconstruct_n(0, count) if self._ann is not None else self._vectors[:count]
        live = np.flatnonzero(self._expires[:count] > now)[-keep:] if keep else np.empty(0, dtype=np.int64)
        self._vectors = (
            np.ascontiguousarray(matrix[live]) if len(live) else np.empty((64, self.dim), np.float32)
        )
        self._expires = self._expires[live] if len(live) else np.empty(64, dtype=np.float64)
        self._keys = [self._keys[int(row)] for row in live]
        self._signatures = [self._signatures[int(row)] for row in live]
        self._ann = None
        if len(self._keys) > self._exact_limit:
            self._build_ann(self._vectors[: len(self._keys)])
