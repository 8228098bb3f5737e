"""The registry of every number an eval run reports: its label, one-line meaning and direction.

Keys are the names used in report.json, thresholds.toml, --compare and the
app's Eval results page; ``evals/README.md`` lists the same names and
definitions. What it leaves out: computing any of them (``metrics.py``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricInfo:
    label: str
    meaning: str
    higher_is_better: bool = True
    kind: str = "ratio"  # ratio | ms | s | count | usd


# Every number the totals carry, in report order. Keys are the names used in
# report.json, thresholds.toml and --compare.
METRICS: dict[str, MetricInfo] = {
    "pass_rate": MetricInfo("pass rate", "share of cases that pass (see README: 'when a case passes')"),
    "error_rate": MetricInfo("error rate", "share of cases where the chain raised an error", False),
    "doc_hit": MetricInfo("doc hit@k", "a gold source document is among the top-k passages' documents"),
    "doc_recall": MetricInfo("doc recall@k", "share of gold source documents among the top-k passages' documents"),
    "doc_mrr": MetricInfo("doc MRR@k", "1 / rank of the first gold document (documents deduplicated)"),
    "doc_ndcg": MetricInfo("doc nDCG@k", "nDCG of the deduplicated document ranking, binary gain"),
    "passage_hit": MetricInfo("passage hit@k", "a top-k passage contains an evidence quote"),
    "passage_recall": MetricInfo("passage recall@k", "share of evidence quotes contained in the top-k passages"),
    "passage_mrr": MetricInfo("passage MRR@k", "1 / rank of the first passage containing an evidence quote"),
    "passage_ndcg": MetricInfo("passage nDCG@k", "nDCG of the evidence found, each quote counted once"),
    "context_precision": MetricInfo(
        "context precision@k", "RAGAS context precision: relevant passages ranked high (mean precision@i)"
    ),
    "fact_recall": MetricInfo(
        "fact recall", "share of gold facts stated in the answer (any surface form; numbers by value, either script)"
    ),
    "date_recall": MetricInfo("date recall", "share of gold dates stated in the answer, on cases with a gold date"),
    "conflict_coverage": MetricInfo(
        "conflict coverage", "conflict cases whose answer states every side and cites a sentence stating each"
    ),
    "script_match": MetricInfo(
        "script match", "the answer is written in the Chinese script (Simplified/Traditional) the case expects"
    ),
    "answer_similarity": MetricInfo("answer similarity", "cosine of e5 embeddings of answer and gold answer"),
    "language_match": MetricInfo("language match", "the answer's own text is in the question's language"),
    "filter_compliance": MetricInfo(
        "filter compliance", "filtered cases whose retrieved passages all match the outlet, language and dates asked"
    ),
    "citation_validity": MetricInfo("citation validity", "share of citations/markers that resolve to a passage"),
    "citation_source_precision": MetricInfo(
        "citation source precision", "share of cited documents that are gold sources"
    ),
    "quote_check": MetricInfo("quote check", "share of citation quotes found verbatim at their span"),
    "refusal_precision": MetricInfo("refusal precision", "share of refusals that were on unanswerable cases"),
    "refusal_recall": MetricInfo("refusal recall", "share of unanswerable cases that were refused"),
    "over_refusal_rate": MetricInfo("over-refusal rate", "share of answerable cases that were refused", False),
    "seconds_per_question": MetricInfo("seconds per question", "mean of timings_ms['total'] in seconds", False, "s"),
    "latency_p50_ms": MetricInfo("latency p50", "median of timings_ms['total']", False, "ms"),
    "latency_p95_ms": MetricInfo("latency p95", "95th percentile of timings_ms['total']", False, "ms"),
    "input_tokens": MetricInfo("input tokens", "sum over cases, when the model reports usage", False, "count"),
    "output_tokens": MetricInfo("output tokens", "sum over cases, when the model reports usage", False, "count"),
    "cost_usd": MetricInfo("est. cost (USD)", "tokens × the price table; empty when a price is unknown", False, "usd"),
    "faithfulness": MetricInfo("faithfulness (judge)", "share of answer claims supported by the cited passages"),
    "correctness": MetricInfo("correctness (judge)", "judge's 0–1 grade of the answer against the gold answer"),
    "citation_recall": MetricInfo("citation recall (ALCE, judge)", "share of claims their own citations support"),
    "citation_precision": MetricInfo(
        "citation precision (ALCE, judge)", "share of citations that support their claim on their own"
    ),
    "judge_error_rate": MetricInfo("judge error rate", "share of judged cases whose judge call failed", False),
}
