"""Question → ranked passages: dense chunks, dense sentences and BM25, fused by RRF.

Three rankings are joined by reciprocal rank fusion (score = Σ 1/(60 + rank)):
the chunk vectors (Chroma HNSW), the best-matching sentence inside each chunk
(the sentence collection, max-pooled per chunk) and BM25 keywords. Passages
whose text is nearly the same as a better-ranked one are dropped. Ties (equal
distances or fused scores, as near-duplicate articles give) are broken by id,
and a collection small enough is searched exhaustively (HNSW is approximate and
differs between processes), so the same question gets the same passages on every run.

``Retriever`` is a LangChain ``BaseRetriever``: ``invoke(question)`` returns
``Document``s with the passage metadata, usable in any LangChain chain, and
``retrieve`` returns the whole stage (``rag.models.Retrieval``: passages, and
every one of their sentences scored by its mean-centred cosine to the queries),
reported to callbacks as the same retriever run. It leaves out which sentences
answer (``rag.answer.evidence``) and whether to refuse (``rag.answer.refusal``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManager, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig, ensure_config
from pydantic import ConfigDict, PrivateAttr

from rag.retrieval import filters as row_filters
from rag.retrieval.centred import CentredSentences, centre
from rag.retrieval.filters import Filters
from rag.store.index import Index
from rag.retrieval.keyword import KeywordIndex
from rag.retrieval.question import holds_phrase
from rag.models import Passage, Retrieval, Sentence
from rag.retrieval.translate import romanised
from rag.text import char_tokens, detect_language, keyword_tokens, near_duplicate

RRF_K = 60
QUOTE_HITS = 3  # keyword hits per quoted phrase checked for holding it
# HNSW search is approximate: two processes asking the same index for the same n nearest can get
# different sets (seen: the nearest sentence missing from 180 of 594 in one process of four), and
# near-duplicate articles put many hits at almost the same distance. A collection of up to
# EXACT_UP_TO rows is asked for every row, which HNSW answers exactly; a larger one for twice as
# many as needed, the n nearest kept (ties by id).
OVERFETCH = 2
EXACT_UP_TO = 5000
SIGNALS = ("dense", "sentence", "keyword", "centred")
# Measured on the eval sets (hit@1 of the right article): sentence+keyword 0.79,
# dense+sentence+keyword 0.73, dense alone 0.72. Dense stays available.
DEFAULT_SIGNALS = ("sentence", "keyword")


def _passage(cid: str, text: str, meta: dict[str, Any], **scores: Any) -> Passage:
    return Passage(
        **scores,
        chunk_id=cid,
        doc_id=meta["doc_id"],
        title=meta.get("title", meta["doc_id"]),
        text=text,
        language=meta.get("language", "en"),
        outlet=meta.get("outlet"),
        published=meta.get("published"),
        url=meta.get("url"),
    )


def _read_store(index: Index) -> tuple[KeywordIndex, dict[str, np.ndarray], frozenset[str]]:
    """The keyword index of every chunk text, the language means and the articles' outlets and
    titles, of the newest generation."""
    ids, texts, labels = [], [], set()
    for cid, meta, extra in index.records(["documents"]):
        ids.append(cid)
        texts.append(extra["documents"])
        labels.update(meta.get(key) or "" for key in ("outlet", "title"))
    return KeywordIndex(ids, texts), index.language_means(), frozenset(labels)


@lru_cache(maxsize=4)
def _label_words(labels: frozenset[str]) -> frozenset[str]:
    """The keyword tokens of outlets and titles, and their Chinese words in pinyin ("Jiemian" for 界面新闻).
    Made on first use, not when the store is read: romanising loads CC-CEDICT (about 0.9 s)."""
    words = {t for label in labels for t in keyword_tokens(label)}
    words.update(w for label in labels for w in romanised(label))
    return frozenset(words)


def fetch_size(n: int, total: int) -> int:
    """How many rows to ask Chroma for, to keep the ``n`` nearest of a collection of ``total``."""
    return total if total <= EXACT_UP_TO else min(n * OVERFETCH, total)


def _by_distance(ids: list[str], distances: list[float]) -> list[int]:
    """Positions of a Chroma result by distance, equal distances (near-duplicate texts) by id.

    HNSW returns tied hits in no fixed order; this makes every run rank them alike.
    """
    return sorted(range(len(ids)), key=lambda i: (round(distances[i], 6), ids[i]))


class Retriever(BaseRetriever):
    """Hybrid retrieval over one ``Index``; build once, call from many threads."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: Index
    keywords: KeywordIndex
    k: int = 5
    candidates: int = 30
    signals: tuple[str, ...] = DEFAULT_SIGNALS
    dedup_threshold: float = 0.8
    language_means: dict[str, np.ndarray] = {}
    labels: frozenset[str] = frozenset()  # the articles' outlets and titles (``knows_label``)
    centred: CentredSentences | None = None  # the 'centred' signal's in-memory sentence matrix, when on
    _sizes: tuple[int, int] | None = PrivateAttr(None)  # (chunks, sentences), read once the store is not empty
    _generation: int | None = PrivateAttr(None)  # the generation the keyword index and sizes were read from
    _refreshing: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __init__(self, index: Index, keyword_index: KeywordIndex, **options: Any) -> None:
        super().__init__(index=index, keywords=keyword_index, **options)
        self._generation = index.generation

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
            self.keywords, self.language_means, self.labels = _read_store(self.index)
            if self.centred is not None:
                self.centred = CentredSentences.build(self.index, self.language_means)
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
        keywords, means, labels = _read_store(index)
        centred = CentredSentences.build(index, means) if "centred" in options.get("signals", ()) else None
        return cls(index, keywords, language_means=means, labels=labels, centred=centred, **options)

    def centre(self, vector: Sequence[float], language: str) -> np.ndarray:
        """``vector`` centred on its language's mean sentence vector (``rag.retrieval.centred.centre``)."""
        return centre(vector, self.language_means.get(language))

    def knows(self, word: str) -> bool:
        """Whether ``word`` occurs in the articles (the dictionary translation keeps only known words)."""
        return self.keywords.knows(word)

    def knows_label(self, word: str) -> bool:
        """Whether ``word`` names an article's outlet or is in its title ("Jiemian", "FT", "OKEx")."""
        tokens, words = keyword_tokens(word), _label_words(self.labels)
        return bool(tokens) and all(t in words for t in tokens)

    def embed_texts(self, texts: list[str]) -> list[list[float]]:
        """Vectors of ``texts`` with the store's embedder (answer claims, for the support check)."""
        return self.index.embeddings.embed_documents(texts)

    def _sentences(self, passages: Sequence[Passage], queries: Sequence[np.ndarray]) -> dict[str, list[Sentence]]:
        """The stored sentences of each passage, in passage order, each scored by its best
        mean-centred cosine to any query."""
        out: dict[str, list[Sentence]] = {}
        for cid, rows in self.index.sentences_of([p.chunk_id for p in passages]).items():
            out[cid] = []
            for s in rows:
                lang = detect_language(s["text"])
                v = self.centre(s["embedding"], lang)
                out[cid].append(Sentence(chunk_id=cid, text=s["text"], start=s["start"], end=s["end"], language=lang,
                                         embedding=s["embedding"], score=max((float(v @ q) for q in queries),
                                                                             default=-1.0)))
        return out

    def _dense(
        self, vector: list[float], n: int, where: dict | None = None
    ) -> tuple[list[str], dict[str, tuple[str, dict]], dict[str, float]]:
        fetch = fetch_size(n, self._store_sizes()[0])
        got = self.index.chunks.query(query_embeddings=[vector], n_results=fetch,
                                      include=["documents", "metadatas", "distances"], where=where)
        keep = _by_distance(got["ids"][0], got["distances"][0])[:n]
        ids = [got["ids"][0][i] for i in keep]
        rows = {got["ids"][0][i]: (got["documents"][0][i], got["metadatas"][0][i]) for i in keep}
        sims = {got["ids"][0][i]: 1.0 - got["distances"][0][i] for i in keep}
        return ids, rows, sims

    def _sentence(self, vector: list[float], n: int, where: dict | None = None) -> list[str]:
        fetch = fetch_size(n, self._store_sizes()[1])
        got = self.index.sentences.query(query_embeddings=[vector], n_results=fetch,
                                         include=["metadatas", "distances"], where=where)
        order: list[str] = []
        for i in _by_distance(got["ids"][0], got["distances"][0])[:n]:
            meta = got["metadatas"][0][i]
            if meta["chunk_id"] not in order:
                order.append(meta["chunk_id"])
        return order

    def _allowed(self, ids: list[str], where: dict | None) -> set[str] | None:
        """Of ``ids`` (keyword or centred hits), those whose metadata passes ``where`` (None: no filter)."""
        if where is None or not ids:
            return None
        return set(self.index.chunks.get(ids=ids, where=where, include=[])["ids"])

    def _filtered(self, ids: list[str], where: dict | None, n: int) -> list[str]:
        allowed = self._allowed(ids, where)
        return [c for c in ids if allowed is None or c in allowed][:n]

    def retrieve(
        self, question: str, k: int | None = None, translations: Sequence[str] = (), filters: Filters | None = None,
        config: RunnableConfig | None = None, *, with_sentences: bool = True, also_scored: Sequence[str] = (),
        phrases: Sequence[str] = (),
    ) -> Retrieval:
        """Rank passages for the question and each translation of it, fused into one list, with their
        scored sentences; ``filters`` (outlet, dates, language) apply to every signal. Callbacks in
        ``config`` see it as this retriever's run, ending with the passages as ``Document``s.
        ``with_sentences=False`` skips reading and scoring the sentences (passages only); ``also_scored``
        are further queries the sentences are scored against, not searched with (a follow-up's own words);
        the passages holding one of ``phrases`` (a quote the question repeats) come first, whatever their rank."""
        config = ensure_config(config)
        manager = CallbackManager.configure(config.get("callbacks"), None, inheritable_tags=config.get("tags"),
                                            local_tags=self.tags, inheritable_metadata=config.get("metadata"),
                                            local_metadata=self.metadata)
        run = manager.on_retriever_start(None, question, name=config.get("run_name") or self.get_name())
        try:
            result = self._retrieve(question, k or self.k, translations, filters, with_sentences, also_scored, phrases)
        except Exception as exc:
            run.on_retriever_error(exc)
            raise
        run.on_retriever_end(documents(result.passages))
        return result

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None,
        filters: Filters | None = None,
    ) -> list[Document]:
        """LangChain's entry point (``invoke``): the ranked passages as ``Document``s."""
        return documents(self._retrieve(query, k or self.k, (), filters, False).passages)

    def _retrieve(self, question: str, k: int, translations: Sequence[str], filters: Filters | None,
                  with_sentences: bool, also_scored: Sequence[str] = (), phrases: Sequence[str] = ()) -> Retrieval:
        where = row_filters.where(filters)
        self.refresh()
        total = self._store_sizes()[0]
        queries = list(dict.fromkeys([question, *(t for t in translations if t and t.strip())]))
        if total == 0:
            return Retrieval(question=question, queries=queries)
        t0 = time.perf_counter()
        vectors = [self.index.embeddings.embed_query(q) for q in queries]
        timings = {"embed_query": (time.perf_counter() - t0) * 1000}
        t0 = time.perf_counter()
        fused, rows, sims, keyword = self._fuse(queries, vectors, where, min(self.candidates, total))
        timings["search"] = (time.perf_counter() - t0) * 1000
        ordered = sorted(fused, key=lambda c: (-round(fused[c], 9), c))  # ties: by chunk id, every run alike
        quoting = [cid for phrase in phrases for cid, _ in self.keywords.search(phrase, QUOTE_HITS)]
        missing = [cid for cid in dict.fromkeys([*quoting, *ordered[: k * 3]]) if cid not in rows]
        if missing:
            got = self.index.chunks.get(ids=missing, include=["documents", "metadatas"])
            rows.update({cid: (got["documents"][i], got["metadatas"][i]) for i, cid in enumerate(got["ids"])})
        quoting = [cid for cid in quoting if cid in rows and holds_phrase(rows[cid][0], phrases)
                   and row_filters.matches(rows[cid][1], filters)]
        ordered = list(dict.fromkeys([*quoting, *ordered]))
        passages: list[Passage] = []
        taken: list[set[str]] = []  # character tokens of the passages taken so far
        for cid in ordered:
            if cid not in rows:
                continue
            text, meta = rows[cid]
            tokens = set(char_tokens(text))
            if any(near_duplicate(tokens, other, self.dedup_threshold) for other in taken):
                continue
            taken.append(tokens)
            passages.append(_passage(cid, text, meta, n=len(passages) + 1, score=fused[cid],
                                     keyword_score=keyword.get(cid), dense_score=sims.get(cid)))
            if len(passages) == k:
                break
        if with_sentences:  # centring only when sentences are scored
            extra = [q for q in dict.fromkeys(also_scored) if q and q not in queries]
            pairs = [*zip(queries, vectors), *zip(extra, (self.index.embeddings.embed_query(q) for q in extra))]
            sentences = self._sentences(passages, [self.centre(v, detect_language(q)) for q, v in pairs])
        else:
            sentences = {}
        return Retrieval(question=question, queries=queries, passages=passages, sentences=sentences,
                         timings_ms=timings)

    def _fuse(
        self, queries: Sequence[str], vectors: Sequence[list[float]], where: dict | None, n: int
    ) -> tuple[dict[str, float], dict[str, tuple[str, dict]], dict[str, float], dict[str, float]]:
        """Every signal's ranking for every query, fused by RRF: (fused scores, fetched rows,
        best dense similarity, the question's own keyword scores), by chunk id."""
        total, sentence_total = self._store_sizes()
        rankings: list[list[str]] = []
        rows: dict[str, tuple[str, dict]] = {}
        sims: dict[str, float] = {}
        keyword: dict[str, float] = {}
        for i, (query, vector) in enumerate(zip(queries, vectors)):
            dense_ids, dense_rows, dense_sims = self._dense(vector, n, where)
            rows.update(dense_rows)
            for cid, sim in dense_sims.items():
                sims[cid] = max(sim, sims.get(cid, -1.0))
            if "dense" in self.signals:
                rankings.append(dense_ids)
            if "sentence" in self.signals:
                rankings.append(self._sentence(vector, min(n * 3, sentence_total), where))
            if self.centred is not None:
                found = self.centred.search(self.centre(vector, detect_language(query)), n * (3 if where is None else 30))
                rankings.append(self._filtered(found, where, n * 3))
            if "keyword" in self.signals:
                hits = self.keywords.search(query, n if where is None else min(total, n * 10))
                kept = self._filtered([cid for cid, _ in hits], where, n)
                rankings.append(kept)
                if i == 0:
                    scored = dict(hits)
                    keyword = {cid: scored[cid] for cid in kept}
        fused: dict[str, float] = {}
        for ranking in rankings:
            for rank, cid in enumerate(ranking, start=1):
                fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank)
        return fused, rows, sims, keyword


def documents(passages: Sequence[Passage]) -> list[Document]:
    """Passages as LangChain ``Document``s: the text, and every passage field as metadata."""
    return [Document(page_content=p.text, id=p.chunk_id, metadata=p.model_dump(exclude={"text"}))
            for p in passages]
