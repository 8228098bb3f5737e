"""Query-side figures: retrieval beside its references, answers, first piece, and a threaded load.

For every question of a fixed list (the eval datasets' questions, in file
order) and every corpus scale in turn, the systems run back to back, in an
order rotated per question so none always goes first: the hybrid ``Retriever`` (the pipeline's own), the exact
floor (embed the question, then brute-force cosine with numpy over the same
chunk and sentence vectors, as many candidates as the retriever asks Chroma
for), the naive LangChain baseline (``langchain_chroma.Chroma`` over the same
chunks collection, ``similarity_search(k=5)``), and the same two over a Chroma
server when one is given. Every system embeds the question itself, so every
latency includes that. hit@5 is document level: a hit when any of the top 5
passages comes from a relevant article (the gold sources, plus synthetic
articles that contain a gold evidence quote); only answerable questions count.
HNSW recall@5 = share of HNSW's top 5 that are as close as the exact 5th
neighbour (tie-aware: synthetic corpora repeat sentences), per collection; the
same at the depth the retriever really asks for (``*_candidates``).

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

from rag.bench.measure import Stats, status_mb, summarize
from rag.answer.chain import RagChain
from rag.errors import RagError
from rag.store.index import Index
from rag.models import Answer
from rag.retrieval.retrieve import Retriever

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
    hnsw_recall_at_5: dict[str, float | None]  # chunks, sentences; *_candidates: at the retriever's own depth
    candidates: dict[str, int]  # that depth: chunks and sentences the retriever asks Chroma for
    floor_load_s: float


def _doc_hit(docs: Sequence[str], relevant: set[str]) -> bool:
    return any(d in relevant for d in docs[:K])


@dataclass
class Setup:
    """One corpus ready to query: the pipeline's retriever, its exact floor, the gold per question."""

    label: str
    retriever: Retriever
    exact: ExactSearch
    relevant: dict[str, set[str]]
    server_retriever: Retriever | None = None


