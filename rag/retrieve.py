"""Question → ranked passages: dense chunks, dense sentences and BM25, fused by RRF.

Three rankings are joined by reciprocal rank fusion (score = Σ 1/(60 + rank)):
the chunk vectors (Chroma HNSW), the best-matching sentence inside each chunk
(the sentence collection, max-pooled per chunk) and BM25 keywords. Passages
whose text is nearly the same as a better-ranked one are dropped. Ties (equal
distances or fused scores, as near-duplicate articles give) are broken by id,
so the same question gets the same passages on every run. The result
carries the signals that say whether anything relevant was found; the refusal
decision itself belongs to the chain. No answer text is made here.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rag.index import Index
from rag.keyword import KeywordIndex
from rag.models import Language, Passage
from rag.text import char_tokens, detect_language

RRF_K = 60
# HNSW search is approximate, and near-duplicate articles put many hits at almost the same
# distance: asked for exactly n, two processes can get different sets. Asking for twice as many
# and keeping the n nearest (ties by id) gives every run the same n.
OVERFETCH = 2
SIGNALS = ("dense", "sentence", "keyword")
# Measured on the eval sets (hit@1 of the right article): sentence+keyword 0.79,
# dense+sentence+keyword 0.73, dense alone 0.72. Dense stays available.
DEFAULT_SIGNALS = ("sentence", "keyword")


@dataclass
class Retrieval:
    question: str
    language: Language
    passages: list[Passage]
    best_dense: float = 0.0  # highest cosine of the question to any chunk
    best_sentence: float = 0.0  # highest cosine of the question to any sentence
    vector: list[float] = field(default_factory=list)  # the question's embedding
    timings_ms: dict[str, float] = field(default_factory=dict)


def _near_duplicate(sa: set[str], sb: set[str], threshold: float) -> bool:
    """Jaccard overlap of two texts' character-token sets at or above ``threshold``."""
    return bool(sa and sb) and len(sa & sb) / len(sa | sb) >= threshold


def _passage(cid: str, text: str, meta: dict[str, Any]) -> Passage:
    return Passage(
        chunk_id=cid,
        doc_id=meta["doc_id"],
        title=meta.get("title", meta["doc_id"]),
        text=text,
        language=meta.get("language", "en"),
        outlet=meta.get("outlet"),
        published=meta.get("published"),
        url=meta.get("url"),
    )


def _read_store(index: Index) -> tuple[KeywordIndex, dict[str, np.ndarray]]:
    """The keyword index of every chunk text and the language means, of the newest generation."""
    ids, texts = [], []
    for cid, _, extra in index.records(["documents"]):
        ids.append(cid)
        texts.append(extra["documents"])
    return KeywordIndex(ids, texts), index.language_means()


def _by_distance(ids: list[str], distances: list[float]) -> list[int]:
    """Positions of a Chroma result by distance, equal distances (near-duplicate texts) by id.

    HNSW returns tied hits in no fixed order; this makes every run rank them alike.
    """
    return sorted(range(len(ids)), key=lambda i: (round(distances[i], 6), ids[i]))


