"""The exact floor: brute-force cosine with numpy over every chunk and sentence vector of an index.

What it does: ``ExactSearch`` reads every vector of both collections once (timed
as ``load_s``), normalises them, and returns the exact top-n chunks and
sentences for a query vector; the query bench times it beside the HNSW
retriever and uses it as ground truth for HNSW recall.

What it leaves out: embedding the question (the caller does), fusion, keyword
search and any figure.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from rag.store.index import Index
from rag.store.pages import pages


class ExactSearch:
    """Brute-force cosine over every chunk and sentence vector of an index, held in memory."""

    def __init__(self, index: Index) -> None:
        t0 = time.perf_counter()
        self.embeddings = index.embeddings
        self.chunk_ids, self.chunk_docs, chunks = self._load(index.chunks)
        self.sentence_ids, self.sentence_chunks, sents = self._load(index.sentences, key="chunk_id")
        self.chunks = self._normalize(chunks)
        self.sentences = self._normalize(sents)
        self.load_s = round(time.perf_counter() - t0, 3)

    @staticmethod
    def _load(collection: Any, key: str = "doc_id") -> tuple[list[str], list[str], np.ndarray]:
        ids: list[str] = []
        keys: list[str] = []
        rows: list[Any] = []
        for page in pages(collection, ["metadatas", "embeddings"]):
            ids += page["ids"]
            keys += [m[key] for m in page["metadatas"]]
            rows.append(np.asarray(page["embeddings"], dtype=np.float32))
        return ids, keys, np.vstack(rows) if rows else np.zeros((0, 1), dtype=np.float32)

    @staticmethod
    def _normalize(m: np.ndarray) -> np.ndarray:
        norms = np.linalg.norm(m, axis=1, keepdims=True)
        return m / np.where(norms == 0, 1, norms)

    @staticmethod
    def top(matrix: np.ndarray, q: np.ndarray, n: int) -> np.ndarray:
        sims = matrix @ q
        n = min(n, len(sims))
        if n <= 0:
            return np.zeros(0, dtype=int)
        part = np.argpartition(-sims, n - 1)[:n]
        return part[np.argsort(-sims[part])]

    def search(self, vector: Sequence[float], n_chunks: int, n_sentences: int) -> tuple[np.ndarray, np.ndarray]:
        q = np.asarray(vector, dtype=np.float32)
        q = q / (np.linalg.norm(q) or 1.0)
        return self.top(self.chunks, q, n_chunks), self.top(self.sentences, q, n_sentences)
