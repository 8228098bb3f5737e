"""Answer-side figures: whole answers, the first streamed piece, and a threaded load with its memory.

What it does: ``run_answers`` asks every question (``RagChain.ask``) and streams
it (``RagChain.stream``, timed to the first text piece) on every scale's chain,
chains taking turns; ``run_load`` sends many questions from many threads
through one shared chain and counts errors, answers whose citations fail the
citation contract (``rag.answer.cite.verify``) and answers unlike the same
question asked alone, sampling resident memory as it goes.

What it leaves out: retrieval figures (``queries``), answer quality (that is
``rag eval``) and any assertion.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from rag.answer.chain import RagChain
from rag.answer.cite import verify
from rag.bench.measure import Stats, status_mb, summarize
from rag.bench.questions import Question
from rag.errors import RagError
from rag.ingest.run import Progress
from rag.models import Answer


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
                for item in chains[c].stream({"question": q.question, "history": q.history}):
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
    return all(verify(c, answer.passages) for c in answer.citations)


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