class Retriever:
    """Hybrid retrieval over one ``Index``; build once, call from many threads."""

    def __init__(
        self,
        index: Index,
        keyword_index: KeywordIndex,
        *,
        k: int = 5,
        candidates: int = 30,
        signals: tuple[str, ...] = DEFAULT_SIGNALS,
        dedup_threshold: float = 0.8,
        language_means: dict[str, np.ndarray] | None = None,
    ) -> None:
        self.index = index
        self.keywords = keyword_index
        self.k = k
        self.candidates = candidates
        self.signals = signals
        self.dedup_threshold = dedup_threshold
        self.language_means = language_means or {}
        self._sizes: tuple[int, int] | None = None  # (chunks, sentences), read once the store is not empty
        self._generation = index.generation  # the generation the keyword index and sizes were read from
        self._refreshing = threading.Lock()

    def refresh(self) -> None:
        """Move the calling thread to the newest committed generation; re-read the store if it changed.

        Called at the start of every question, so a long-lived process follows ingests
        made by others between its questions.
        """
        generation = self.index.refresh().generation
        if generation == self._generation:
            return
        with self._refreshing:
            if generation == self._generation:
                return
            self.keywords, self.language_means = _read_store(self.index)
            self._sizes, self._generation = None, generation

    def _store_sizes(self) -> tuple[int, int]:
        """Rows in the chunk and sentence collections, read once like the keyword index (an ingest rebuilds both)."""
        if self._sizes is not None:
            return self._sizes
        sizes = (self.index.count(), self.index.sentences.count())
        if sizes[0]:
            self._sizes = sizes
        return sizes

    @classmethod
    def build(cls, index: Index, **options: Any) -> Retriever:
        """Read the store once: chunk texts for the keyword index; the language means (stored by the commit)."""
        keywords, means = _read_store(index)
        return cls(index, keywords, language_means=means, **options)

    def score_sentences(self, vector: list[float], language: str, sentences: dict[str, list[dict]]) -> float:
        """Give every sentence a ``score``: its per-language mean-centred cosine to the question.

        Raw e5 cosines are compressed (0.75–0.95), run higher for Chinese, and favour
        any text in the question's language; subtracting each language's mean sentence
        vector (over the whole store) before the cosine removes most of that, so the
        score ranks across languages and one threshold per language can say "nothing
        relevant". Returns the best score (-1 when there are no sentences).
        """

        def centre(v: np.ndarray, lang: str) -> np.ndarray:
            mean = self.language_means.get(lang)
            v = v - mean if mean is not None else v
            return v / (np.linalg.norm(v) or 1.0)

        q = centre(np.asarray(vector, dtype=np.float32), language)
        best = -1.0
        for sents in sentences.values():
            for s in sents:
                v = centre(np.asarray(s["embedding"], dtype=np.float32), detect_language(s["text"]))
                s["score"] = float(v @ q)
                best = max(best, s["score"])
        return best

    def _dense(self, vector: list[float], n: int) -> tuple[list[str], dict[str, tuple[str, dict]], dict[str, float]]:
        fetch = min(n * OVERFETCH, self._store_sizes()[0])
        got = self.index.chunks.query(query_embeddings=[vector], n_results=fetch,
                                      include=["documents", "metadatas", "distances"])
        keep = _by_distance(got["ids"][0], got["distances"][0])[:n]
        ids = [got["ids"][0][i] for i in keep]
        rows = {got["ids"][0][i]: (got["documents"][0][i], got["metadatas"][0][i]) for i in keep}
        sims = {got["ids"][0][i]: 1.0 - got["distances"][0][i] for i in keep}
        return ids, rows, sims

    def _sentence(self, vector: list[float], n: int) -> tuple[list[str], float]:
        fetch = min(n * OVERFETCH, self._store_sizes()[1])
        got = self.index.sentences.query(query_embeddings=[vector], n_results=fetch, include=["metadatas", "distances"])
        order: list[str] = []
        for i in _by_distance(got["ids"][0], got["distances"][0])[:n]:
            meta = got["metadatas"][0][i]
            if meta["chunk_id"] not in order:
                order.append(meta["chunk_id"])
        best = 1.0 - min(got["distances"][0]) if got["ids"][0] else 0.0
        return order, best

    def retrieve(self, question: str, k: int | None = None) -> Retrieval:
        k = k or self.k
        timings: dict[str, float] = {}
        self.refresh()
        total, sentence_total = self._store_sizes()
        result = Retrieval(question=question, language=detect_language(question), passages=[])
        if total == 0:
            return result
        t0 = time.perf_counter()
        vector = self.index.embeddings.embed_query(question)
        result.vector = vector
        timings["embed_query"] = (time.perf_counter() - t0) * 1000
        n = min(self.candidates, total)
        rankings: dict[str, list[str]] = {}
        rows: dict[str, tuple[str, dict]] = {}
        scores: dict[str, dict[str, float]] = {}
        t0 = time.perf_counter()
        dense_ids, rows, sims = self._dense(vector, n)
        result.best_dense = max(sims.values(), default=0.0)
        if "dense" in self.signals:
            rankings["dense"] = dense_ids
        if "sentence" in self.signals:
            rankings["sentence"], result.best_sentence = self._sentence(vector, min(n * 3, sentence_total))
        if "keyword" in self.signals:
            hits = self.keywords.search(question, n)
            rankings["keyword"] = [cid for cid, _ in hits]
            scores["keyword"] = dict(hits)
        timings["search"] = (time.perf_counter() - t0) * 1000
        fused: dict[str, float] = {}
        for ranking in rankings.values():
            for rank, cid in enumerate(ranking, start=1):
                fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank)
        ordered = sorted(fused, key=lambda c: (-round(fused[c], 9), c))  # ties: by chunk id, every run alike
        missing = [cid for cid in ordered[: k * 3] if cid not in rows]
        if missing:
            got = self.index.chunks.get(ids=missing, include=["documents", "metadatas"])
            rows.update({cid: (got["documents"][i], got["metadatas"][i]) for i, cid in enumerate(got["ids"])})
        kept: list[set[str]] = []  # character tokens of the passages taken so far
        for cid in ordered:
            if cid not in rows:
                continue
            text, meta = rows[cid]
            tokens = set(char_tokens(text))
            if any(_near_duplicate(tokens, other, self.dedup_threshold) for other in kept):
                continue
            kept.append(tokens)
            passage = _passage(cid, text, meta)
            passage.score = fused[cid]
            passage.keyword_score = scores.get("keyword", {}).get(cid)
            passage.dense_score = sims.get(cid)
            result.passages.append(passage)
            if len(result.passages) == k:
                break
        for i, p in enumerate(result.passages, start=1):
            p.n = i
        result.timings_ms = timings
        return result
