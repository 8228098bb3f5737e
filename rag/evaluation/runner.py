"""Run every case through one or more chains, score and total the rows.

What it does: asks each
system (the pipeline from ``build_chain``, optionally the naive baseline) every
case with the case's history; records a ``RagError`` as an error row instead of
stopping; scores each row with ``metrics`` (and the judge, when given); decides
whether the case passes; and totals the rows per system, overall and per
dataset, into an ``EvalRun``.

A case passes when it ran without error (and without a judge error) and:
unanswerable → the answer is a refusal; answerable → not refused, every gold
fact stated (fact recall 1.0), at least one citation, all citations valid and
all quotes verbatim at their spans. Judge scores are reported, not gated per case.

What it leaves out: rendering, comparing runs and thresholds (``report.py``),
the command line (``command.py``) and the judge's prompt (``judge.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, Literal

from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, Field

from rag import factory
from rag.chain import RagChain
from rag.config import Settings
from rag.errors import ConfigError, RagError
from rag.evaluation import metrics as m
from rag.evaluation.datasets import DatasetInfo, EvalCase, Turn
from rag.evaluation.judge import Judge, JudgeResult
from rag.models import Answer, Citation, Language, Passage, Usage
from rag.redact import redact, redact_data

PIPELINE, BASELINE = "pipeline", "baseline"


# ---- one row per (system, case) ------------------------------------------------------


class CaseResult(BaseModel):
    """One case as one system answered it, with its scores (ragas-style column names)."""

    system: str
    dataset: str
    id: str
    tags: list[str]
    user_input: str
    history: list[Turn]
    reference: str = Field(description="Gold answer.")
    answerable: bool
    language: Language = Field(description="The question's language (gold).")
    response: str | None = None
    response_language: Language | None = None
    refused: bool | None = None
    notice: str | None = None
    standalone_question: str | None = None
    reference_doc_ids: list[str] = Field(description="Gold source documents.")
    reference_contexts: list[str] = Field(description="Gold evidence quotes.")
    retrieved_context_ids: list[str] = Field(default_factory=list, description="Chunk ids, best first.")
    retrieved_doc_ids: list[str] = Field(default_factory=list, description="Doc ids of the top-k, deduplicated.")
    relevant_passages: list[int] = Field(default_factory=list, description="n of passages holding evidence.")
    citations: list[Citation] = Field(default_factory=list)
    passages: list[Passage] = Field(default_factory=list)
    facts: list[list[str]] = Field(default_factory=list)
    missed_facts: list[list[str]] = Field(default_factory=list)
    metrics: dict[str, float | None] = Field(default_factory=dict)
    judge: JudgeResult | None = None
    judge_error: str | None = None
    error: str | None = None
    latency_ms: float | None = None
    usage: Usage | None = None
    cost_usd: float | None = None
    passed: bool = False
    fail_reasons: list[str] = Field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.dataset, self.id)


def _row(system: str, dataset: str, case: EvalCase) -> CaseResult:
    return CaseResult(
        system=system, dataset=dataset, id=case.id, tags=case.tags, user_input=case.question,
        history=case.history, reference=case.answer, answerable=case.answerable, language=case.language,
        reference_doc_ids=case.sources, reference_contexts=case.evidence, facts=case.facts,
    )


def score_answer(row: CaseResult, case: EvalCase, answer: Answer, k: int, model: str) -> None:
    """Fill the row's answer fields and deterministic metrics (similarity comes later, in a batch)."""
    row.response = answer.answer
    row.response_language = m.answer_language(answer.answer)
    row.refused = answer.refused
    row.notice = answer.notice
    row.standalone_question = answer.standalone_question
    row.passages = answer.passages
    row.citations = answer.citations
    row.retrieved_context_ids = [p.chunk_id for p in answer.passages[:k]]
    row.retrieved_doc_ids = m.doc_ranking(answer.passages, k)
    row.latency_ms = answer.timings_ms.get("total")
    row.usage = answer.usage
    row.cost_usd = m.estimate_cost(model, answer.usage)
    scores: dict[str, float | None] = {"language_match": float(row.response_language == case.language)}
    if case.answerable:
        relevance = m.passage_relevance(answer.passages, case.evidence, k)
        row.relevant_passages = [p.n for p, rel in zip(answer.passages, relevance, strict=False) if rel]
        docs = m.rank_scores(row.retrieved_doc_ids, case.sources, k)
        ev = m.rank_scores(m.evidence_ranking(answer.passages, case.evidence, k), m.evidence_ids(case.evidence), k)
        recall, row.missed_facts = m.fact_recall(answer.answer, case.facts)
        scores.update(
            doc_hit=docs.hit, doc_recall=docs.recall, doc_mrr=docs.mrr, doc_ndcg=docs.ndcg,
            passage_hit=ev.hit, passage_recall=ev.recall, passage_mrr=ev.mrr, passage_ndcg=ev.ndcg,
            context_precision=m.context_precision(relevance), fact_recall=recall,
            citation_source_precision=m.citation_source_precision(answer, case.sources),
        )
    scores.update(citation_validity=m.citation_validity(answer), quote_check=m.quote_check(answer))
    row.metrics = scores


