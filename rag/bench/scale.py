"""One corpus scale made ready to query: corpus, timed ingest and re-ingest, store, retriever, server copy.

What it does: ``build_scale`` writes the corpus (``synthetic``), ingests it
timed by phase and again (``ingest``), measures the store on disk and the cost
of building the retriever (the BM25 keyword index is rebuilt from the store's
documents at that moment), and optionally copies every row to a Chroma server
of its own and builds a retriever over it. The result is a ``Built`` scale.

What it leaves out: querying and answering (``queries``, ``answers``), the
order of the whole run (``runs``) and printing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.bench import measure
from rag.bench.answers import AnswerFigures
from rag.bench.exact import ExactSearch
from rag.bench.ingest import IngestFigures, ReingestFigures, timed_ingest
from rag.bench.queries import QueryFigures, Setup
from rag.bench.questions import Question
from rag.bench.results import BenchOptions, ScaleResult, ServerFigures
from rag.bench.server import ChromaServerProcess
from rag.bench.synthetic import Corpus, make_corpus, relevant_docs
from rag.config import Settings
from rag.factory import build_chain
from rag.ingest.run import Progress
from rag.retrieval.keyword import KeywordIndex
from rag.store.index import ChromaServer, Index, make_client, open_index
from rag.store.pages import pages

ProgressFactory = Callable[[str], AbstractContextManager[Progress | None]]


def _timed_build(settings: Settings, index: Index) -> tuple[Any, float, float]:
    """(chain, seconds for the whole Retriever.build, seconds to rebuild BM25 from the store)."""
    t0 = time.perf_counter()
    chain = build_chain(settings.model_copy(update={"memo_size": 0}), index)  # each question timed as if asked first
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ids, texts = [], []
    for cid, _, extra in index.records(["documents"]):
        ids.append(cid)
        texts.append(extra["documents"])
    KeywordIndex(ids, texts)
    return chain, round(build_s, 3), round(time.perf_counter() - t0, 3)


def _copy_to_server(local: Index, remote: Index) -> tuple[float, int]:
    """Copy every row (id, vector, text, metadata) of both collections; seconds and rows."""
    rows = 0
    t0 = time.perf_counter()
    for src, dst in ((local.chunks, remote.chunks), (local.sentences, remote.sentences)):
        for page in pages(src, ["embeddings", "documents", "metadatas"]):
            dst.upsert(
                ids=page["ids"], embeddings=page["embeddings"], documents=page["documents"],
                metadatas=page["metadatas"],
            )
            rows += len(page["ids"])
    return time.perf_counter() - t0, rows


@dataclass
class Built:
    """One scale after ingest, ready to query."""

    scale: float
    corpus: Corpus
    store: Path
    ingest: IngestFigures
    reingest: ReingestFigures
    disk_bytes: int
    index: Index
    chain: Any
    build_s: float
    keyword_s: float
    setup: Setup
    chunks: int
    sentences: int
    server: ServerFigures | None = None

    def close(self) -> None:
        """Release this scale's Chroma clients: nothing reads the store once its directory is deleted."""
        self.index.close()
        if self.setup.server_retriever is not None:
            self.setup.server_retriever.index.close()

    def result(self, query: QueryFigures, answers: AnswerFigures) -> ScaleResult:
        return ScaleResult(
            scale=self.scale, documents=self.corpus.documents, seed_documents=len(self.corpus.seed_docs),
            synthetic_documents=len(self.corpus.synthetic_docs), corpus_chars=self.corpus.chars,
            chunks=self.chunks, sentences=self.sentences, ingest=self.ingest, reingest=self.reingest,
            retriever_build_s=self.build_s, keyword_index_s=self.keyword_s, disk_bytes=self.disk_bytes,
            disk_mb_per_1000_chunks=round(self.disk_bytes / 2**20 / max(self.chunks, 1) * 1000, 3),
            query=query, answers=answers, server=self.server,
        )


def build_scale(
    scale: float, settings: Settings, embeddings: Any, questions: list[Question], options: BenchOptions,
    work: Path, progress: ProgressFactory, servers: list[ChromaServerProcess],
) -> Built:
    corpus = make_corpus(Path(settings.seeds_dir), work / f"corpus-{scale:g}", scale, options.seed)
    store = work / f"store-{scale:g}"
    with progress(f"ingest {scale:g}×") as bar:
        figures, again = timed_ingest(
            store, embeddings, settings.embedding_model, [corpus.directory], bar,
            chunk_tokens=settings.chunk_tokens, overlap_tokens=settings.overlap_tokens,
        )
    disk = measure.dir_bytes(store)
    index = open_index(
        store, embeddings, settings.embedding_model, None,
        chunk_tokens=settings.chunk_tokens, overlap_tokens=settings.overlap_tokens,
    )
    chain, build_s, keyword_s = _timed_build(settings.model_copy(update={"persist_dir": store}), index)
    server_figs, server_retriever = None, None
    if options.chroma_server:
        server = ChromaServerProcess(work / f"chroma-server-{scale:g}").start()
        servers.append(server)
        server_figs, server_retriever = _server_side(server, index, settings, work)
    relevant = {q.id: relevant_docs(corpus, q.case.sources, q.case.evidence) for q in questions if q.case.answerable}
    setup = Setup(f"{scale:g}×", chain.retriever, ExactSearch(index), relevant, server_retriever)
    return Built(scale, corpus, store, figures, again, disk, index, chain, build_s, keyword_s, setup,
                 index.count(), index.sentences.count(), server_figs)


def _server_side(
    server: ChromaServerProcess, local: Index, settings: Settings, work: Path
) -> tuple[ServerFigures, Any]:
    """Copy the local store's rows to the server and build a retriever over the server."""
    client = make_client(work, ChromaServer("127.0.0.1", server.port))
    remote = Index(client, local.embeddings, local.embedding_model, lock_dir=work / "server-lock",
                   chunk_tokens=local.chunk_tokens, overlap_tokens=local.overlap_tokens)
    copy_s, rows = _copy_to_server(local, remote)
    server_settings = settings.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": server.port})
    chain, build_s, _ = _timed_build(server_settings, remote)
    return (
        ServerFigures(
            port=server.port, started_s=server.started_s, copy_s=round(copy_s, 3),
            rows_per_s=round(rows / copy_s, 1) if copy_s else 0.0, retriever_build_s=build_s,
        ),
        chain.retriever,
    )
