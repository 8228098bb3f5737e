"""Candidate search on mean-centred sentence vectors: exact, in memory.

Chroma's HNSW ranks raw e5 cosines, which favour any text in the question's
language (an English question pulls the English half of a bilingual article).
This ranking subtracts each language's mean sentence vector from every
sentence vector and from the question's, re-normalises, and ranks all
sentences exactly with one matrix product, returning chunk ids by their best
sentence. It is the ``centred`` retrieval signal; whether it is on is the
caller's choice (measured on the dev split, see evals/README.md).
What it leaves out: fusion, and keeping up with ingests (build a new one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from rag.store.index import Index
from rag.store.pages import rows
from rag.text import detect_language


def centre(vector: Sequence[float], mean: np.ndarray | None) -> np.ndarray:
    """``vector`` minus its language's mean sentence vector, re-normalised.

    Raw e5 cosines are compressed (0.75–0.95), run higher for Chinese, and favour
    any text in the question's language; subtracting each language's mean sentence
    vector (over the whole store) before the cosine removes most of that, so the
    score ranks across languages and one threshold per language can say "nothing
    relevant".
    """
    v = np.asarray(vector, dtype=np.float32)
    v = v - mean if mean is not None else v
    return v / (np.linalg.norm(v) or 1.0)


def centre_rows(vectors: np.ndarray, languages: Sequence[str], means: Mapping[str, np.ndarray]) -> np.ndarray:
    out = vectors.astype(np.float32, copy=True)
    for lang, mean in means.items():
        rows = np.fromiter((lg == lang for lg in languages), dtype=bool, count=len(languages))
        out[rows] -= mean
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms == 0, 1.0, norms)


class CentredSentences:
    """Every sentence vector of the store, centred per language, with its chunk id."""

    def __init__(self, chunk_ids: list[str], matrix: np.ndarray) -> None:
        self.chunk_ids = chunk_ids
        self.matrix = matrix

    @classmethod
    def build(cls, index: Index, means: Mapping[str, np.ndarray]) -> CentredSentences:
        chunk_ids, vectors, languages = [], [], []
        for _, meta, extra in rows(index.sentences, ["embeddings", "documents"]):
            chunk_ids.append(meta["chunk_id"])
            vectors.append(extra["embeddings"])
            languages.append(detect_language(extra["documents"]))
        matrix = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
        return cls(chunk_ids, centre_rows(matrix, languages, means) if len(vectors) else matrix)

    def search(self, centred_query: np.ndarray, n: int) -> list[str]:
        """Chunk ids in order of their best sentence, from the top ``n`` sentences."""
        if not self.chunk_ids:
            return []
        scores = self.matrix @ centred_query
        top = np.argsort(-scores, kind="stable")[:n]
        return list(dict.fromkeys(self.chunk_ids[i] for i in top))
