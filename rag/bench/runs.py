"""One whole benchmark run: every scale, then cold start, memory, growth slopes and the targets.

Per scale, in a fresh temp store: write the corpus (``synthetic``), ingest it
timed by phase and ingest it again (``ingest``), measure the store on disk and
the cost of building the retriever (the BM25 keyword index is rebuilt from the
store's documents at that moment), and optionally copy the vectors to a Chroma
server of its own. Then the query figures and the answers run with every
scale and every reference taking turns question by question (``queries``), so
a burst of load on a shared machine cannot skew one scale's slope; the threaded
load runs on the largest scale. Cold start runs ``rag ask`` as a fresh process
over the first scale's store (the target) and the largest one (how start-up
grows). Everything lands in one ``BenchResults`` that serializes to JSON.

The whole run keeps BLAS to one thread. The numpy floor is the only
matrix-sized BLAS call here, and a multi-threaded one leaves OpenBLAS threads
spinning on both cores just as the next system embeds its question: on 2 cores
that took question embedding from 27 ms to 123 ms at p95 (a 7,500×384 floor,
measured in isolation), charging the floor's cost to the system measured after
it. The app and ``rag ask`` make no such call, so this is the fair setting.

What it leaves out: printing (``report``), the command line (``command``), and
any LLM: answers are the offline extractive ones.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from rag.bench import measure
from rag.bench.app_start import AppStart, app_first_answer
from rag.bench.ingest import IngestFigures, ReingestFigures, timed_ingest
from rag.bench.queries import (
    AnswerFigures,
    ExactSearch,
    LoadFigures,
    QueryFigures,
    Question,
    Setup,
    load_questions,
    run_answers,
    run_load,
    run_queries,
)
from rag.bench.server import ChromaServerProcess
from rag.bench.synthetic import Corpus, make_corpus, relevant_docs
from rag.config import PROJECT_DIR, Settings
from rag.store.index import ChromaServer, Index, open_index
from rag.redact import redact_data

SCHEMA = "rag-bench/1"
COLD_QUESTION = "Why did Musk leave OpenAI?"
Progress = Callable[[int, int, str], None]
ProgressFactory = Callable[[str], AbstractContextManager[Progress | None]]


def no_progress(label: str) -> AbstractContextManager[Progress | None]:
    return nullcontext(None)


@dataclass
class BenchOptions:
    scales: list[float]
    questions: int | None = None  # first N questions of the eval datasets (default all)
    chroma_server: bool = False
    load_questions: int = 200
    load_threads: int = 8
    cold_starts: int = 3
    app_starts: int = 2  # cold `streamlit run` + headless Chromium, timed to the first answer
    seed: int = 0
    datasets_dir: Path = PROJECT_DIR / "evals" / "datasets"
    work_dir: Path | None = None  # default: a temp dir, removed afterwards


@dataclass
class ServerFigures:
    port: int
    started_s: float | None  # spawn to first heartbeat
    copy_s: float  # writing every chunk and sentence row (with its vector) to the server
    rows_per_s: float
    retriever_build_s: float  # keyword index rebuilt from the server's rows + language means


@dataclass
class ScaleResult:
    scale: float
    documents: int
    seed_documents: int
    synthetic_documents: int
    corpus_chars: int
    chunks: int
    sentences: int
    ingest: IngestFigures
    reingest: ReingestFigures
    retriever_build_s: float  # whole Retriever.build: read the chunks, keyword index, stored language means
    keyword_index_s: float  # of which: reading chunk texts from the store and building BM25
    disk_bytes: int
    disk_mb_per_1000_chunks: float
    query: QueryFigures
    answers: AnswerFigures
    server: ServerFigures | None = None


@dataclass
class ColdStart:
    scale: float
    chunks: int
    runs: int
    first_answer_s: list[float]
    median_s: float | None
    in_process_answer_ms: float | None  # the answer's own timings_ms.total (the rest is start-up)
    exit_s: float | None
    peak_rss_mb: float | None
    errors: list[str] = field(default_factory=list)


@dataclass
class Target:
    name: str
    scale: float | None
    target: str
    measured: str
    passed: bool | None  # None: not measured in this run
    margin: str
    dominant: str


@dataclass
class BenchResults:
    schema: str
    started: str
    wall_s: float
    machine: measure.Machine
    settings: dict[str, Any]
    scales: list[ScaleResult]
    cold_start: ColdStart | None  # over the first scale's store: the target
    cold_start_largest: ColdStart | None  # over the largest scale's store: how start-up grows
    app_start: AppStart | None  # the Streamlit app over the first scale's store, in a real browser
    memory: dict[str, float | None]
    load: LoadFigures | None
    growth: dict[str, dict[str, Any]]
    targets: list[Target]

    def to_json(self) -> str:
        return json.dumps(redact_data(asdict(self)), ensure_ascii=False, indent=2)


# ---- pieces ---------------------------------------------------------------------------


def _timed_build(settings: Settings, index: Index) -> tuple[Any, float, float]:
    """(chain, seconds for the whole Retriever.build, seconds to rebuild BM25 from the store)."""
    from rag.factory import build_chain
    from rag.retrieval.keyword import KeywordIndex

    t0 = time.perf_counter()
    chain = build_chain(settings, index)
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
        offset = 0
        while True:
            page = src.get(include=["embeddings", "documents", "metadatas"], limit=1000, offset=offset)
            if not page["ids"]:
                break
            dst.upsert(
                ids=page["ids"], embeddings=page["embeddings"], documents=page["documents"],
                metadatas=page["metadatas"],
            )
            rows += len(page["ids"])
            offset += len(page["ids"])
    return time.perf_counter() - t0, rows


def _rag_command() -> list[str]:
    exe = Path(sys.executable).parent / "rag"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "rag.cli.main"]


def _child_env(settings: Settings) -> dict[str, str]:
    """The environment of a child process answering offline with this run's settings (no Chroma server)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHROMA_")}
    env.update(
        RAG_CHAT_MODEL="extractive", RAG_EMBEDDING_MODEL=settings.embedding_model, RAG_K=str(settings.k),
        RAG_CANDIDATES=str(settings.candidates),
    )
    if settings.embed_threads:
        env["RAG_EMBED_THREADS"] = str(settings.embed_threads)
    return env