def verdict(row: CaseResult) -> tuple[bool, list[str]]:
    """Whether the case passes, and why not (see the module docstring)."""
    if row.error:
        return False, [f"error: {row.error}"]
    reasons: list[str] = []
    if row.judge_error:
        reasons.append(f"judge error: {row.judge_error}")
    if not row.answerable:
        if not row.refused:
            reasons.append("answered an unanswerable question")
        return not reasons, reasons
    if row.refused:
        return False, reasons + ["refused an answerable question"]
    if row.missed_facts:
        reasons.append(f"missed {len(row.missed_facts)}/{len(row.facts)} facts")
    if not row.citations:
        reasons.append("no citation")
    validity, quotes = row.metrics.get("citation_validity"), row.metrics.get("quote_check")
    if validity is not None and validity < 1.0:
        reasons.append("invalid citation")
    if quotes is not None and quotes < 1.0:
        reasons.append("quote not verbatim at its span")
    return not reasons, reasons


Progress = Callable[[], None]


def run_system(
    name: str,
    chain: RagChain,
    cases: Mapping[str, Sequence[EvalCase]],
    *,
    k: int,
    judge: Judge | None = None,
    progress: Progress | None = None,
) -> list[CaseResult]:
    """Every case through ``chain.ask`` with its history; errors become error rows."""
    rows: list[CaseResult] = []
    for dataset, dataset_cases in cases.items():
        for case in dataset_cases:
            row = _row(name, dataset, case)
            try:
                answer = chain.ask(case.question, [t.model_dump() for t in case.history], k=k)
            except RagError as exc:
                row.error = redact(f"{type(exc).__name__}: {exc}")
            else:
                score_answer(row, case, answer, k, chain.model_name)
                if judge is not None and not answer.refused:
                    try:
                        row.judge = judge.grade(case.question, case.answer, answer)
                    except Exception as exc:  # any judge failure is recorded on the row, never skipped
                        row.judge_error = redact(str(exc) if isinstance(exc, RagError) else f"{type(exc).__name__}: {exc}")
                    if row.judge:
                        row.metrics.update(
                            faithfulness=row.judge.faithfulness, correctness=row.judge.correctness,
                            citation_recall=row.judge.citation_recall,
                            citation_precision=row.judge.citation_precision,
                        )
            rows.append(row)
            if progress:
                progress()
    return rows


def add_similarity(rows: Sequence[CaseResult], embeddings: Embeddings) -> None:
    """Answer similarity for every answered answerable row, embedded in one batch."""
    todo = [r for r in rows if r.answerable and r.error is None and r.response is not None]
    sims = m.answer_similarity(embeddings, [r.response or "" for r in todo], [r.reference for r in todo])
    for row, sim in zip(todo, sims, strict=True):
        row.metrics["answer_similarity"] = sim


def finish(rows: Sequence[CaseResult]) -> None:
    for row in rows:
        row.passed, row.fail_reasons = verdict(row)


# ---- totals --------------------------------------------------------------------------


class Totals(BaseModel):
    cases: int
    errors: int
    metrics: dict[str, float | None]
    counts: dict[str, int] = Field(description="How many cases each mean is over.")


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def aggregate(rows: Sequence[CaseResult], judged: bool) -> Totals:
    """Means of per-case metrics over the rows that have them, plus set-level metrics.

    1. Error rows count in ``cases``, ``errors``, error_rate and pass_rate (as
       failures) and nowhere else.
    2. Each per-case metric is the mean over the rows where it is defined
       (retrieval and answer metrics: answerable cases; citation metrics: cases with citations).
    3. Refusal metrics come from (refused, answerable) of all answered rows.
    4. Latency percentiles over answered rows; tokens summed when any row has
       usage; cost summed only when every row with usage has a price.
    5. With a judge: judge_error_rate = judge errors / rows sent to the judge.
    """
    ok = [r for r in rows if r.error is None]
    out: dict[str, float | None] = {
        "pass_rate": _mean([float(r.passed) for r in rows]),
        "error_rate": _mean([float(r.error is not None) for r in rows]),
    }
    counts: dict[str, int] = {"pass_rate": len(rows), "error_rate": len(rows)}
    per_case = [k for k in m.METRICS if any(k in r.metrics for r in ok)]
    for key in per_case:
        values = [v for r in ok if (v := r.metrics.get(key)) is not None]
        out[key] = _mean(values)
        counts[key] = len(values)
    out.update(m.refusal_scores([(bool(r.refused), r.answerable) for r in ok]))
    counts["refusal_precision"] = sum(bool(r.refused) for r in ok)
    counts["refusal_recall"] = sum(not r.answerable for r in ok)
    counts["over_refusal_rate"] = sum(r.answerable for r in ok)
    latencies = [r.latency_ms for r in ok if r.latency_ms is not None]
    counts["latency_p50_ms"] = counts["latency_p95_ms"] = len(latencies)
    out["latency_p50_ms"] = m.percentile(latencies, 50)
    out["latency_p95_ms"] = m.percentile(latencies, 95)
    used = [r for r in ok if r.usage is not None]
    out["input_tokens"] = float(sum(r.usage.input_tokens for r in used if r.usage)) if used else None
    out["output_tokens"] = float(sum(r.usage.output_tokens for r in used if r.usage)) if used else None
    costs = [r.cost_usd for r in used]
    out["cost_usd"] = sum(c for c in costs if c is not None) if used and None not in costs else None
    if judged:
        sent = [r for r in ok if r.judge is not None or r.judge_error is not None]
        out["judge_error_rate"] = _mean([float(r.judge_error is not None) for r in sent])
        counts["judge_error_rate"] = len(sent)
    ordered = {key: out.get(key) for key in m.METRICS if key in out}
    return Totals(cases=len(rows), errors=len(rows) - len(ok), metrics=ordered, counts=counts)