class _QueryBench:
    """The systems and running figures of one setup."""

    def __init__(self, setup: Setup) -> None:
        from langchain_chroma import Chroma

        self.setup = setup
        self.recording = False
        self.parts: dict[str, list[float]] = {"embed_query": [], "search": [], "fuse_fetch": []}
        self.floor_search: list[float] = []
        index = setup.retriever.index
        self.n_chunks = min(setup.retriever.candidates, index.count())
        self.n_sents = min(self.n_chunks * 3, index.sentences.count())

        def naive_over(ix: Index) -> Callable[[str], list[str]]:
            store = Chroma(client=ix.client, collection_name=ix.chunks.name, embedding_function=ix.embeddings)
            return lambda q: [d.metadata["doc_id"] for d in store.similarity_search(q, k=K)]

        self.systems: dict[str, Callable[[str], list[str]]] = {
            "hybrid": self._hybrid(setup.retriever, record=True),
            "exact_floor": self._floor,
            "naive_langchain": naive_over(index),
        }
        if setup.server_retriever is not None:
            self.systems["server_hybrid"] = self._hybrid(setup.server_retriever, record=False)
            self.systems["server_naive_langchain"] = naive_over(setup.server_retriever.index)
        for run in self.systems.values():  # one warm-up call each, not measured
            run("warm-up")
        self.recording = True
        self.latencies: dict[str, list[float]] = {name: [] for name in self.systems}
        self.hits: dict[str, list[bool]] = {name: [] for name in self.systems}
        self.recall: dict[str, list[float]] = {
            "chunks": [], "sentences": [], "chunk_candidates": [], "sentence_candidates": []
        }
        self.questions = self.answerable = 0

    def _hybrid(self, r: Retriever, record: bool) -> Callable[[str], list[str]]:
        def run(q: str) -> list[str]:
            t0 = time.perf_counter()
            got = r.retrieve(q, K)
            if record and self.recording:
                wall = (time.perf_counter() - t0) * 1000
                embed, search = got.timings_ms.get("embed_query", 0.0), got.timings_ms.get("search", 0.0)
                self.parts["embed_query"].append(embed)
                self.parts["search"].append(search)
                self.parts["fuse_fetch"].append(wall - embed - search)
            return [p.doc_id for p in got.passages]

        return run

    def _floor(self, q: str) -> list[str]:
        exact = self.setup.exact
        vector = exact.embeddings.embed_query(q)
        t0 = time.perf_counter()
        chunks, _ = exact.search(vector, self.n_chunks, self.n_sents)
        if self.recording:
            self.floor_search.append((time.perf_counter() - t0) * 1000)
        return [exact.chunk_docs[i] for i in chunks[:K]]

    def ask(self, q: Question, turn: int) -> None:
        names = list(self.systems)
        order = names[turn % len(names) :] + names[: turn % len(names)]
        relevant = self.setup.relevant.get(q.id) if q.answerable else None
        self.questions += 1
        self.answerable += bool(relevant)
        for name in order:
            t0 = time.perf_counter()
            docs = self.systems[name](q.question)
            self.latencies[name].append((time.perf_counter() - t0) * 1000)
            if relevant:
                self.hits[name].append(_doc_hit(docs, relevant))
        self._recall(q.question)

    def _recall(self, question: str) -> None:
        """Tie-aware recall@5: an HNSW hit counts when it is as close as the exact 5th neighbour.

        Synthetic corpora repeat seed sentences, so equal vectors tie; counting by
        similarity rather than by id keeps such ties from reading as misses.
        """
        exact = self.setup.exact
        index = self.setup.retriever.index
        vector = exact.embeddings.embed_query(question)
        q = np.asarray(vector, dtype=np.float32)
        q = q / (np.linalg.norm(q) or 1.0)
        for label, collection, matrix, n in (
            ("chunks", index.chunks, exact.chunks, K),
            ("sentences", index.sentences, exact.sentences, K),
            ("chunk_candidates", index.chunks, exact.chunks, self.n_chunks),
            ("sentence_candidates", index.sentences, exact.sentences, self.n_sents),
        ):
            k = min(n, len(matrix))
            if k == 0:
                continue
            top = exact.top(matrix, q, k)
            kth = float((matrix[top] @ q)[-1])
            got = collection.query(query_embeddings=[vector], n_results=k, include=["distances"])
            sims = [1.0 - d for d in got["distances"][0]]
            self.recall[label].append(sum(s >= kth - 1e-4 for s in sims) / k)

    def figures(self) -> QueryFigures:
        return QueryFigures(
            questions=self.questions,
            answerable=self.answerable,
            systems={
                name: SystemFigures(
                    latency_ms=summarize(self.latencies[name]),
                    hit_at_5=round(sum(self.hits[name]) / len(self.hits[name]), 4) if self.hits[name] else None,
                )
                for name in self.systems
            },
            retrieval_parts_ms={k: round(sum(v) / len(v), 3) if v else 0.0 for k, v in self.parts.items()},
            floor_search_ms=summarize(self.floor_search),
            hnsw_recall_at_5={k: round(sum(v) / len(v), 4) if v else None for k, v in self.recall.items()},
            candidates={"chunks": self.n_chunks, "sentences": self.n_sents},
            floor_load_s=self.setup.exact.load_s,
        )


def run_queries(
    setups: Sequence[Setup], questions: Sequence[Question], progress: Progress | None = None
) -> list[QueryFigures]:
    """Every question through every system of every setup, interleaved; one ``QueryFigures`` per setup.

    Setups (scales) take turns question by question, so a burst of load on a
    shared machine lands on all scales alike instead of skewing one of them.
    """
    benches = [_QueryBench(s) for s in setups]
    for i, q in enumerate(questions):
        if progress:
            progress(i, len(questions), q.id)
        for j in range(len(benches)):
            benches[(i + j) % len(benches)].ask(q, i)
    if progress:
        progress(len(questions), len(questions), "done")
    return [b.figures() for b in benches]