def cold_start(settings: Settings, built: _Built, runs: int, cwd: Path) -> ColdStart:
    """``rag ask --json`` as a fresh process over an already-built store: spawn to answer."""
    env = _child_env(settings)
    env.update(RAG_PERSIST_DIR=str(built.store), RAG_SEEDS_DIR=str(built.corpus.directory))
    firsts: list[float] = []
    inside: list[float] = []
    exits: list[float] = []
    rss: list[float] = []
    errors: list[str] = []
    for _ in range(runs):
        child = measure.run_child([*_rag_command(), "ask", "--json", COLD_QUESTION], env, cwd=cwd)
        if child.max_rss_mb is not None:
            rss.append(child.max_rss_mb)
        if child.returncode != 0 or child.first_line_s is None:
            errors.append(f"exit {child.returncode}: {child.stderr_tail.strip()[-300:]}")
            continue
        firsts.append(child.first_line_s)
        exits.append(child.exit_s)
        try:
            inside.append(float(json.loads(child.first_line)["timings_ms"]["total"]))
        except (ValueError, KeyError):
            pass
    return ColdStart(
        scale=built.scale,
        chunks=built.index.count(),
        runs=runs,
        first_answer_s=firsts,
        median_s=measure.percentile(firsts, 50),
        in_process_answer_ms=round(measure.percentile(inside, 50) or 0, 1) if inside else None,
        exit_s=measure.percentile(exits, 50),
        peak_rss_mb=max(rss) if rss else None,
        errors=errors,
    )


# ---- the run --------------------------------------------------------------------------