class SystemTotals(BaseModel):
    overall: Totals
    by_dataset: dict[str, Totals]


def totals_by_system(rows: Sequence[CaseResult], judged: bool) -> dict[str, SystemTotals]:
    systems = list(dict.fromkeys(r.system for r in rows))
    out: dict[str, SystemTotals] = {}
    for system in systems:
        mine = [r for r in rows if r.system == system]
        datasets = list(dict.fromkeys(r.dataset for r in mine))
        out[system] = SystemTotals(
            overall=aggregate(mine, judged),
            by_dataset={d: aggregate([r for r in mine if r.dataset == d], judged) for d in datasets},
        )
    return out


# ---- a whole run ---------------------------------------------------------------------


class ThresholdFailure(BaseModel):
    scope: str = Field(description="'overall' or a dataset name.")
    metric: str
    bound: Literal["min", "max"]
    threshold: float
    value: float | None


class EvalRun(BaseModel):
    """Everything report.json holds."""

    schema_version: int = 1
    created: str
    wall_time_s: float
    k: int
    settings: dict[str, Any]
    models: dict[str, str | None]
    datasets: list[DatasetInfo]
    systems: list[str]
    judged: bool
    totals: dict[str, SystemTotals]
    cases: list[CaseResult]
    thresholds_file: str | None = None
    threshold_failures: list[ThresholdFailure] = Field(default_factory=list)
    comparison: dict[str, Any] | None = None

    def rows(self, system: str = PIPELINE) -> list[CaseResult]:
        return [r for r in self.cases if r.system == system]


def settings_snapshot(settings: Settings) -> dict[str, Any]:
    """The settings that shape results, without secrets."""
    return redact_data(settings.model_dump(mode="json", exclude={"openai_api_key", "chroma_auth_token"}),
                       (settings.openai_api_key, settings.chroma_auth_token))


def build_systems(settings: Settings, baseline: bool) -> dict[str, RagChain]:
    """The app's chain (``build_chain``) and, when asked, the naive baseline.

    The pipeline's index is built from the seeds directory first if it is empty.
    """
    index = factory.open_store(settings)
    factory.ensure_ingested(index, settings)
    systems = {PIPELINE: factory.build_chain(settings, index)}
    if baseline:
        build_baseline = getattr(factory, "build_baseline_chain", None)
        if build_baseline is None:
            raise ConfigError(
                "this version has no naive baseline (rag.factory.build_baseline_chain); run without --baseline"
            )
        systems[BASELINE] = build_baseline(settings)
    return systems


def run_eval(
    systems: Mapping[str, RagChain],
    datasets: Sequence[DatasetInfo],
    cases: Mapping[str, Sequence[EvalCase]],
    *,
    settings: Settings,
    k: int,
    similarity: Embeddings,
    judge: Judge | None = None,
    progress: Progress | None = None,
) -> EvalRun:
    """Run every case through every system, score, total, and time the whole run."""
    started = time.perf_counter()
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    rows: list[CaseResult] = []
    for name, chain in systems.items():
        rows.extend(run_system(name, chain, cases, k=k, judge=judge, progress=progress))
    add_similarity(rows, similarity)
    finish(rows)
    pipeline = systems.get(PIPELINE) or next(iter(systems.values()))
    return EvalRun(
        created=created,
        wall_time_s=round(time.perf_counter() - started, 2),
        k=k,
        settings=settings_snapshot(settings),
        models={
            "chat_model": pipeline.model_name,
            "embedding_model": pipeline.embedding_model,
            "judge_model": judge.model if judge else None,
            "similarity_model": m.SIMILARITY_MODEL,
        },
        datasets=list(datasets),
        systems=list(systems),
        judged=judge is not None,
        totals=totals_by_system(rows, judge is not None),
        cases=rows,
    )
