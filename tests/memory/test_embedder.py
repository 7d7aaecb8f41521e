"""The bundled MiniLM: one set of weights per process, however many embedders use it."""

from __future__ import annotations

import numpy as np

from longagent.memory import MiniLMEmbedder


def test_every_embedder_shares_the_loaded_weights(embedder: MiniLMEmbedder) -> None:
    # The reading, the ranking and the verifier each make an embedder when none is handed in.
    another = MiniLMEmbedder()
    assert another._load() is embedder._load()
    texts = ["Set number of tries to number.", "The default is to retry 20 times."]
    vectors = another.embed(texts)
    assert vectors.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(vectors, embedder.embed(texts))