@contextmanager
def _work_dir(options: BenchOptions) -> Iterator[Path]:
    if options.work_dir:
        options.work_dir.mkdir(parents=True, exist_ok=True)
        yield options.work_dir
        return
    path = Path(tempfile.mkdtemp(prefix="rag-bench-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@dataclass
class _Built:
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


def _build_scale(
    scale: float, settings: Settings, embeddings: Any, questions: list[Question], options: BenchOptions,
    work: Path, progress: ProgressFactory, servers: list[ChromaServerProcess],
) -> _Built:
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
    relevant = {q.id: relevant_docs(corpus, q.sources, q.evidence) for q in questions if q.answerable}
    setup = Setup(f"{scale:g}×", chain.retriever, ExactSearch(index), relevant, server_retriever)
    return _Built(scale, corpus, store, figures, again, disk, index, chain, build_s, keyword_s, setup,
                  index.count(), index.sentences.count(), server_figs)


def run_bench(
    settings: Settings,
    options: BenchOptions,
    progress: ProgressFactory = no_progress,
    log: Callable[[str], None] = lambda _: None,
) -> BenchResults:
    """Ingest every scale, then query and answer all scales interleaved, then load and cold start."""
    from rag.bench.report import compute_growth, evaluate_targets
    from rag.store.embeddings import make_embeddings

    started = datetime.now(UTC).isoformat(timespec="seconds")
    t_start = time.perf_counter()
    machine = measure.machine()
    settings = settings.model_copy(update={"chat_model": "extractive", "chroma_host": None})
    embeddings = make_embeddings(
        settings.embedding_model, threads=settings.embed_threads, api_key=settings.openai_api_key,
        base_url=settings.openai_base_url, timeout=settings.timeout, max_retries=settings.max_retries,
    )
    questions: list[Question] = load_questions(options.datasets_dir, options.questions)
    scales = sorted(options.scales)
    servers: list[ChromaServerProcess] = []
    load: LoadFigures | None = None
    cold: ColdStart | None = None
    cold_largest: ColdStart | None = None
    app: AppStart | None = None
    server_rss: list[float] = []
    built: list[_Built] = []
    with threadpool_limits(limits=1, user_api="blas"), _work_dir(options) as work:
        try:
            for scale in scales:
                log(f"scale {scale:g}×: corpus, ingest, re-ingest, retriever")
                built.append(_build_scale(scale, settings, embeddings, questions, options, work, progress, servers))
            log(f"queries: {len(questions)} questions × {len(built)} scales, interleaved")
            with progress("queries") as bar:
                queries = run_queries([b.setup for b in built], questions, bar)
            with progress("answers") as bar:
                answers = run_answers([b.chain for b in built], questions, bar)
            if options.load_questions > 0:
                with progress(f"load {scales[-1]:g}× ({options.load_threads} threads)") as bar:
                    load = run_load(built[-1].chain, questions, options.load_questions, options.load_threads,
                                    answers[-1].answers, bar)
            server_rss = [x for x in (s.peak_rss_mb() for s in servers) if x is not None]
            if options.cold_starts > 0:
                log("cold start: rag ask in a fresh process")
                cold = cold_start(settings, built[0], options.cold_starts, work)
                if len(built) > 1:
                    cold_largest = cold_start(settings, built[-1], options.cold_starts, work)
            if options.app_starts > 0:
                log("app start-up: streamlit run + headless Chromium, to the first cited answer")
                app = app_first_answer(
                    PROJECT_DIR / "app.py", built[0].store, built[0].corpus.directory, _child_env(settings), work,
                    COLD_QUESTION, options.app_starts,
                )
        finally:
            for b in built:
                b.close()
            for server in servers:
                server.stop()
    results = [b.result(q, a) for b, q, a in zip(built, queries, answers, strict=True)]
    machine.loadavg_end = measure.loadavg()
    bench = BenchResults(
        schema=SCHEMA,
        started=started,
        wall_s=round(time.perf_counter() - t_start, 1),
        machine=machine,
        settings={
            "embedding_model": settings.embedding_model, "chat_model": settings.chat_model, "k": settings.k,
            "candidates": settings.candidates, "chunk_tokens": settings.chunk_tokens,
            "overlap_tokens": settings.overlap_tokens, "embed_threads": settings.embed_threads,
            "questions": len(questions), "scales": scales, "seed": options.seed,
            "chroma_server": options.chroma_server,
        },
        scales=results,
        cold_start=cold,
        cold_start_largest=cold_largest,
        app_start=app,
        memory={
            "bench_peak_rss_mb": measure.peak_rss_mb(),
            "rag_ask_peak_rss_mb": cold.peak_rss_mb if cold else None,
            "rag_ask_largest_peak_rss_mb": cold_largest.peak_rss_mb if cold_largest else None,
            "chroma_server_peak_rss_mb": max(server_rss) if server_rss else None,
        },
        load=load,
        growth=compute_growth(results),
        targets=[],
    )
    bench.targets = evaluate_targets(bench)
    return bench


def _server_side(
    server: ChromaServerProcess, local: Index, settings: Settings, work: Path
) -> tuple[ServerFigures, Any]:
    """Copy the local store's rows to the server and build a retriever over the server."""
    from rag.store.index import make_client

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
