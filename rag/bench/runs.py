"""One whole benchmark run: every scale, then queries, answers, load, cold start, growth and targets.

Per scale, in a fresh temp store, ``scale.build_scale`` writes, ingests and
measures the corpus and builds its retriever. Then the query figures and the
answers run with every scale and every reference taking turns question by
question (``queries``, ``answers``), so a burst of load on a shared machine
cannot skew one scale's slope; the threaded load runs on the largest scale.
Cold start runs ``rag ask`` as a fresh process over the first scale's store
(the target) and the largest one (how start-up grows). Everything lands in
one ``BenchResults`` that serializes to JSON.

The whole run keeps BLAS to one thread. The numpy floor is the only
matrix-sized BLAS call here, and a multi-threaded one leaves OpenBLAS threads
spinning on both cores just as the next system embeds its question: on 2 cores
that took question embedding from 27 ms to 123 ms at p95 (a 7,500×384 floor,
measured in isolation), charging the floor's cost to the system measured after
it. The app and ``rag ask`` make no such call, so this is the fair setting.

What it leaves out: printing (``report``), judging targets (``targets``), the
command line (``command``), and any LLM: answers are the offline extractive ones.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

from threadpoolctl import threadpool_limits

from rag.bench import measure
from rag.bench.answers import LoadFigures, run_answers, run_load
from rag.bench.app_start import AppStart, app_first_answer
from rag.bench.cold_start import COLD_QUESTION, child_env, cold_start
from rag.bench.queries import run_queries
from rag.bench.questions import Question, load_questions
from rag.bench.results import SCHEMA, BenchOptions, BenchResults, ColdStart
from rag.bench.scale import Built, ProgressFactory, build_scale
from rag.bench.server import ChromaServerProcess
from rag.bench.targets import compute_growth, evaluate_targets
from rag.config import PROJECT_DIR, Settings
from rag.ingest.run import Progress
from rag.store.embeddings import make_embeddings


def no_progress(label: str) -> AbstractContextManager[Progress | None]:
    return nullcontext(None)


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


def run_bench(
    settings: Settings,
    options: BenchOptions,
    progress: ProgressFactory = no_progress,
    log: Callable[[str], None] = lambda _: None,
) -> BenchResults:
    """Ingest every scale, then query and answer all scales interleaved, then load and cold start."""
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
    built: list[Built] = []
    with threadpool_limits(limits=1, user_api="blas"), _work_dir(options) as work:
        try:
            for scale in scales:
                log(f"scale {scale:g}×: corpus, ingest, re-ingest, retriever")
                built.append(build_scale(scale, settings, embeddings, questions, options, work, progress, servers))
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
                    PROJECT_DIR / "app.py", built[0].store, built[0].corpus.directory, child_env(settings), work,
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
