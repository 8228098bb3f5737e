"""Query-side figures: retrieval beside its references, answers, first piece, and a threaded load.

For every question of a fixed list (the eval datasets' questions, in file
order) the systems run back to back, in an order rotated per question so none
always goes first: the hybrid ``Retriever`` (the pipeline's own), the exact
floor (embed the question, then brute-force cosine with numpy over the same
chunk and sentence vectors, as many candidates as the retriever asks Chroma
for), the naive LangChain baseline (``langchain_chroma.Chroma`` over the same
chunks collection, ``similarity_search(k=5)``), and the same two over a Chroma
server when one is given. Every system embeds the question itself, so every
latency includes that. hit@5 is document level: a hit when any of the top 5
passages comes from a relevant article (the gold sources, plus synthetic
articles that contain a gold evidence quote); only answerable questions count.
HNSW recall@5 = |HNSW top 5 ∩ exact top 5| / 5, per collection.

What it leaves out: answer quality (that is ``rag eval``) and any assertion.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.bench.measure import Stats, summarize
from rag.chain import RagChain
from rag.errors import RagError
from rag.index import Index
from rag.models import Answer
from rag.retrieve import Retriever

Progress = Callable[[int, int, str], None]
K = 5


@dataclass
class Question:
    id: str
    question: str
    answerable: bool
    language: str
    sources: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    history: list[dict[str, str]] = field(default_factory=list)


def load_questions(datasets_dir: Path, limit: int | None = None) -> list[Question]:
    """Questions of every ``*.jsonl`` in ``datasets_dir`` (sorted by file name), first ``limit`` overall."""
    out: list[Question] = []
    for path in sorted(datasets_dir.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            out.append(
                Question(
                    id=f"{path.stem}:{row['id']}",
                    question=row["question"],
                    answerable=bool(row.get("answerable", True)),
                    language=row.get("language", "en"),
                    sources=list(row.get("sources", [])),
                    evidence=list(row.get("evidence", [])),
                    history=list(row.get("history", [])),
                )
            )
    return out[:limit] if limit else out


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
        offset = 0
        while True:
            page = collection.get(include=["metadatas", "embeddings"], limit=5000, offset=offset)
            if not page["ids"]:
                break
            ids += page["ids"]
            keys += [m[key] for m in page["metadatas"]]
            rows.append(np.asarray(page["embeddings"], dtype=np.float32))
            offset += len(page["ids"])
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


@dataclass
class SystemFigures:
    latency_ms: Stats
    hit_at_5: float | None


@dataclass
class QueryFigures:
    questions: int
    answerable: int
    systems: dict[str, SystemFigures]
    retrieval_parts_ms: dict[str, float]  # mean embed_query / search / fuse+fetch of the hybrid retriever
    floor_search_ms: Stats  # the numpy part of the floor alone
    hnsw_recall_at_5: dict[str, float | None]
    floor_load_s: float


def _doc_hit(docs: Sequence[str], relevant: set[str]) -> bool:
    return any(d in relevant for d in docs[:K])


def run_queries(
    retriever: Retriever,
    exact: ExactSearch,
    questions: Sequence[Question],
    relevant: dict[str, set[str]],
    *,
    server_retriever: Retriever | None = None,
    progress: Progress | None = None,
) -> QueryFigures:
    """Every question through every system, interleaved; latencies, hit@5 and HNSW recall."""
    from langchain_chroma import Chroma

    index = retriever.index
    total = index.count()
    n_chunks = min(retriever.candidates, total)
    n_sents = min(n_chunks * 3, index.sentences.count())

    def naive_over(ix: Index) -> Callable[[str], list[str]]:
        store = Chroma(client=ix.client, collection_name=ix.chunks.name, embedding_function=ix.embeddings)
        return lambda q: [d.metadata["doc_id"] for d in store.similarity_search(q, k=K)]

    parts: dict[str, list[float]] = {"embed_query": [], "search": [], "fuse_fetch": []}
    floor_search: list[float] = []

    def hybrid(r: Retriever) -> Callable[[str], list[str]]:
        def run(q: str) -> list[str]:
            t0 = time.perf_counter()
            got = r.retrieve(q, K)
            if r is retriever:
                wall = (time.perf_counter() - t0) * 1000
                parts["embed_query"].append(got.timings_ms.get("embed_query", 0.0))
                parts["search"].append(got.timings_ms.get("search", 0.0))
                parts["fuse_fetch"].append(wall - parts["embed_query"][-1] - parts["search"][-1])
            return [p.doc_id for p in got.passages]

        return run

    def floor(q: str) -> list[str]:
        vector = exact.embeddings.embed_query(q)
        t0 = time.perf_counter()
        chunks, _ = exact.search(vector, n_chunks, n_sents)
        floor_search.append((time.perf_counter() - t0) * 1000)
        return [exact.chunk_docs[i] for i in chunks[:K]]

    systems: dict[str, Callable[[str], list[str]]] = {
        "hybrid": hybrid(retriever),
        "exact_floor": floor,
        "naive_langchain": naive_over(index),
    }
    if server_retriever is not None:
        systems["server_hybrid"] = hybrid(server_retriever)
        systems["server_naive_langchain"] = naive_over(server_retriever.index)
    for run in systems.values():  # one warm-up call each, not measured
        run("warm-up")
    for values in parts.values():
        values.clear()
    floor_search.clear()

    latencies: dict[str, list[float]] = {name: [] for name in systems}
    hits: dict[str, list[bool]] = {name: [] for name in systems}
    recall: dict[str, list[float]] = {"chunks": [], "sentences": []}
    names = list(systems)
    for i, q in enumerate(questions):
        if progress:
            progress(i, len(questions), q.id)
        order = names[i % len(names) :] + names[: i % len(names)]
        for name in order:
            t0 = time.perf_counter()
            docs = systems[name](q.question)
            latencies[name].append((time.perf_counter() - t0) * 1000)
            if q.answerable and relevant.get(q.id):
                hits[name].append(_doc_hit(docs, relevant[q.id]))
        vector = exact.embeddings.embed_query(q.question)
        exact_chunks, exact_sents = exact.search(vector, K, K)
        for label, collection, ids, idx in (
            ("chunks", index.chunks, exact.chunk_ids, exact_chunks),
            ("sentences", index.sentences, exact.sentence_ids, exact_sents),
        ):
            got = collection.query(query_embeddings=[vector], n_results=min(K, len(ids)), include=[])
            want = {ids[j] for j in idx}
            if want:
                recall[label].append(len(want & set(got["ids"][0])) / len(want))
    if progress:
        progress(len(questions), len(questions), "done")
    return QueryFigures(
        questions=len(questions),
        answerable=sum(1 for q in questions if q.answerable and relevant.get(q.id)),
        systems={
            name: SystemFigures(
                latency_ms=summarize(latencies[name]),
                hit_at_5=round(sum(hits[name]) / len(hits[name]), 4) if hits[name] else None,
            )
            for name in systems
        },
        retrieval_parts_ms={k: round(sum(v) / len(v), 3) if v else 0.0 for k, v in parts.items()},
        floor_search_ms=summarize(floor_search),
        hnsw_recall_at_5={k: round(sum(v) / len(v), 4) if v else None for k, v in recall.items()},
        floor_load_s=exact.load_s,
    )


@dataclass
class AnswerFigures:
    questions: int
    answer_ms: Stats  # RagChain.ask, end to end
    first_piece_ms: Stats  # RagChain.stream: until the first text piece
    refused: int
    errors: int
    answers: dict[str, str] = field(default_factory=dict, repr=False)


def run_answers(chain: RagChain, questions: Sequence[Question], progress: Progress | None = None) -> AnswerFigures:
    ask_ms: list[float] = []
    first_ms: list[float] = []
    refused = errors = 0
    answers: dict[str, str] = {}
    for i, q in enumerate(questions):
        if progress:
            progress(i, len(questions), q.id)
        try:
            t0 = time.perf_counter()
            answer = chain.ask(q.question, q.history)
            ask_ms.append((time.perf_counter() - t0) * 1000)
            answers[q.id] = answer.answer
            refused += answer.refused
            t0 = time.perf_counter()
            for item in chain.stream(q.question, q.history):
                if isinstance(item, str):
                    first_ms.append((time.perf_counter() - t0) * 1000)
                    break
        except RagError:
            errors += 1
    if progress:
        progress(len(questions), len(questions), "done")
    return AnswerFigures(len(questions), summarize(ask_ms), summarize(first_ms), refused, errors, answers)


def citations_consistent(answer: Answer) -> bool:
    """Every citation names one of this answer's own passages, and its quote sits at its span."""
    by_n = {p.n: p for p in answer.passages}
    for c in answer.citations:
        p = by_n.get(c.n)
        if p is None or p.chunk_id != c.chunk_id or p.doc_id != c.doc_id:
            return False
        if p.text[c.span[0] : c.span[1]] != c.quote:
            return False
    return True