@dataclass
class AnswerFigures:
    questions: int
    answer_ms: Stats  # RagChain.ask, end to end
    first_piece_ms: Stats  # RagChain.stream: until the first text piece
    refused: int
    errors: int
    answers: dict[str, str] = field(default_factory=dict, repr=False)


def run_answers(
    chains: Sequence[RagChain], questions: Sequence[Question], progress: Progress | None = None
) -> list[AnswerFigures]:
    """Each question asked (``ask``) and streamed (``stream``) on every chain, chains taking turns."""
    ask_ms: list[list[float]] = [[] for _ in chains]
    first_ms: list[list[float]] = [[] for _ in chains]
    refused = [0] * len(chains)
    errors = [0] * len(chains)
    answers: list[dict[str, str]] = [{} for _ in chains]
    for i, q in enumerate(questions):
        if progress:
            progress(i, len(questions), q.id)
        for j in range(len(chains)):
            c = (i + j) % len(chains)
            try:
                t0 = time.perf_counter()
                answer = chains[c].ask(q.question, q.history)
                ask_ms[c].append((time.perf_counter() - t0) * 1000)
                answers[c][q.id] = answer.answer
                refused[c] += answer.refused
                t0 = time.perf_counter()
                for item in chains[c].stream({"question": q.question, "history": list(q.history)}):
                    if isinstance(item, str):
                        first_ms[c].append((time.perf_counter() - t0) * 1000)
                        break
            except RagError:
                errors[c] += 1
    if progress:
        progress(len(questions), len(questions), "done")
    return [
        AnswerFigures(len(questions), summarize(ask_ms[c]), summarize(first_ms[c]), refused[c], errors[c], answers[c])
        for c in range(len(chains))
    ]


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
    memory: MemoryFigures | None = None


@dataclass
class MemoryFigures:
    """Resident memory of this process during the load test, read from /proc/self/status.

    ``after_warmup_mb`` is the RSS once the first quarter of the questions
    has been answered (every code path and cache is live by then);
    ``growth_mb`` is how far the RSS rose from there to the end.
    """

    before_mb: float | None
    after_warmup_mb: float | None
    end_mb: float | None
    peak_mb: float | None
    growth_mb: float | None
    growth_pct: float | None
    samples: list[tuple[int, float]]  # (questions done, RSS MiB) at each tenth of the run


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
    marks = {max(1, round(n * i / 10)) for i in range(1, 11)}
    rss: dict[int, float] = {}
    before = status_mb("self", "VmRSS")

    def one(q: Question) -> tuple[float, Answer | None]:
        t0 = time.perf_counter()
        try:
            answer: Answer | None = chain.ask(q.question, q.history)
        except Exception:  # noqa: BLE001 - any failure under load is counted, not raised
            answer = None
        ms = (time.perf_counter() - t0) * 1000
        with lock:
            done[0] += 1
            if done[0] in marks and (now := status_mb("self", "VmRSS")) is not None:
                rss[done[0]] = round(now, 1)
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
        memory=_memory(before, rss, n),
    )


def _memory(before: float | None, rss: dict[int, float], n: int) -> MemoryFigures:
    samples = sorted(rss.items())
    warm = next((mb for done, mb in samples if done >= n / 4), None)
    end = samples[-1][1] if samples else None
    growth = None if warm is None or end is None else round(end - warm, 1)
    return MemoryFigures(
        before_mb=None if before is None else round(before, 1),
        after_warmup_mb=warm,
        end_mb=end,
        peak_mb=max((mb for _, mb in samples), default=None),
        growth_mb=growth,
        growth_pct=None if growth is None or not warm else round(100 * growth / warm, 2),
        samples=samples,
    )
