"""Query-side figures: retrieval beside its references, and HNSW recall against exact search.

For every question of a fixed list (the eval datasets' questions, in file
order) and every corpus scale in turn, the systems run back to back, in an
order rotated per question so none always goes first: the hybrid ``Retriever`` (the pipeline's own), the exact
floor (embed the question, then brute-force cosine with numpy over the same
chunk and sentence vectors, as many candidates as the retriever asks Chroma
for; ``exact``), the naive LangChain baseline (``langchain_chroma.Chroma`` over the same
chunks collection, ``similarity_search(k=5)``), and the same two over a Chroma
server when one is given. Every system embeds the question itself, so every
latency includes that. hit@5 is document level: a hit when any of the top 5
passages comes from a relevant article (the gold sources, plus synthetic
articles that contain a gold evidence quote); only answerable questions count.
HNSW recall@5 = share of HNSW's top 5 that are as close as the exact 5th
neighbour (tie-aware: synthetic corpora repeat sentences), per collection; the
same at the depth the retriever really asks for (``*_candidates``).

What it leaves out: answers and the threaded load (``answers``), answer
quality (that is ``rag eval``) and any assertion.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rag.bench.exact import ExactSearch
from rag.bench.measure import Stats, summarize
from rag.bench.questions import Question
from rag.ingest.run import Progress
from rag.retrieval.retrieve import Retriever
from rag.store.index import Index

K = 5


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
            got = r.retrieve(q, K, with_sentences=False)  # passage retrieval, as the naive baseline does
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
        relevant = self.setup.relevant.get(q.id) if q.case.answerable else None
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
