"""`rag model speed`: how long a user waits, with the answerer the app would use.

Asks the EN and ZH speed questions through the same chain the app builds
(``build_chain``: the default answerer unless ``RAG_CHAT_MODEL`` says
otherwise), streaming, and reports per question: time to evidence (retrieval
done: what the evidence-first UI can show), time to the first generated text,
prompt and reply tokens (the server's own usage) and decode tokens/s after the
first token; then p50/p95 over the questions. ``--concurrent N`` then asks N
different questions at once from N threads through the one chain (one embedded
server) and reports each one's time next to the same question asked alone.
A first, unrecorded question warms the model, embedder and prefix cache.
Results are printed and written as JSON (default ``bench-results-model.json``,
git-ignored).

It leaves out answer quality (``rag eval``) and the model's load time beyond
reporting it (the server loads once, when the chain is built).
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from rag.models import Answer

if TYPE_CHECKING:
    from rag.answer.chain import RagChain

DEFAULT_QUESTIONS = (
    "Why did Musk leave OpenAI?",
    "马斯克为什么离开OpenAI？",
    "How much did Musk offer to buy OpenAI?",
    "马斯克出价多少收购OpenAI？",
    "Why do Meta and xAI want to work with Character.ai?",
    "Meta和xAI为什么想与Character.ai合作？",
)
WARMUP_QUESTION = "What did Sam Altman say about Elon Musk?"
DEFAULT_OUT = Path("bench-results-model.json")


@dataclass
class SpeedRow:
    question: str
    evidence_s: float | None  # retrieval done (the first non-text item the chain yields, else its timings)
    first_token_s: float | None  # None when the chain answered without calling the model
    total_s: float
    prompt_tokens: int | None
    reply_tokens: int | None
    tokens_per_s: float | None  # (reply tokens - 1) / (last text - first text)
    refused: bool
    model_cited: bool  # the answer carries citations and the model's own [n] markers
    notice: str | None


def measure(chain: RagChain, question: str) -> SpeedRow:
    """Stream one answer and time it."""
    start = time.perf_counter()
    first = last = evidence = None
    answer: Answer | None = None
    for item in chain.stream(question):
        now = time.perf_counter()
        if isinstance(item, Answer):
            answer = item
        elif isinstance(item, str):
            if item:
                first = first if first is not None else now
                last = now
        elif evidence is None:  # an evidence event, yielded before the model's first token
            evidence = now - start
    assert answer is not None
    total = time.perf_counter() - start
    if evidence is None and answer.timings_ms:
        evidence = (answer.timings_ms.get("condense", 0.0) + answer.timings_ms.get("retrieve", 0.0)) / 1000
    usage = answer.usage
    rate = None
    if usage and usage.output_tokens > 1 and first is not None and last is not None and last > first:
        rate = (usage.output_tokens - 1) / (last - first)
    called = usage is not None
    return SpeedRow(
        question=question,
        evidence_s=evidence,
        first_token_s=(first - start) if (first is not None and called) else None,
        total_s=total,
        prompt_tokens=usage.input_tokens if usage else None,
        reply_tokens=usage.output_tokens if usage else None,
        tokens_per_s=rate,
        refused=answer.refused,
        model_cited=bool(answer.citations) and "[" in answer.answer,
        notice=answer.notice,
    )


def percentile(values: Sequence[float | None], q: float) -> float | None:
    """The q-th percentile (0–100, linear interpolation) of the values present."""
    present = sorted(v for v in values if v is not None)
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    return statistics.quantiles(present, n=100, method="inclusive")[max(0, min(98, round(q) - 1))]


def summary(rows: Sequence[SpeedRow]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name in ("evidence_s", "first_token_s", "tokens_per_s", "prompt_tokens", "total_s"):
        values = [getattr(r, name) for r in rows]
        out[f"{name}_p50"] = percentile(values, 50)
        out[f"{name}_p95"] = percentile(values, 95)
    out["tokens_per_s_min"] = min((r.tokens_per_s for r in rows if r.tokens_per_s is not None), default=None)
    return out


def concurrent(chain: RagChain, questions: Sequence[str]) -> list[tuple[SpeedRow | None, str | None]]:
    """Ask every question at once, one thread each; (row, error) per question, in order."""
    results: list[tuple[SpeedRow | None, str | None]] = [(None, None)] * len(questions)
    barrier = threading.Barrier(len(questions))

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = (measure(chain, questions[i]), None)
        except Exception as exc:  # noqa: BLE001 - reported per question
            results[i] = (None, f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(questions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _fmt(value: float | None, unit: str, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f} {unit}"


def _line(row: SpeedRow) -> str:
    kind = "refused" if row.refused else "cited" if row.model_cited else "fallback"
    return (f"evidence {_fmt(row.evidence_s, 's', 2):>7} · first token {_fmt(row.first_token_s, 's'):>7} · "
            f"{_fmt(row.tokens_per_s, 'tok/s'):>10} · prompt {row.prompt_tokens or '—'} · reply "
            f"{row.reply_tokens or '—'} · total {row.total_s:.1f} s · {kind} · {row.question}")


@click.command("speed")
@click.argument("questions", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON lines.")
@click.option("--no-warmup", is_flag=True, help="Record the first question too (model and embedder cold).")
@click.option("--concurrent", "n_concurrent", type=click.IntRange(0, 16), default=4, show_default=True,
              help="Then ask this many of the questions at once (0: skip).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_OUT, show_default=True,
              help="Where to write the results as JSON.")
def speed_command(questions: tuple[str, ...], as_json: bool, no_warmup: bool, n_concurrent: int, out: Path) -> None:
    """Time to evidence, first-token latency and tokens/s of the answerer, over EN and ZH questions.

    \b
    Examples:
      rag model speed                                   # the default answerer
      RAG_LLAMA_THREADS=1 rag model speed --concurrent 0 "Why did Musk leave OpenAI?"
    """
    from rag.config import load_settings
    from rag.factory import answerer_status, build_chain, ensure_ingested, open_store

    settings = load_settings().model_copy(update={"memo_size": 0})  # each question timed as if asked first
    index = open_store(settings)
    ensure_ingested(index, settings)
    t0 = time.perf_counter()
    chain = build_chain(settings, index)
    status = answerer_status(settings)
    if status.notice and status.state != "loading":
        click.echo(f"Note: {status.message}", err=True)
    asked = list(questions or DEFAULT_QUESTIONS)
    if not no_warmup:
        measure(chain, WARMUP_QUESTION)  # also waits for the model to load
    warm_s = time.perf_counter() - t0
    click.echo(f"answerer {chain.model_name}: built and warmed up in {warm_s:.1f} s", err=True)
    load = os.getloadavg()[0]  # the figures depend on what else the machine is doing
    rows = [measure(chain, q) for q in asked]
    for row in rows:
        click.echo(json.dumps(asdict(row), ensure_ascii=False) if as_json else _line(row))
    stats = summary(rows)
    click.echo(f"p50/p95: evidence {_fmt(stats['evidence_s_p50'], 's', 2)}/{_fmt(stats['evidence_s_p95'], 's', 2)}, "
               f"first token {_fmt(stats['first_token_s_p50'], 's')}/{_fmt(stats['first_token_s_p95'], 's')}, "
               f"decode {_fmt(stats['tokens_per_s_p50'], 'tok/s')} "
               f"(slowest {_fmt(stats['tokens_per_s_min'], 'tok/s')}), prompt "
               f"{_fmt(stats['prompt_tokens_p50'], 'tokens', 0)} over {len(rows)} questions; load average "
               f"{load:.1f} on {os.cpu_count()} cores at the start", err=True)
    result: dict[str, Any] = {
        "answerer": chain.model_name, "settings": {
            "llama_threads": settings.llama_threads, "llama_ctx": settings.llama_ctx,
            "llama_parallel": settings.llama_parallel, "llama_max_tokens": settings.llama_max_tokens,
            "k": settings.k},
        "build_and_warmup_s": warm_s, "load_average": load, "cpus": os.cpu_count(),
        "rows": [asdict(r) for r in rows], "summary": stats, "concurrent": [],
    }
    if n_concurrent and not chain.extractive:
        picked = (asked * n_concurrent)[:n_concurrent]
        alone = {r.question: r.total_s for r in rows}
        t1 = time.perf_counter()
        together = concurrent(chain, picked)
        wall = time.perf_counter() - t1
        click.echo(f"{n_concurrent} at once: {wall:.1f} s wall", err=True)
        for q, (row, error) in zip(picked, together):
            entry = {"question": q, "alone_s": alone.get(q), "together_s": row.total_s if row else None,
                     "first_token_s": row.first_token_s if row else None, "error": error}
            result["concurrent"].append(entry)
            click.echo(f"  {_fmt(entry['together_s'], 's')} together vs {_fmt(entry['alone_s'], 's')} alone"
                       f"{' · error: ' + error if error else ''} · {q}", err=True)
        result["concurrent_wall_s"] = wall
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    click.echo(f"wrote {out}", err=True)