@dataclass
class LoadFigures:
    chunks: int
    questions: int
    threads: int
    wall_s: float
    throughput_qps: float
    latency_ms: Stats
    errors: int
    citation_mismatches: int  # answers citing a passage that is not among their own
    differs_from_sequential: int  # answers unlike the same question's answer asked alone


def run_load(
    chain: RagChain,
    questions: Sequence[Question],
    n: int,
    threads: int,
    sequential: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> LoadFigures:
    """``n`` questions (the list, cycled) from ``threads`` threads through one shared chain."""
    work = [questions[i % len(questions)] for i in range(n)]
    done = [0]
    lock = threading.Lock()

    def one(q: Question) -> tuple[float, Answer | None]:
        t0 = time.perf_counter()
        try:
            answer: Answer | None = chain.ask(q.question, q.history)
        except Exception:  # noqa: BLE001 - any failure under load is counted, not raised
            answer = None
        ms = (time.perf_counter() - t0) * 1000
        with lock:
            done[0] += 1
            if progress:
                progress(done[0], n, q.id)
        return ms, answer

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(one, work))
    wall = time.perf_counter() - t0
    answers = [a for _, a in results]
    return LoadFigures(
        chunks=chain.retriever.index.count(),
        questions=n,
        threads=threads,
        wall_s=round(wall, 3),
        throughput_qps=round(n / wall, 3) if wall else 0.0,
        latency_ms=summarize([ms for ms, _ in results]),
        errors=sum(a is None for a in answers),
        citation_mismatches=sum(1 for a in answers if a is not None and not citations_consistent(a)),
        differs_from_sequential=sum(
            1
            for q, a in zip(work, answers, strict=True)
            if a is not None and sequential and q.id in sequential and sequential[q.id] != a.answer
        ),
    )
