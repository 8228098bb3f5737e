"""One case as one answerer answered it: the result row, its deterministic scores and its verdict.

What it does: ``CaseResult`` is one row of report.json (ragas-style column
names); ``score_answer`` fills it from an ``Answer`` and the case's gold
fields; ``verdict`` decides pass or fail. Metrics that need a gold field are
only computed when the case has it: passage metrics need evidence quotes,
date recall needs gold dates, conflict coverage needs conflict sides, script
match needs an expected script, filter compliance needs filters.

A case passes when it ran without error (and without a judge error) and:
unanswerable → the answer is a refusal; answerable → not refused, every gold
fact stated (fact recall 1.0), at least one citation, all citations valid and
all quotes verbatim at their spans. Judge scores are reported, not gated per case.

What it leaves out: running the chain (``runner.py``), totals (``totals.py``)
and the judge (``judge.py``).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from rag.evaluation import metrics as m
from rag.evaluation import ranking
from rag.evaluation.datasets import ConflictSide, EvalCase, Turn
from rag.evaluation.judge import JudgeResult
from rag.models import Answer, Citation, Language, Passage, Usage


class CaseResult(BaseModel):
    """One case as one system answered it, with its scores (ragas-style column names)."""

    system: str
    dataset: str
    id: str
    split: str | None = Field(None, description="dev or test (evals/splits.toml); None when not assigned.")
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
    reference_dates: list[list[str]] = Field(default_factory=list, description="Gold dates (surface forms).")
    conflict: list[ConflictSide] = Field(default_factory=list, description="Gold sides of a disagreement.")
    expected_script: str | None = None
    filters: dict[str, str] = Field(default_factory=dict)
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


def new_row(system: str, dataset: str, case: EvalCase, split: str | None) -> CaseResult:
    return CaseResult(
        system=system, dataset=dataset, id=case.id, split=split, tags=case.tags, user_input=case.question,
        history=case.history, reference=case.answer, answerable=case.answerable, language=case.language,
        reference_doc_ids=case.sources, reference_contexts=case.evidence, facts=case.facts,
        reference_dates=case.dates, conflict=case.conflict, expected_script=case.script, filters=case.filters,
    )


def filter_compliance(passages: list[Passage], filters: dict[str, str]) -> float:
    """1.0 when every retrieved passage satisfies the case's filters, else 0.0.

    1. outlet: the passage's outlet equals it; lang: the passage's language equals it.
    2. since / until (ISO dates): the passage's published date is present and
       not before / not after it (an undated article fails a date filter).
    3. No passages at all complies (the filter left nothing, which is allowed).
    """
    def ok(p: Passage) -> bool:
        if "outlet" in filters and p.outlet != filters["outlet"]:
            return False
        if "lang" in filters and p.language != filters["lang"]:
            return False
        if ("since" in filters or "until" in filters) and not p.published:
            return False
        published = (p.published or "")[:10]
        return not (("since" in filters and published < filters["since"])
                    or ("until" in filters and published > filters["until"]))

    return float(all(ok(p) for p in passages))


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
    row.retrieved_doc_ids = ranking.doc_ranking(answer.passages, k)
    row.latency_ms = answer.timings_ms.get("total")
    row.usage = answer.usage
    row.cost_usd = m.estimate_cost(model, answer.usage)
    scores: dict[str, float | None] = {"language_match": float(row.response_language == case.language)}
    if case.script:
        scores["script_match"] = m.script_match(answer.answer, case.script)
    if case.filters:
        scores["filter_compliance"] = filter_compliance(answer.passages[:k], case.filters)
    if case.answerable:
        docs = ranking.rank_scores(row.retrieved_doc_ids, case.sources, k)
        recall, row.missed_facts = m.fact_recall(answer.answer, case.facts)
        scores.update(
            doc_hit=docs.hit, doc_recall=docs.recall, doc_mrr=docs.mrr, doc_ndcg=docs.ndcg, fact_recall=recall,
            citation_source_precision=m.citation_source_precision(answer, case.sources),
        )
        if case.evidence:  # passage metrics need evidence quotes; a facts-only case skips them
            relevance = ranking.passage_relevance(answer.passages, case.evidence, k)
            row.relevant_passages = [p.n for p, rel in zip(answer.passages, relevance, strict=False) if rel]
            ranked = ranking.evidence_ranking(answer.passages, case.evidence, k)
            ev = ranking.rank_scores(ranked, ranking.evidence_ids(case.evidence), k)
            scores.update(passage_hit=ev.hit, passage_recall=ev.recall, passage_mrr=ev.mrr, passage_ndcg=ev.ndcg,
                          context_precision=ranking.context_precision(relevance))
        if case.dates:
            scores["date_recall"] = m.fact_recall(answer.answer, case.dates)[0]
        if case.conflict:
            scores["conflict_coverage"] = m.conflict_covered(answer, [(s.forms, s.evidence) for s in case.conflict])
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
